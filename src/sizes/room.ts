/**
 * Whether a repository has room for a key (Limit.hs `repoHasSpace`): a
 * repository that already has the key only must not be over its maximum
 * size; any other must stay within it once the key is added. In numbers
 * (the preferred content language's sizes) or bigints (live sizes).
 */
export function repoHasSpace(
  keySize: number,
  inRepo: boolean,
  repoSize: number,
  maxSize: number,
): boolean;
export function repoHasSpace(
  keySize: bigint,
  inRepo: boolean,
  repoSize: bigint,
  maxSize: bigint,
): boolean;
export function repoHasSpace(
  keySize: number | bigint,
  inRepo: boolean,
  repoSize: number | bigint,
  maxSize: number | bigint,
): boolean {
  if (inRepo) return repoSize <= maxSize;
  return typeof repoSize === "bigint"
    ? repoSize + (keySize as bigint) <= maxSize
    : repoSize + (keySize as number) <= maxSize;
}
