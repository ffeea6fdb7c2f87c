/**
 * The commands of git-annex's sim language as data: one member of
 * {@link SimCommand} per constructor of git-annex 10.20250416's
 * `SimCommand` (Annex/Sim.hs), one of {@link SimAction} per `SimAction`,
 * one of {@link Connections} per `Connections`. Each `kind` is the word a
 * sim file uses for it, so a reader of a sim file finds its command here.
 *
 * Number choices, so that nothing is lost between a file and this tree:
 * - sizes are `bigint` bytes: git-annex's `ByteSize` is an unbounded
 *   Integer, and real sizes pass 2^53 ("1 QB" is 10^30 bytes; "1e400"
 *   reads as 2^1024).
 * - counts and seeds are `bigint` too, already wrapped to 64 bits as
 *   GHC's `Int` reads them: a seed that `git annex sim show` records is
 *   any 64-bit integer, and the engine must see it exactly to draw the
 *   same random numbers. Convert a count with `Number()` where it is used.
 *
 * Names of repositories, remotes, groups and files are strings as the sim
 * file spells them; expressions are kept unparsed, as git-annex keeps them
 * until the command runs.
 */
import type { TrustLevel } from "../branch/index.js";

export type { TrustLevel };

/** A simulated repository's name (git-annex's `RepoName`). */
export type RepoName = string;

/** A remote's name as a repository knows it (git-annex's `RemoteName`). */
export type RemoteName = string;

/** A 64-bit signed integer (GHC's `Int`), as read: within [-2^63, 2^63). */
export type Int64 = bigint;

/**
 * Who gets a remote for whom, as written after `connect`/`disconnect`.
 * The first three end a chain; the last three continue one, and their
 * right side is the leftmost name of `next` (not `then`, a name the linter
 * keeps for promises).
 *
 * @example
 * // "foo -> bar <-> baz"
 * { kind: "=>", repo: "foo", next: { kind: "<->", repo1: "bar", repo2: "baz" } }
 */
export type Connections =
  /** `repo -> remote`: repo gets a remote named after the other. */
  | { readonly kind: "->"; readonly repo: RepoName; readonly remote: RemoteName }
  /** `remote <- repo`: repo (on the right) gets a remote named after the left. */
  | { readonly kind: "<-"; readonly remote: RemoteName; readonly repo: RepoName }
  /** `repo1 <-> repo2`: each gets a remote for the other. */
  | { readonly kind: "<->"; readonly repo1: RepoName; readonly repo2: RepoName }
  /** `repo -> …`: repo gets a remote for the leftmost name of `next`. */
  | { readonly kind: "=>"; readonly repo: RepoName; readonly next: Connections }
  /** `remote <- …`: the leftmost repository of `next` gets a remote named `remote`. */
  | { readonly kind: "<="; readonly remote: RemoteName; readonly next: Connections }
  /** `repo <-> …`: both ways between repo and the leftmost name of `next`. */
  | { readonly kind: "<=>"; readonly repo: RepoName; readonly next: Connections };

/** The actions of `action REPO WHAT REMOTE` that name a remote. */
export type RemoteActionKind =
  | "pull"
  | "push"
  | "sync"
  | "getwanted"
  | "sendwanted"
  | "gitpush"
  | "gitpull";

/** The action words a sim file may use after `action REPO`, in git-annex's order of matching. */
export const REMOTE_ACTION_KINDS: readonly RemoteActionKind[] = [
  "pull",
  "push",
  "sync",
  "getwanted",
  "sendwanted",
  "gitpush",
  "gitpull",
];

/**
 * One simulated action. `dropunwanted` with a remote is written
 * `dropunwantedfrom REMOTE`; without one, `dropunwanted` (drop from the
 * repository itself), as git-annex's `ActionDropUnwanted REPO (Maybe REMOTE)`.
 * `while` runs its two actions concurrently; parsing nests it to the right.
 */
export type SimAction =
  | { readonly kind: RemoteActionKind; readonly repo: RepoName; readonly remote: RemoteName }
  | { readonly kind: "dropunwanted"; readonly repo: RepoName; readonly remote: RemoteName | null }
  | { readonly kind: "while"; readonly first: SimAction; readonly second: SimAction };

/** One line of a sim file, or one `git annex sim …` command. */
export type SimCommand =
  | { readonly kind: "init"; readonly repo: RepoName }
  | { readonly kind: "initremote"; readonly repo: RepoName }
  /** `use REPO WHAT…`: WHAT is the rest of the line, words joined by one space ("" when absent). */
  | { readonly kind: "use"; readonly repo: RepoName; readonly what: string }
  | { readonly kind: "connect"; readonly connections: Connections }
  | { readonly kind: "disconnect"; readonly connections: Connections }
  | { readonly kind: "addtree"; readonly repo: RepoName; readonly expression: string }
  | {
      readonly kind: "add";
      readonly file: string;
      readonly size: bigint;
      readonly repos: readonly RepoName[];
    }
  | {
      readonly kind: "addmulti";
      readonly count: Int64;
      readonly suffix: string;
      readonly minSize: bigint;
      readonly maxSize: bigint;
      readonly repos: readonly RepoName[];
    }
  | { readonly kind: "step"; readonly steps: Int64 }
  | { readonly kind: "stepstable"; readonly steps: Int64 }
  | { readonly kind: "action"; readonly action: SimAction }
  | { readonly kind: "seed"; readonly seed: Int64 }
  | { readonly kind: "present"; readonly repo: RepoName; readonly file: string }
  | { readonly kind: "notpresent"; readonly repo: RepoName; readonly file: string }
  | { readonly kind: "numcopies"; readonly copies: Int64 }
  | { readonly kind: "mincopies"; readonly copies: Int64 }
  | { readonly kind: "trustlevel"; readonly repo: RepoName; readonly level: TrustLevel }
  | { readonly kind: "group"; readonly repo: RepoName; readonly group: string }
  | { readonly kind: "ungroup"; readonly repo: RepoName; readonly group: string }
  /** `metadata FILE CHANGE`: CHANGE as `git annex metadata --set`-style text, e.g. "author=me". */
  | { readonly kind: "metadata"; readonly file: string; readonly change: string }
  | { readonly kind: "wanted"; readonly repo: RepoName; readonly expression: string }
  | { readonly kind: "required"; readonly repo: RepoName; readonly expression: string }
  | { readonly kind: "groupwanted"; readonly group: string; readonly expression: string }
  /** The terms to draw from, one word each. */
  | { readonly kind: "randomwanted"; readonly repo: RepoName; readonly terms: readonly string[] }
  | { readonly kind: "randomrequired"; readonly repo: RepoName; readonly terms: readonly string[] }
  | {
      readonly kind: "randomgroupwanted";
      readonly group: string;
      readonly terms: readonly string[];
    }
  | { readonly kind: "maxsize"; readonly repo: RepoName; readonly size: bigint }
  | { readonly kind: "rebalance"; readonly on: boolean }
  /** `clusternode NODE REPO`: NODE is the node's name in the cluster REPO. */
  | { readonly kind: "clusternode"; readonly node: RepoName; readonly repo: RepoName }
  /** `visit REPO COMMAND…`: the command's words (none: a shell). */
  | { readonly kind: "visit"; readonly repo: RepoName; readonly command: readonly string[] }
  /** A line starting with "#" or "--"; `text` is the whole line, kept as written. */
  | { readonly kind: "comment"; readonly text: string }
  /** A line of nothing but white space. */
  | { readonly kind: "blank" };

/** The word that starts each command (comments and blank lines have none). */
export type SimCommandKind = SimCommand["kind"];

/**
 * The repository on the left of a connection chain (git-annex's
 * `leftSideOfConnection`); a remote name there is taken as a repository name.
 */
export function leftSideOfConnection(c: Connections): RepoName {
  switch (c.kind) {
    case "->":
    case "=>":
    case "<=>":
      return c.repo;
    case "<-":
    case "<=":
      return c.remote;
    case "<->":
      return c.repo1;
  }
}

/** One remote a connection gives a repository, and what of the chain is left. */
export interface ConnectionStep {
  readonly repo: RepoName;
  readonly remote: RemoteName;
  readonly rest: Connections | null;
}

/**
 * The first remote a chain gives (git-annex's `getConnection`): which
 * repository gets a remote of which name, and the connections left to
 * make after it. `a <-> b` gives a a remote b, then `b -> a`.
 *
 * Mirrored as git-annex 10.20250416 has it, quirk included: after
 * `a <-> …` (a chain) the rest is `a -> …` again, so in `a <-> b <-> c`
 * b never gets a remote a. An engine that must agree with stock keeps it.
 * Likewise stock's `disconnect` removes every remote of a chain but the
 * last one (it keeps the state from before that step): `disconnect foo ->
 * bar` alone changes nothing, and foo still gets files from bar.
 */
export function firstConnection(c: Connections): ConnectionStep {
  switch (c.kind) {
    case "->":
    case "<-":
      return { repo: c.repo, remote: c.remote, rest: null };
    case "<->":
      return {
        repo: c.repo1,
        remote: c.repo2,
        rest: { kind: "->", repo: c.repo2, remote: c.repo1 },
      };
    case "=>":
      return { repo: c.repo, remote: leftSideOfConnection(c.next), rest: c.next };
    case "<=":
      return { repo: leftSideOfConnection(c.next), remote: c.remote, rest: c.next };
    case "<=>":
      return {
        repo: c.repo,
        remote: leftSideOfConnection(c.next),
        rest: { kind: "=>", repo: c.repo, next: c.next },
      };
  }
}
