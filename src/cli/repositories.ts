/**
 * Naming repositories the way git-annex does, for the commands:
 * descriptions from uuid.log with git remote names added (Remote.hs
 * `uuidDescriptions`, `nameToUUID`), and a progress display for a first
 * full computation of repository sizes.
 */
import { type AnnexBranch, readUuidDescriptions } from "../branch/index.js";
import { type Git, GitConfigValues } from "../git/index.js";
import { UsageError } from "./usage.js";

/** Repositories as the commands show them. */
export interface RepositoryNames {
  /** This repository's UUID ("" when it has none). */
  readonly here: string;
  /** UUID to description, remote names added as "desc [name]". */
  readonly descriptions: ReadonlyMap<string, string>;
  /** uuid.log alone (plus here), as git-annex's `uuidDescMap`. */
  readonly logged: ReadonlyMap<string, string>;
  /** Remote name to UUID. */
  readonly remotes: ReadonlyMap<string, string>;
}

async function remoteUuids(git: Git): Promise<Map<string, string>> {
  const config = await GitConfigValues.read(git).catch(() => new GitConfigValues(new Map()));
  const remotes = new Map<string, string>();
  for (const [key, uuid] of config.entries()) {
    const m = /^remote\.(.+)\.annex-uuid$/.exec(key);
    if (m !== null && uuid !== null && uuid !== "") remotes.set(m[1] ?? "", uuid);
  }
  return remotes;
}

/** "desc [name]", or "[name]" when there is no description or it is the name. */
export function addName(desc: string, name: string): string {
  return desc === name || desc === "" ? `[${name}]` : `${desc} [${name}]`;
}

/**
 * git-annex's `uuidDescriptions`: the logged descriptions with the names
 * of the git remotes (name, UUID) added; when remotes share a UUID the
 * last one names it.
 */
export function uuidDescriptions(
  logged: ReadonlyMap<string, string>,
  remotes: Iterable<readonly [string, string]>,
): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, uuid] of remotes) names.set(uuid, name);
  const out = new Map(logged);
  for (const [uuid, name] of names) {
    const d = logged.get(uuid);
    out.set(uuid, d === undefined ? name : addName(d, name));
  }
  return out;
}

/** Reads the names and descriptions of repositories. */
export async function repositoryNames(git: Git, branch: AnnexBranch): Promise<RepositoryNames> {
  const here = (await git.configGet("annex.uuid")) ?? "";
  const logged = await readUuidDescriptions(branch);
  if (here !== "" && !logged.has(here)) logged.set(here, "");
  const remotes = await remoteUuids(git);
  return { here, descriptions: uuidDescriptions(logged, remotes), logged, remotes };
}

/**
 * The UUID a command-line repository name stands for: "here" or ".", a
 * git remote's name, a description, or a known UUID (git-annex
 * `nameToUUID`).
 */
export function nameToUuid(names: RepositoryNames, name: string): string {
  if (name === "here" || name === ".") {
    if (names.here === "") throw new UsageError("this repository has no annex.uuid");
    return names.here;
  }
  const remote = names.remotes.get(name);
  if (remote !== undefined) return remote;
  const described = [...names.logged].filter(([, d]) => d === name).map(([u]) => u);
  if (described.length > 1) {
    throw new UsageError(
      "found multiple repositories with that description (use the uuid instead to disambiguate)",
    );
  }
  if (described[0] !== undefined) return described[0];
  if (names.logged.has(name)) return name;
  throw new UsageError(`there is no available git remote named ${JSON.stringify(name)}`);
}

/** How a repository is shown in a list: "uuid -- description [here]". */
export function describe(names: RepositoryNames, uuid: string): string {
  const n = names.descriptions.get(uuid) ?? "";
  const isHere = uuid === names.here;
  const d = isHere ? (n === "" ? "here" : addName(n, "here")) : n;
  return d === "" ? uuid : `${uuid} -- ${d}`;
}

/** One repository in a JSON list, with git-annex's field names. */
export function jsonRepository(
  names: RepositoryNames,
  uuid: string,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    description: names.descriptions.get(uuid) ?? "",
    here: uuid === names.here,
    ...extra,
    uuid,
  };
}

/**
 * Shows on stderr how far a full computation of repository sizes has
 * got: a line rewritten in place on a terminal, else a line now and then.
 */
export function sizesProgress(stream: NodeJS.WriteStream = process.stderr): {
  onFullComputation: () => void;
  onProgress: (n: number) => void;
  done: () => void;
} {
  const tty = stream.isTTY === true;
  let started = false;
  let last = 0;
  let shown = false;
  const interval = tty ? 200 : 10_000;
  return {
    onFullComputation: () => {
      started = true;
      last = Date.now();
    },
    onProgress: (n) => {
      if (!started) return;
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      const msg = `calculating repository sizes: ${n} location logs read`;
      stream.write(tty ? `\r${msg}` : `(${msg})\n`);
      shown = true;
    },
    done: () => {
      if (tty && shown) stream.write("\r\x1b[K");
    },
  };
}
