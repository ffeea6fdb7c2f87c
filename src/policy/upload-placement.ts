/**
 * The placement step before a cluster upload: who wants the key (preferred
 * content over the latest policy snapshot) and who has room for it (live
 * repository sizes, the uploads in flight counted), answered together so
 * that choosing nodes and holding room on them are one step.
 */
import { formatKey, type Key } from "../keys/index.js";
import {
  type KeyState,
  type Policy,
  repositoryStability,
  wantsKey,
} from "../preferred-content/index.js";
import { errorText, type Logger } from "../util/index.js";
import type { LiveSizes } from "./live-sizes.js";
import { gatewayMayKeepCopy } from "./own-copy.js";

/** A store or remove in flight, counted against a repository's size until it ends. */
export interface SpaceHold {
  commit(): void;
  release(): void;
}

/**
 * What a cluster asks before an upload. `prepare` may read (the key's
 * location log and metadata); the decision it returns answers at once, so
 * that choosing the nodes and holding room on them are one step no other
 * upload can come between (two uploads never both take the last room).
 */
export interface Placement {
  prepare(key: Key, associatedFile?: string): Promise<PlacementDecision>;
  /** A remove of the key from `uuid`, which had it, under way. */
  removing(uuid: string, key: Key): SpaceHold;
}

export interface PlacementDecision {
  /** The key's logged locations, when the placement read them (else the cluster reads them). */
  readonly locations?: ReadonlySet<string>;
  /** Whether repository `uuid` wants the key (its preferred content). */
  wants(uuid: string): boolean;
  /**
   * Room for the key in each of `uuids`, held until each store ends (null
   * where it does not fit), in one step no other upload, in this process
   * or another, can come between.
   */
  reserve(uuids: readonly string[]): Promise<(SpaceHold | null)[]>;
}

export interface WantsUploadOptions {
  readonly state: KeyState;
  readonly file?: string;
  /** The cluster gateway, whose own copy follows the rule of own-copy.ts. */
  readonly gatewayUuid: string;
  readonly logger?: Logger;
}

/**
 * Whether repository `uuid` wants an upload of `key`. An expression that
 * cannot be evaluated means "does not want" (and is logged): a node gets
 * content because its preferred content asks for it, never because the
 * question failed; when no node wants the key, the upload still goes to
 * every node lacking it (see uploadTargets), so nothing is lost.
 */
export function wantsUpload(
  policy: Policy,
  uuid: string,
  key: Key,
  opts: WantsUploadOptions,
): boolean {
  if (uuid === opts.gatewayUuid && !gatewayMayKeepCopy(policy, uuid)) return false;
  try {
    return wantsKey(policy, uuid, key, {
      state: opts.state,
      ...(opts.file !== undefined ? { file: opts.file } : {}),
    });
  } catch (e) {
    opts.logger?.warn(
      { uuid, key: formatKey(key), err: errorText(e) },
      `preferred content of ${uuid} cannot be evaluated for ${formatKey(key)}, so it does not want it`,
    );
    return false;
  }
}

export interface LivePlacementOptions {
  readonly gatewayUuid: string;
  /** The policy as of now (re-read when the branch or the configuration changed). */
  readonly policy: () => Promise<Policy>;
  /** The key's location log and metadata. */
  readonly keyState: (key: Key) => Promise<KeyState>;
  /** Repository sizes with the transfers in flight; rooms are held here. */
  readonly live: LiveSizes;
  readonly logger?: Logger;
}

/**
 * The gateway's placement: preferred content evaluated against sizes that
 * count the stores in flight, so concurrent uploads see each other
 * (balanced and sizebalanced spread them; none overfills a node).
 */
export class LivePlacement implements Placement {
  readonly #unstableNoted = new WeakMap<Policy, Set<string>>();

  readonly #opts: LivePlacementOptions;

  constructor(opts: LivePlacementOptions) {
    this.#opts = opts;
  }

  async prepare(key: Key, associatedFile?: string): Promise<PlacementDecision> {
    const { gatewayUuid, live, logger } = this.#opts;
    const policy = await this.#opts.policy();
    const state = await this.#opts.keyState(key);
    const bytes = BigInt(key.size ?? 0);
    const wantsOpts: WantsUploadOptions = {
      state,
      gatewayUuid,
      ...(associatedFile !== undefined ? { file: associatedFile } : {}),
      ...(logger ? { logger } : {}),
    };
    return {
      locations: new Set(state.locations),
      wants: (uuid) => {
        this.#noteUnstable(policy, uuid);
        return wantsUpload(policy, uuid, key, wantsOpts);
      },
      reserve: (uuids) => live.reserveAll(uuids, bytes, formatKey(key)),
    };
  }

  removing(uuid: string, key: Key): SpaceHold {
    return this.#opts.live.beginRemove(uuid, BigInt(key.size ?? 0));
  }

  /**
   * An unstable expression (one that would move content back and forth)
   * never matches, as in git-annex; say so once per policy in the log, so
   * an operator wondering why a node gets nothing learns why.
   */
  #noteUnstable(policy: Policy, uuid: string): void {
    const logger = this.#opts.logger;
    if (!logger) return;
    let noted = this.#unstableNoted.get(policy);
    if (noted === undefined) {
      noted = new Set();
      this.#unstableNoted.set(policy, noted);
    }
    if (noted.has(uuid)) return;
    noted.add(uuid);
    const s = repositoryStability(policy, uuid);
    if (!s.stable) {
      logger.warn(
        { uuid, reason: s.reason },
        `preferred content of ${uuid} is unstable and matches nothing: ${s.reason}`,
      );
    }
  }
}
