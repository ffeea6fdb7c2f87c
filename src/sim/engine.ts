/**
 * The simulation engine: applies sim commands to an in-memory
 * {@link SimState} as git-annex 10.20250416's `git annex sim` applies them
 * (Annex/Sim.hs `applySimCommand`), with no git repository per simulated
 * repository. What depends on a real repository is the caller's: `use`
 * through a hook, `addtree` and `visit` done around the engine
 * (addTreeTarget/applyAddTree, visitTarget/recordVisit).
 */
import { randomBytes } from "node:crypto";
import type { TrustLevel } from "../branch/index.js";
import { type ActionContext, runComponent } from "./actions.js";
import type { SimCommand } from "./commands.js";
import { actionComponents, knownRepo } from "./components.js";
import { CONFIGURE, checkExpressions, checkNewName } from "./configure.js";
import { SimError } from "./errors.js";
import { genSimKey, genSimUuid } from "./identity.js";
import type { SimObserver } from "./observer.js";
import { randomRInteger, simRandom } from "./random.js";
import { type SimRepo, SimState } from "./state.js";
import { handleStep } from "./step.js";
import { Wanted } from "./wanted.js";

/** A real repository's configuration, for `use NAME WHAT` (Sim.hs `SimRepoConfig`). */
export interface ExistingRepo {
  readonly uuid: string;
  readonly special: boolean;
  readonly groups: readonly string[];
  readonly trust: TrustLevel;
  readonly wanted?: string;
  readonly required?: string;
  /** The groupwanted expressions of its groups. */
  readonly groupWanted: ReadonlyMap<string, string>;
  readonly maxSize?: number;
}

/** A real repository's state, for a sim that starts from it (`--from REPO`). */
export interface RealState {
  /** Every repository it knows, named as the sim will name them. */
  readonly repos: readonly (ExistingRepo & { readonly name: string })[];
  readonly groupWanted: ReadonlyMap<string, string>;
  readonly numcopies: number;
  readonly mincopies: number;
  /** Who has a remote for whom (by the sim's names). */
  readonly connections: readonly { readonly repo: string; readonly remote: string }[];
  /** Its annexed files, and the UUIDs its location logs say hold each. */
  readonly files: readonly {
    readonly file: string;
    readonly key: string;
    readonly holders: readonly string[];
  }[];
}

export interface SimOptions {
  /** The first seed (simRng); a random one when absent, as git-annex draws one. */
  readonly seed?: bigint;
  /** Where git-annex's notes go ("Simulation has stabilized after 3 steps."). */
  readonly note?: (message: string) => void;
  /** `use`: the repository WHAT names, or why not. */
  readonly existingRepo?: (what: string) => ExistingRepo | { readonly error: string };
  /**
   * The path a sim file's globs are matched against (default: as
   * git-annex's sim sees it when run at the top of a non-bare repository,
   * wanted.ts stockMatchedPath).
   */
  readonly matchedPath?: (file: string) => string;
  /** Makes what is told of every change of a repository's content as it happens (sim report). */
  readonly observer?: (state: SimState) => SimObserver;
}

function randomSeed(): bigint {
  return randomBytes(8).readBigInt64LE(0);
}

export class Sim implements ActionContext {
  readonly state: SimState;
  readonly wanted: Wanted;
  readonly observer: SimObserver | undefined;
  readonly #options: SimOptions;

  constructor(options: SimOptions = {}) {
    this.#options = options;
    this.state = new SimState(options.seed ?? randomSeed());
    this.observer = options.observer?.(this.state);
    this.wanted = new Wanted(this.state, options.matchedPath);
  }

  note(message: string): void {
    this.#options.note?.(message);
  }

  /**
   * Starts a sim with these commands (Command/Sim.hs `startsim'`): the
   * log begins with the seed unless the first command sets one. `after`
   * is called after each command.
   */
  start(commands: readonly SimCommand[], after?: () => void): void {
    if (commands[0]?.kind !== "seed")
      this.state.history.push({ kind: "seed", seed: this.state.seed });
    for (const c of commands) {
      this.apply(c);
      after?.();
    }
  }

  /**
   * Starts a sim from a real repository's state instead of from nothing:
   * its repositories with their configuration, its connections, and its
   * files where its location logs put them, known alike to every
   * repository (as if all had synced). Commands follow with `apply`.
   */
  startFrom(real: RealState): void {
    const st = this.state;
    st.history.push({ kind: "seed", seed: st.seed });
    for (const r of real.repos) {
      checkNewName(st, r.name);
      const repo = st.addRepo(r.name, r.uuid, r.special);
      st.groups.set(repo.id, new Set(r.groups));
      st.trust.set(repo.id, r.trust);
      if (r.wanted !== undefined) st.wanted.set(repo.id, r.wanted);
      if (r.required !== undefined) st.required.set(repo.id, r.required);
      if (r.maxSize !== undefined) st.maxSizes.set(repo.id, r.maxSize);
    }
    for (const [g, e] of real.groupWanted) st.groupWanted.set(g, e);
    st.numcopies = real.numcopies;
    st.mincopies = real.mincopies;
    for (const c of real.connections) {
      st.connections[knownRepo(st, c.repo)]?.add(c.remote);
    }
    st.configVersion += 1;
    // One moment for every record (a record needs a clock of 1 or more).
    st.clock += 1;
    for (const f of real.files) {
      const id = st.keyIdOf(f.key);
      st.setFile(f.file, id);
      for (const uuid of f.holders) {
        const holder = st.repoByUuid.get(uuid);
        if (holder === undefined) continue;
        if (!st.has(holder, holder, id)) this.observer?.added(holder, id);
        for (const view of st.repos) st.views.setPresent(view.id, holder, id, true, st.clock);
      }
    }
  }

  /** Applies one command. Throws SimError where git-annex gives up. */
  apply(command: SimCommand): void {
    const st = this.state;
    switch (command.kind) {
      case "present":
      case "notpresent":
        this.#checkPresence(command.kind === "present", command.repo, command.file);
        return;
      case "visit":
        this.visitTarget(command);
        throw new SimError("a visit is run by the caller (Sim.visitTarget, then Sim.recordVisit)");
      case "addtree":
        this.addTreeTarget(command);
        throw new SimError(
          "addtree is read by the caller (Sim.addTreeTarget, then Sim.applyAddTree)",
        );
    }
    st.clock += 1;
    st.history.push(command);
    this.#applyCounted(command);
  }

  #applyCounted(command: SimCommand): void {
    const st = this.state;
    switch (command.kind) {
      case "init":
      case "initremote":
        this.#init(command.repo, command.kind === "initremote");
        return;
      case "use":
        this.#use(command.repo, command.what);
        return;
      case "add":
        this.#add(command.file, command.size, command.repos);
        return;
      case "addmulti":
        this.#addMulti(command);
        return;
      case "step":
      case "stepstable":
        handleStep(this, Number(command.steps), command.kind === "stepstable", (m) => this.note(m));
        return;
      case "action":
        for (const [group, file] of actionComponents(st, command.action))
          runComponent(this, group, file);
        return;
    }
    const configure = CONFIGURE[command.kind] as
      | ((st: SimState, c: SimCommand) => void)
      | undefined;
    if (configure === undefined) throw new SimError(`cannot apply ${command.kind}`);
    configure(st, command);
    st.configVersion += 1;
  }

  #init(name: string, special: boolean): SimRepo {
    const st = this.state;
    checkNewName(st, name);
    const [uuid, next] = genSimUuid(name, st.seed);
    st.seed = next;
    return st.addRepo(name, uuid, special);
  }

  #use(name: string, what: string): void {
    const st = this.state;
    const found = this.#options.existingRepo?.(what) ?? {
      error: "no repository is available to this simulation",
    };
    if ("error" in found) {
      throw new SimError(
        `Unable to use a repository "${name}" in the simulation because ${found.error}`,
      );
    }
    checkNewName(st, name);
    const repo = st.addRepo(name, found.uuid, found.special);
    st.groups.set(repo.id, new Set(found.groups));
    st.trust.set(repo.id, found.trust);
    if (found.wanted !== undefined) st.wanted.set(repo.id, found.wanted);
    if (found.required !== undefined) st.required.set(repo.id, found.required);
    for (const [g, e] of found.groupWanted) st.groupWanted.set(g, e);
    if (found.maxSize !== undefined) st.maxSizes.set(repo.id, found.maxSize);
    st.configVersion += 1;
  }

  /**
   * The repository an `addtree` adds to, once its expression is known to
   * parse; SimError (git-annex's message) otherwise. For callers that
   * find the files themselves (asynchronously) before applyAddTree.
   */
  addTreeTarget(c: SimCommand & { kind: "addtree" }): number {
    const u = knownRepo(this.state, c.repo);
    checkExpressions([c.expression]);
    return u;
  }

  /** Applies an `addtree` with the files the caller found for it (see addTreeTarget). */
  applyAddTree(
    c: SimCommand & { kind: "addtree" },
    files: readonly { readonly file: string; readonly key: string }[],
  ): void {
    const u = this.addTreeTarget(c);
    this.state.clock += 1;
    this.state.history.push(c);
    this.#addTreeFiles(u, c.repo, files);
  }

  #addTreeFiles(
    u: number,
    repoName: string,
    files: readonly { readonly file: string; readonly key: string }[],
  ): void {
    const st = this.state;
    for (const { file, key } of files) {
      const id = st.keyIdOf(key);
      st.setFile(file, id);
      this.#present(u, repoName, id);
    }
  }

  /** CommandAdd: a new key of this size, present in each repository named. */
  #add(file: string, size: bigint, repos: readonly string[]): void {
    const st = this.state;
    const [key, next] = genSimKey(size, st.seed);
    st.seed = next;
    const id = st.addKey(key);
    for (const name of repos) {
      const u = knownRepo(st, name);
      st.setFile(file, id);
      this.#present(u, name, id);
    }
  }

  /** A repository's own content gets a key (add, addmulti, addtree). */
  #present(u: number, name: string, key: number): void {
    const st = this.state;
    if (!st.has(u, u, key)) this.observer?.added(u, key);
    st.setPresentKey(true, u, name, key, u);
  }

  /** CommandAddMulti: files N…1, each with a size drawn in the range, then its key. */
  #addMulti(c: SimCommand & { kind: "addmulti" }): void {
    const st = this.state;
    // git-annex counts down to 0 and never stops for a count below 1; refuse it instead.
    if (c.count < 1n) throw new SimError("addmulti needs a number of files of at least 1");
    for (let n = c.count; n > 0n; n--) {
      const [size, next] = simRandom(st.seed, (g) => randomRInteger(g, c.minSize, c.maxSize));
      st.seed = next;
      this.#add(`${n}${c.suffix}`, size, c.repos);
    }
  }

  #checkPresence(present: boolean, repoName: string, file: string): void {
    const st = this.state;
    const u = knownRepo(st, repoName);
    const key = st.files.get(file);
    let problem: string | null = null;
    if (key === undefined) {
      const to = present ? "to be present" : "to not be present";
      problem = `Expected ${file} ${to} in ${repoName}, but the simulation does not include that file.`;
    } else if (st.has(u, u, key) !== present) {
      problem = present
        ? `Expected ${file} to be present in ${repoName}, but it is not.`
        : `Expected ${file} not to be present in ${repoName}, but it is present.`;
    }
    if (problem === null) return;
    this.note(problem);
    st.failed = true;
  }

  /** The repository a `visit` goes to; SimError for one the sim does not know. */
  visitTarget(c: SimCommand & { kind: "visit" }): SimRepo {
    return this.state.repo(knownRepo(this.state, c.repo));
  }

  /**
   * A visit that ran its command (or one replayed from a log, not run
   * again) goes in the log; one that only opened a shell does not.
   */
  recordVisit(c: SimCommand & { kind: "visit" }): void {
    this.visitTarget(c);
    if (c.command.length > 0) this.state.history.push(c);
  }
}
