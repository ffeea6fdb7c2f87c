/**
 * export.log (Logs/Export.hs, Logs/Export/Pure.hs): which tree each
 * repository exported to each export special remote, as a map log whose
 * field is "<from uuid>:<to uuid>" and whose value is the exported tree
 * followed by trees whose export began and did not finish:
 * "<clock> <from>:<to> <tree> [<incomplete tree> ...]". The newest line
 * per field wins (map-log.ts). When the repositories that exported to one
 * remote name different trees, the export is in conflict.
 *
 * An export is written in two steps, as git-annex writes it, so an
 * interrupted one can be cleaned up by the next: when it begins, the new
 * tree joins the incomplete trees of this repository's entry (and is
 * grafted into the branch, so every clone can fetch it); once the remote
 * holds no file of another tree, the new tree is the exported one.
 */
import type { AnnexBranch } from "../branch.js";
import { listRemoteBranches } from "../merge.js";
import { advanceClock, currentClock } from "./clock.js";
import { changeMapLog, formatMapLog, type LogEntry, parseMapLog, parseWords } from "./map-log.js";

/** The branch path of the export log. */
export const EXPORT_LOG = "export.log";
/** Where exported trees are grafted into the branch (Logs.hs `exportTreeGraftPoint`). */
export const EXPORT_TREE_GRAFT = "export.tree";

/** One field's value: the tree exported, and trees whose export was left unfinished. */
export interface ExportedTrees {
  readonly tree: string;
  readonly incomplete: readonly string[];
}

/** Who exported to whom (ExportParticipants). */
export interface ExportParticipants {
  readonly from: string;
  readonly to: string;
}

/** A ref word: git-annex's `takeWhile1 (/= ' ')`. */
function takeRef(s: string, at: number): { word: string; end: number } | null {
  const sp = s.indexOf(" ", at);
  const end = sp < 0 ? s.length : sp;
  return end > at ? { word: s.slice(at, end), end } : null;
}

function parseExported(value: string): ExportedTrees | null {
  const refs = parseWords(value, takeRef);
  if (refs === null || refs.length === 0) return null;
  const [tree, ...incomplete] = refs as [string, ...string[]];
  return { tree, incomplete };
}

function formatExported(e: ExportedTrees): string {
  return [e.tree, ...e.incomplete].join(" ");
}

/** "<from>:<to>", each part non-empty; the "to" part is everything after the first ":". */
function parseParticipants(field: string): ExportParticipants | null {
  const colon = field.indexOf(":");
  if (colon <= 0 || colon === field.length - 1) return null;
  return { from: field.slice(0, colon), to: field.slice(colon + 1) };
}

/** The log's current entries: participants and what they exported. */
export function parseExportLog(
  text: string,
): { readonly participants: ExportParticipants; readonly exported: ExportedTrees }[] {
  const out: { participants: ExportParticipants; exported: ExportedTrees }[] = [];
  for (const [field, entry] of parseMapLog(text, parseExported)) {
    const participants = parseParticipants(field);
    if (participants !== null) out.push({ participants, exported: entry.value });
  }
  return out;
}

/**
 * The trees exported to `remoteUuid` (Logs/Export.hs `getExport` then
 * `exportedTreeishes`), each once, in the order the log first names them.
 * More than one is an export conflict; none, no export yet.
 *
 * @example
 * exportedTreesOf("1s a:r t1\n2s b:r t2 t0\n", "r") // ["t1", "t2"]
 */
export function exportedTreesOf(text: string, remoteUuid: string): string[] {
  const trees: string[] = [];
  for (const { participants, exported } of parseExportLog(text)) {
    if (participants.to === remoteUuid && !trees.includes(exported.tree)) {
      trees.push(exported.tree);
    }
  }
  return trees;
}

/**
 * The export log as git-annex would read it after merging every other
 * git-annex branch the repository holds (`synced/git-annex` pushed by a
 * client, remotes' `git-annex`): the branch's own (journal over the
 * committed branch), then each other branch's lines, as a union merge
 * joins them; the newest line per field wins when it is parsed. So an
 * export pushed to the gateway counts before the gateway merges it.
 */
export async function readExportLog(branch: AnnexBranch): Promise<string> {
  const own = await branch.read(EXPORT_LOG);
  const refs = await listRemoteBranches(branch.git);
  if (refs.length === 0) return own;
  const input = `${refs.map((r) => `${r.sha}:${EXPORT_LOG}`).join("\n")}\n`;
  const out = await branch.git.run(["cat-file", "--batch"], { input });
  let text = own.endsWith("\n") || own === "" ? own : `${own}\n`;
  let at = 0;
  while (at < out.length) {
    const nl = out.indexOf(0x0a, at);
    if (nl < 0) break;
    const m = / blob (\d+)$/.exec(out.subarray(at, nl).toString("utf8"));
    if (m === null) {
      at = nl + 1; // "<name> missing": that branch has no export log
      continue;
    }
    const size = Number(m[1]);
    const blob = out.subarray(nl + 1, nl + 1 + size).toString("utf8");
    text += blob.endsWith("\n") || blob === "" ? blob : `${blob}\n`;
    at = nl + 1 + size + 1;
  }
  return text;
}

/**
 * Records that `here` begins exporting `tree` to `remote`
 * (Logs/Export.hs `recordExportBeginning`): `tree` joins the incomplete
 * trees of here's entry, whose exported tree stays (the empty tree
 * `emptyTree` when there was none), and is grafted into the branch. Call
 * before changing anything on the remote.
 */
export async function recordExportBeginning(
  branch: AnnexBranch,
  opts: { here: string; remote: string; tree: string; emptyTree: string },
): Promise<void> {
  await branch.rememberTree(opts.tree, EXPORT_TREE_GRAFT);
  const field = `${opts.here}:${opts.remote}`;
  await branch.change(EXPORT_LOG, (old) => {
    const log = parseMapLog(old, parseExported);
    const prev = log.get(field)?.value ?? { tree: opts.emptyTree, incomplete: [] };
    const incomplete = [...new Set([opts.tree, ...prev.incomplete])];
    const next = changeMapLog(log, field, { tree: prev.tree, incomplete }, currentClock());
    return formatMapLog(next, formatExported);
  });
}

/**
 * Records that the remote now holds `tree` and no file of another tree
 * (Logs/Export.hs `recordExportUnderway`): here's entry becomes `tree`
 * with nothing incomplete, and other repositories' entries for the
 * remote that named one of `oldTrees` move to `tree` too, so exporters
 * moving in lock-step are not in conflict.
 */
export async function recordExportUnderway(
  branch: AnnexBranch,
  opts: { here: string; remote: string; oldTrees: readonly string[]; tree: string },
): Promise<void> {
  await branch.change(EXPORT_LOG, (old) => {
    const clock = currentClock();
    const log = new Map<string, LogEntry<ExportedTrees>>(parseMapLog(old, parseExported));
    for (const [field, entry] of log) {
      const p = parseParticipants(field);
      if (p === null || p.from === opts.here || p.to !== opts.remote) continue;
      if (!opts.oldTrees.includes(entry.value.tree)) continue;
      log.set(field, {
        clock: advanceClock(clock, [entry.clock]),
        value: { ...entry.value, tree: opts.tree },
      });
    }
    const field = `${opts.here}:${opts.remote}`;
    const next = changeMapLog(log, field, { tree: opts.tree, incomplete: [] }, clock);
    return formatMapLog(next, formatExported);
  });
}
