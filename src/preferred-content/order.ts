/** Orders strings by their UTF-8 bytes, as git-annex's sets of UUIDs and groups are ordered. */
export function byteOrderCompare(a: string, b: string): number {
  if (a === b) return 0;
  // ASCII strings (UUIDs nearly always are) order the same by code unit.
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
