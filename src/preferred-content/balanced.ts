/**
 * Balanced placement (Annex/Balanced.hs, Limit.hs): a key's place in a
 * group is HMAC-SHA256 of the key's text, keyed with the concatenation of
 * all the group's UUIDs in ascending byte order, read as a big unsigned
 * integer N; of the M candidate members (ascending), the repository at
 * N mod M is picked, then the next ones when more copies are wanted.
 */
import { createHmac } from "node:crypto";
import { byteOrder, repoHasSpace } from "./deps.js";

/** Picks `count` of `candidates` (sorted ascending) for a key, given the group's secret. */
export type BalancedPicker = (
  candidates: readonly string[],
  keyText: string,
  count: number,
) => string[];

/** The picker of a group whose members (every UUID ever picked among) are `members`. */
export function balancedPicker(members: Iterable<string>): BalancedPicker {
  const secret = Buffer.from([...new Set(members)].sort(byteOrder).join(""), "utf8");
  // The same key is usually asked about for each member in turn: keep its number.
  let lastKey: string | null = null;
  let lastN = 0n;
  return (candidates, keyText, count) => {
    const m = BigInt(candidates.length);
    if (m === 0n || count <= 0) return [];
    if (keyText !== lastKey) {
      lastN = BigInt(`0x${createHmac("sha256", secret).update(keyText, "utf8").digest("hex")}`);
      lastKey = keyText;
    }
    const n = lastN;
    const picked: string[] = [];
    for (let i = 0; i < count; i++) picked.push(candidates[Number((n + BigInt(i)) % m)] as string);
    return picked;
  };
}

export interface SizeFacts {
  readonly maxSizes: ReadonlyMap<string, number>;
  readonly repoSizes: ReadonlyMap<string, number>;
}

/**
 * The `count` candidates with the most free space in proportion to their
 * maximum size, among those with a known maximum size and room for the
 * key (Limit.hs `filterCandidatesFullySizeBalanced`). Ties go to the
 * larger UUID, as git-annex's reversed stable sort gives.
 */
export function sizeBalancedCandidates(
  sizes: SizeFacts,
  count: number,
  keySize: number,
  inRepo: (uuid: string) => boolean,
  candidates: readonly string[],
): string[] {
  const scored: [string, number][] = [];
  for (const u of candidates) {
    const max = sizes.maxSizes.get(u);
    if (max === undefined) continue;
    const size = sizes.repoSizes.get(u) ?? 0;
    const here = inRepo(u);
    if (!repoHasSpace(keySize, here, size, max) || !(max > 0)) continue;
    scored.push([u, (max - size + (here ? keySize : 0)) / max]);
  }
  const sorted = scored.map((s, i) => ({ s, i })).sort((a, b) => a.s[1] - b.s[1] || a.i - b.i);
  return sorted
    .reverse()
    .slice(0, Math.max(0, count))
    .map((x) => x.s[0])
    .sort(byteOrder);
}
