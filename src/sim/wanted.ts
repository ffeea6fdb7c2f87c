/**
 * The preferred content questions of the sim (Annex/Wanted.hs `wantGet`,
 * `wantGetBy`, `wantDrop`), answered by the gateway's own evaluator over
 * a Policy per simulated repository: each repository evaluates with its
 * own view of locations and sizes, as git-annex runs each question inside
 * that repository's clone.
 *
 * Two facts of stock's simulated clones shape the answers:
 * - they never hold content, so "present" about the asking repository
 *   itself is false (git-annex checks its object store, not its log);
 * - balanced preferred content sizes a repository by the live size
 *   offsets of the asking repository's view (Sim.hs
 *   `updateLiveSizeChanges`), and every known repository has a size.
 */
import type { Key } from "../keys/index.js";
import {
  type KeyState,
  Policy,
  type PolicySnapshot,
  wantsKey,
} from "../preferred-content/index.js";
import type { SimState } from "./state.js";
import type { LocationView } from "./views.js";

/** A view's live sizes as the size map preferred content reads, by UUID. */
class ViewSizes implements ReadonlyMap<string, number> {
  constructor(
    readonly state: SimState,
    readonly view: LocationView,
  ) {}

  get size(): number {
    return this.state.repos.length;
  }

  get(uuid: string): number | undefined {
    const id = this.state.repoByUuid.get(uuid);
    return id === undefined ? undefined : (this.view.liveSizes[id] ?? 0);
  }

  has(uuid: string): boolean {
    return this.state.repoByUuid.has(uuid);
  }

  /** Iteration is rare (the evaluator only looks sizes up): it copies. */
  #copy(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.state.repos) m.set(r.uuid, this.view.liveSizes[r.id] ?? 0);
    return m;
  }

  entries(): MapIterator<[string, number]> {
    return this.#copy().entries();
  }

  keys(): MapIterator<string> {
    return this.#copy().keys();
  }

  values(): MapIterator<number> {
    return this.#copy().values();
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.#copy().entries();
  }

  forEach(fn: (value: number, key: string, map: ReadonlyMap<string, number>) => void): void {
    for (const [k, v] of this.#copy()) fn(v, k, this);
  }
}

function byUuid<T>(state: SimState, m: ReadonlyMap<number, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [id, v] of m) out.set(state.repo(id).uuid, v);
  return out;
}

/** The configuration every simulated repository shares, as a policy snapshot without sizes. */
function sharedSnapshot(state: SimState): Omit<PolicySnapshot, "repoSizes" | "hereUuid"> {
  return {
    groups: byUuid(state, state.groups),
    trust: byUuid(state, state.trust),
    preferred: byUuid(state, state.wanted),
    required: byUuid(state, state.required),
    groupPreferred: new Map(state.groupWanted),
    numcopies: state.numcopies,
    mincopies: state.mincopies,
    maxSizes: byUuid(state, state.maxSizes),
    rebalance: state.rebalance,
  };
}

/**
 * The path git-annex 10.20250416's sim matches a file's globs against when
 * it runs at the top of a non-bare repository: the file as seen from the
 * simulated repository's own directory, `.git/annex/sim/UUID`, four levels
 * down (it turns the name, relative to where the command runs, into a
 * path from that repository's top). So `include=*.mp3` matches
 * `music/a.mp3`, and `include=docs/*` matches nothing.
 */
export function stockMatchedPath(file: string): string {
  return `../../../../${file}`;
}

/** Answers the sim's preferred content questions; rebuilds its policies when the configuration changes. */
export class Wanted {
  #version = -1;
  #policies: (Policy | undefined)[] = [];

  /**
   * `matchedPath` is the path preferred content sees for a sim file (see
   * SimOptions.matchedPath).
   */
  constructor(
    readonly state: SimState,
    readonly matchedPath: (file: string) => string = stockMatchedPath,
  ) {}

  /** The policy repository `view` evaluates with. */
  policyOf(view: number): Policy {
    const st = this.state;
    if (this.#version !== st.configVersion) {
      this.#policies = [];
      this.#version = st.configVersion;
    }
    let p = this.#policies[view];
    if (p === undefined) {
      const shared = sharedSnapshot(st);
      p = new Policy({
        ...shared,
        repoSizes: new ViewSizes(st, st.views.view(view)),
        hereUuid: st.repo(view).uuid,
      });
      this.#policies[view] = p;
    }
    return p;
  }

  #keyState(view: number, key: number): KeyState {
    const st = this.state;
    const locations = st.views.holders(view, key).map((r) => st.repo(r).uuid);
    // The metadata as this repository's clone holds it (it can lag behind the sim's).
    const metadata = st.metadata.currentHeld(view, key);
    return {
      locations,
      presentHere: false,
      ...(metadata === undefined ? {} : { metadata }),
    };
  }

  #ask(view: number, repo: number, key: number, file: string, dropping: boolean): boolean {
    const st = this.state;
    return wantsKey(this.policyOf(view), st.repo(repo).uuid, st.keys[key] as Key, {
      file: this.matchedPath(file),
      dropping,
      state: this.#keyState(view, key),
      default: false,
    });
  }

  /** wantGet in repository `view`: does it want `key` (for `file`)? */
  wantGet(view: number, key: number, file: string): boolean {
    return this.#ask(view, view, key, file, false);
  }

  /** wantGetBy, asked in repository `view`: does `repo` want `key`? */
  wantGetBy(view: number, repo: number, key: number, file: string): boolean {
    return this.#ask(view, repo, key, file, false);
  }

  /** wantDrop, asked in repository `view`: may `from` drop `key` (it does not want it)? */
  wantDrop(view: number, from: number, key: number, file: string): boolean {
    return !this.#ask(view, from, key, file, true);
  }
}
