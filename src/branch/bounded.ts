/**
 * Running async work over many items with a fixed number in flight: a
 * journal can hold tens of thousands of files, and opening them all at
 * once runs out of file descriptors (EMFILE).
 */

/** How many journal files are read or removed at once. */
export const JOURNAL_CONCURRENCY = 32;

/**
 * Calls `fn` on every item, at most `limit` at a time, and resolves when
 * all are done. The first failure rejects (after the calls in flight end);
 * no new call starts after it.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  const results = await Promise.allSettled(workers);
  const rejected = results.find((r) => r.status === "rejected");
  if (rejected !== undefined) throw (rejected as PromiseRejectedResult).reason;
}
