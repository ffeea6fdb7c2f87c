/**
 * The state preferred content is evaluated over: a snapshot of the
 * git-annex branch (groups, trust, expressions, numcopies, clusters) plus
 * what callers know about sizes, and the facts about the one key being
 * asked about. `Policy` is a snapshot made ready for many questions: the
 * group maps, balanced pickers and parsed expressions are built once.
 */
import {
  DEFAULT_MINCOPIES,
  DEFAULT_NUMCOPIES,
  type MetaData,
  type TrustLevel,
} from "../branch/index.js";
import { type BalancedPicker, balancedPicker } from "./balanced.js";
import { byteOrder } from "./deps.js";

export interface PolicySnapshot {
  /** Repository UUID to its groups (group.log). */
  readonly groups: ReadonlyMap<string, ReadonlySet<string>>;
  /** Logged trust levels (trust.log); a repository not listed is semitrusted. */
  readonly trust: ReadonlyMap<string, TrustLevel>;
  /** preferred-content.log, required-content.log, group-preferred-content.log. */
  readonly preferred: ReadonlyMap<string, string>;
  readonly required: ReadonlyMap<string, string>;
  readonly groupPreferred: ReadonlyMap<string, string>;
  /** numcopies.log / mincopies.log; undefined or null when never set (git-annex then uses 1). */
  readonly numcopies?: number | null;
  readonly mincopies?: number | null;
  /** Cluster node UUID to the UUIDs of the clusters it is in (cluster.log). */
  readonly clusters?: ReadonlyMap<string, ReadonlySet<string>>;
  /** maxsize.log, in bytes (0 means no limit for "too full" checks, as git-annex). */
  readonly maxSizes?: ReadonlyMap<string, number>;
  /** Current repository sizes in bytes, as the free-space work computes them. */
  readonly repoSizes?: ReadonlyMap<string, number>;
  /** `--rebalance` in effect. */
  readonly rebalance?: boolean;
  /** annex.fullybalancedthreshhold as a fraction (git config gives percent); default 0.9. */
  readonly fullyBalancedThreshold?: number;
  /** The preferreddir of special remotes (remote.log); "public" when not set. */
  readonly preferredDirs?: ReadonlyMap<string, string>;
  /** Keys (in their text form) that `git annex unused` last found unused. */
  readonly unusedKeys?: ReadonlySet<string>;
  /** The UUID of the repository doing the evaluating, whose own content is known first-hand. */
  readonly hereUuid?: string;
}

/** What is known about the key being asked about. */
export interface KeyState {
  /** UUIDs the location log says have the content (cluster UUIDs are derived, not listed). */
  readonly locations: readonly string[];
  readonly metadata?: MetaData;
  /** Whether the evaluating repository (hereUuid) really has the content; else the location log says. */
  readonly presentHere?: boolean;
}

export const NO_KEY_STATE: KeyState = { locations: [] };

const EMPTY_SET: ReadonlySet<string> = new Set();
const EMPTY_SIZES: ReadonlyMap<string, number> = new Map();

/** A snapshot ready for evaluation. Build one per snapshot and reuse it. */
export class Policy {
  readonly snapshot: PolicySnapshot;
  readonly #members = new Map<string, string[]>();
  readonly #pickers = new Map<string, BalancedPicker>();
  /** Per-repository caches used by the wants module. */
  readonly cache = new Map<string, unknown>();

  constructor(snapshot: PolicySnapshot) {
    this.snapshot = snapshot;
    const byGroup = new Map<string, Set<string>>();
    for (const [u, gs] of snapshot.groups) {
      for (const g of gs) {
        const s = byGroup.get(g) ?? new Set<string>();
        s.add(u);
        byGroup.set(g, s);
      }
    }
    for (const [g, s] of byGroup) {
      const members = [...s].sort(byteOrder);
      this.#members.set(g, members);
      this.#pickers.set(g, balancedPicker(members));
    }
  }

  groupsOf(uuid: string): ReadonlySet<string> {
    return this.snapshot.groups.get(uuid) ?? EMPTY_SET;
  }

  /** The members of a group, ascending by bytes. */
  membersOf(group: string): readonly string[] {
    return this.#members.get(group) ?? [];
  }

  pickerOf(group: string): BalancedPicker | undefined {
    return this.#pickers.get(group);
  }

  trustOf(uuid: string): TrustLevel {
    return this.snapshot.trust.get(uuid) ?? "semitrusted";
  }

  get numcopies(): number {
    return this.snapshot.numcopies ?? DEFAULT_NUMCOPIES;
  }

  get mincopies(): number {
    return this.snapshot.mincopies ?? DEFAULT_MINCOPIES;
  }

  get maxSizes(): ReadonlyMap<string, number> {
    return this.snapshot.maxSizes ?? EMPTY_SIZES;
  }

  get repoSizes(): ReadonlyMap<string, number> {
    return this.snapshot.repoSizes ?? EMPTY_SIZES;
  }

  /**
   * The logged locations plus the clusters any of them is a node of
   * (Logs/Location.hs `loggedLocations`).
   */
  loggedLocations(state: KeyState): string[] {
    const clusters = this.snapshot.clusters;
    if (clusters === undefined || clusters.size === 0) return [...state.locations];
    const extra = new Set<string>();
    for (const u of state.locations) for (const c of clusters.get(u) ?? EMPTY_SET) extra.add(c);
    return [...extra, ...state.locations];
  }

  /** Logged locations less dead repositories (Remote.hs `keyLocations`). */
  keyLocations(state: KeyState): string[] {
    return this.loggedLocations(state).filter((u) => this.trustOf(u) !== "dead");
  }
}
