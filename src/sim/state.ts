/**
 * The state of a simulation (Annex/Sim.hs `SimState`), with repositories
 * and keys numbered so that per-key facts live in typed arrays (views.ts)
 * rather than in maps of strings: a repository is its index in `repos`,
 * a key its index in `keys`.
 *
 * What git-annex keeps per repository (locations, live sizes) is in
 * `views`; everything else (groups, trust, expressions, numcopies,
 * maxsize, files) is one global configuration, as in git-annex's sim,
 * where every simulated repository gets the same configuration.
 */
import type { TrustLevel } from "../branch/index.js";
import { formatKey, type Key, parseKey } from "../keys/index.js";
import type { SimCommand } from "./commands.js";
import { SimMetaData } from "./metadata.js";
import { LocationViews } from "./views.js";

/** A simulated repository (or special remote). */
export interface SimRepo {
  readonly id: number;
  readonly name: string;
  readonly uuid: string;
  /** Made by `initremote` (or `use` of a special remote): git-annex cannot run in it. */
  readonly special: boolean;
}

/** A file of the simulation and the key it points to, in git-annex's file order. */
export interface SimFile {
  readonly name: string;
  readonly key: number;
}

/**
 * Compares strings as git-annex's maps order them: by code point (which
 * is also the byte order of their UTF-8), not by UTF-16 unit.
 */
export function codePointOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only surrogates (U+D800–DFFF) sort out of code point order among UTF-16 units.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs === ys) return x - y;
    return xs ? 1 : -1;
  }
  return a.length - b.length;
}

export class SimState {
  readonly repos: SimRepo[] = [];
  /** simRepos: repository names to ids. */
  readonly repoByName = new Map<string, number>();
  readonly repoByUuid = new Map<string, number>();
  /** simClusterNodes: a cluster node's name to the repository it is. */
  readonly clusterNodes = new Map<string, number>();
  /** simConnections: by repository id, the names of its remotes. */
  readonly connections: Set<string>[] = [];

  readonly keys: Key[] = [];
  readonly keyTexts: string[] = [];
  readonly keySizes: number[] = [];
  readonly #keyIds = new Map<string, number>();
  /** simFiles: file name to key id. */
  readonly files = new Map<string, number>();
  #sortedFiles: SimFile[] | null = null;

  readonly views = new LocationViews((k) => this.keySizes[k] ?? 0);

  /** simRng: the seed of the next draw (a 64-bit Int). */
  seed: bigint;
  /** simVectorClock. */
  clock = 0;
  failed = false;
  /** simHistory, oldest first (git-annex conses it and reverses it to show). */
  readonly history: SimCommand[] = [];

  readonly trust = new Map<number, TrustLevel>();
  numcopies = 1;
  mincopies = 1;
  readonly groups = new Map<number, Set<string>>();
  readonly metadata = new SimMetaData();
  readonly wanted = new Map<number, string>();
  readonly required = new Map<number, string>();
  readonly groupWanted = new Map<string, string>();
  readonly maxSizes = new Map<number, number>();
  rebalance = false;
  /** Bumped whenever something preferred content reads (other than locations) changes. */
  configVersion = 0;

  constructor(seed: bigint) {
    this.seed = seed;
  }

  /** addRepo: a new repository with no remotes, semitrusted, in no group. */
  addRepo(name: string, uuid: string, special: boolean): SimRepo {
    const repo: SimRepo = { id: this.repos.length, name, uuid, special };
    this.repos.push(repo);
    this.repoByName.set(name, repo.id);
    this.repoByUuid.set(uuid, repo.id);
    this.connections.push(new Set());
    this.views.addView();
    this.groups.set(repo.id, new Set());
    this.trust.set(repo.id, "semitrusted");
    this.metadata.addRepo();
    this.configVersion += 1;
    return repo;
  }

  /**
   * Sim.hs `updateSimRepos`, where git-annex brings every simulated
   * repository's clone up to date with the sim (at a visit, at each
   * per-file action, when a started sim is suspended). Of what the clones
   * hold only metadata can lag behind the sim (see metadata.ts), so only
   * it is tracked; a visit writes the rest as the sim has it.
   */
  updateRepos(): void {
    this.metadata.updateRepos();
  }

  repo(id: number): SimRepo {
    const r = this.repos[id];
    if (r === undefined) throw new RangeError(`no repository ${id}`);
    return r;
  }

  /** A repository or cluster node name to its id (checkKnownRepo's lookup), or undefined. */
  lookupRepo(name: string): number | undefined {
    return this.repoByName.get(name) ?? this.clusterNodes.get(name);
  }

  /** The id of `key`, new if the sim has not seen it. */
  addKey(key: Key): number {
    const text = formatKey(key);
    const known = this.#keyIds.get(text);
    if (known !== undefined) return known;
    const id = this.keys.length;
    this.#keyIds.set(text, id);
    this.keys.push(key);
    this.keyTexts.push(text);
    this.keySizes.push(key.size ?? 0);
    this.views.ensureKeys(this.keys.length);
    return id;
  }

  /** The id of the key of this text (a key from a real tree). */
  keyIdOf(text: string): number {
    return this.#keyIds.get(text) ?? this.addKey(parseKey(text));
  }

  setFile(name: string, key: number): void {
    if (this.files.get(name) !== key) {
      this.files.set(name, key);
      this.#sortedFiles = null;
    }
  }

  /** M.toList simFiles: every file with its key, in git-annex's order. */
  sortedFiles(): readonly SimFile[] {
    if (this.#sortedFiles === null) {
      const names = [...this.files.keys()].sort(codePointOrder);
      this.#sortedFiles = names.map((name) => ({ name, key: this.files.get(name) as number }));
    }
    return this.#sortedFiles;
  }

  /** M.toList simRepos: repository ids in name order. */
  reposByName(): number[] {
    return [...this.repoByName.entries()]
      .sort((a, b) => codePointOrder(a[0], b[0]))
      .map(([, id]) => id);
  }

  /**
   * Sim.hs `setPresentKey`: records in `viewOf`'s view that `repo` (known
   * there as `repoName`) has or lacks `key`; when `repoName` is a cluster
   * node's name for `repo`, every other repository with a remote of that
   * name learns it too, as a cluster gateway would tell them.
   */
  setPresentKey(
    present: boolean,
    repo: number,
    repoName: string,
    key: number,
    viewOf: number,
  ): void {
    this.views.setPresent(viewOf, repo, key, present, this.clock);
    if (this.clusterNodes.get(repoName) !== repo) return;
    for (let other = 0; other < this.connections.length; other++) {
      if (other === viewOf || !this.connections[other]?.has(repoName)) continue;
      this.views.setPresent(other, repo, key, present, this.clock);
    }
  }

  /** simHistory: records a command (an action's present/notpresent line, or an input line). */
  addHistory(command: SimCommand): void {
    this.history.push(command);
    this.views.record(() => {
      this.history.pop();
    });
  }

  /** Whether `view`'s records have `repo` holding `key` (`member` of getSimLocations). */
  has(view: number, repo: number, key: number): boolean {
    return this.views.has(view, repo, key);
  }
}
