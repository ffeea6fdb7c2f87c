/**
 * The per-file actions of the sim (Annex/Sim.hs `overFilesRemote`,
 * `simulateDropUnwanted`): getting a file a repository wants from a
 * remote, sending a remote a file it wants, dropping a file a repository
 * (or its remote) does not want when enough verified copies remain.
 *
 * git-annex makes one closure per file of an action; here an action is an
 * {@link ActionGroup} (what, who, and the files as they were when the
 * action was made) and a component is a group and a file's index in it,
 * so a step's hundreds of thousands of candidates cost a few bytes each.
 */
import type { SimObserver } from "./observer.js";
import type { SimFile, SimState } from "./state.js";
import type { Wanted } from "./wanted.js";

export type ActionGroup =
  | {
      readonly kind: "getwanted" | "sendwanted";
      /** The repository acting, and its name. */
      readonly repo: number;
      readonly repoName: string;
      /** The remote, and the name the acting repository knows it by. */
      readonly remote: number;
      readonly remoteName: string;
      readonly files: readonly SimFile[];
    }
  | {
      readonly kind: "dropunwanted";
      readonly repo: number;
      /** The repository dropping, and its name as the acting repository says it. */
      readonly from: number;
      readonly fromName: string;
      /** The repositories the acting repository has as remotes (they can lock content for it). */
      readonly remotes: ReadonlySet<number>;
      readonly files: readonly SimFile[];
    };

/** What running components needs: the state and the preferred content questions. */
export interface ActionContext {
  readonly state: SimState;
  readonly wanted: Wanted;
  readonly observer?: SimObserver | undefined;
}

/** Tells the observer of a change, and how to take it back with the rest of the action. */
function observe(ctx: ActionContext, tell: (o: SimObserver) => void): void {
  const o = ctx.observer;
  if (o === undefined) return;
  tell(o);
  ctx.state.views.record(() => o.undo());
}

/** Runs one component; true when it acted (transferred or dropped). */
export function runComponent(ctx: ActionContext, group: ActionGroup, index: number): boolean {
  // git-annex runs each in the acting repository's clone, brought up to date first.
  ctx.state.updateRepos();
  const file = group.files[index];
  if (file === undefined) return false;
  switch (group.kind) {
    case "getwanted":
      return getWanted(ctx, group, file);
    case "sendwanted":
      return sendWanted(ctx, group, file);
    case "dropunwanted":
      return dropUnwanted(ctx, group, file);
  }
}

type RemoteGroup = ActionGroup & { readonly kind: "getwanted" | "sendwanted" };
type DropGroup = ActionGroup & { readonly kind: "dropunwanted" };

function getWanted(ctx: ActionContext, g: RemoteGroup, f: SimFile): boolean {
  const st = ctx.state;
  const { repo: u, remote: r } = g;
  // The remote has it by our records and by its own, and we lack it.
  if (!st.has(u, r, f.key) || !st.has(r, r, f.key) || st.has(u, u, f.key)) return false;
  if (!ctx.wanted.wantGet(u, f.key, f.name)) return false;
  st.addHistory({ kind: "present", repo: g.repoName, file: f.name });
  st.setPresentKey(true, u, g.repoName, f.key, u);
  observe(ctx, (o) => o.transferred(r, u, f.key));
  return true;
}

function sendWanted(ctx: ActionContext, g: RemoteGroup, f: SimFile): boolean {
  const st = ctx.state;
  const { repo: u, remote: r } = g;
  // The remote lacks it by our records and by its own, and we have it.
  if (st.has(u, r, f.key) || st.has(r, r, f.key) || !st.has(u, u, f.key)) return false;
  if (!ctx.wanted.wantGetBy(u, r, f.key, f.name)) return false;
  st.addHistory({ kind: "present", repo: g.remoteName, file: f.name });
  // Sending updates the location log of both the sender and the remote.
  st.setPresentKey(true, r, g.remoteName, f.key, u);
  st.setPresentKey(true, r, g.remoteName, f.key, r);
  observe(ctx, (o) => o.transferred(u, r, f.key));
  return true;
}

function dropUnwanted(ctx: ActionContext, g: DropGroup, f: SimFile): boolean {
  const st = ctx.state;
  const { repo: u, from } = g;
  if (!st.has(u, from, f.key)) return false;
  if (!ctx.wanted.wantDrop(u, from, f.key, f.name)) return false;
  if (!safeToDrop(st, g, f.key)) return false;
  st.addHistory({ kind: "notpresent", repo: g.fromName, file: f.name });
  // The acting repository's records said so; the content goes only if it was there.
  if (st.has(from, from, f.key)) observe(ctx, (o) => o.dropped(from, f.key));
  st.setPresentKey(false, from, g.fromName, f.key, from);
  st.setPresentKey(false, from, g.fromName, f.key, u);
  return true;
}

/**
 * Sim.hs `checkdrop` with Types/NumCopies.hs `safeDropAnalysis` for a
 * drop not from the local repository: the other holders the acting
 * repository knows of count when their own records agree and they are
 * reachable (the acting repository or its remotes: a locked copy, or a
 * recently verified one for a special remote) or trusted. At least
 * numcopies of them, and mincopies of the locked or trusted ones.
 */
function safeToDrop(st: SimState, g: DropGroup, key: number): boolean {
  let copies = 0;
  let full = 0;
  for (const ru of st.views.holders(g.repo, key)) {
    if (ru === g.from || !st.has(ru, ru, key)) continue;
    if (g.remotes.has(ru) || ru === g.repo) {
      copies += 1;
      if (!st.repo(ru).special) full += 1;
    } else if (st.trust.get(ru) === "trusted") {
      copies += 1;
      full += 1;
    }
  }
  return copies >= st.numcopies && full >= st.mincopies;
}
