/**
 * Line-union merge, the way git-annex merges two versions of a file of
 * the git-annex branch (Git/UnionMerge.hs `calcMerge`): the sorted,
 * de-duplicated lines of all versions; when one version already is
 * exactly that, it is reused unchanged. Every log on the branch is built
 * so that this merge keeps its meaning (newest timestamp wins).
 */
import { byteOrder } from "./logs/presence.js";

function linesOf(content: string): string[] {
  if (content === "") return [];
  const lines = content.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function sortedUnique(lines: Iterable<string>): string[] {
  return [...new Set(lines)].sort(byteOrder);
}

/** The union merge of several versions of one branch file. */
export function unionMerge(versions: readonly string[]): string {
  const merged = sortedUnique(versions.flatMap(linesOf));
  for (const v of versions) {
    const own = sortedUnique(linesOf(v));
    if (own.length === merged.length && own.every((l, i) => l === merged[i])) return v;
  }
  return merged.map((l) => `${l}\n`).join("");
}

/** Whether every line of `part` is a line of `whole`. */
export function containsLines(whole: string, part: string): boolean {
  const have = new Set(linesOf(whole));
  return linesOf(part).every((l) => have.has(l));
}
