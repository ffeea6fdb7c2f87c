/** Gates for tests of concurrency tools: work that waits until a test opens it. */

/** A promise the test resolves when it chooses. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every promise already settled run its callbacks. */
export const tick = (): Promise<void> => new Promise<void>((r) => setImmediate(r));
