/** What a p2phttp server is given: its repositories, its users, and its limits. */
import type { Peer } from "../../peers/index.js";
import type { IndirectUploads } from "../../proxy/index.js";
import type { Logger } from "../../util/index.js";
import type { Authorizer } from "./auth.js";
import type { HttpObserver } from "./request-record.js";
import type { SideRoutes } from "./side-routes.js";

/** Finds the Peer that serves a UUID: a served repository, or a remote or cluster it is a gateway for. */
export interface PeerDirectory {
  /** The Peer for `uuid`, or null; may rescan (e.g. `--directory`). */
  lookup(uuid: string): Promise<Peer | null>;
  /**
   * The indirect uploads (annexgate's extension) of the gateway serving
   * `uuid`, or null when it offers none.
   */
  indirectUploads?(uuid: string): Promise<IndirectUploadService | null>;
}

/** What the server asks of a gateway's indirect uploads. */
export type IndirectUploadService = Pick<IndirectUploads, "offer" | "complete">;

/** Defaults of the limits that keep one client from starving the others. */
export const DEFAULT_LIMITS = {
  maxQueued: 64,
  maxPerClient: 32,
  maxLocksPerClient: 64,
} as const;

export interface P2pHttpOptions {
  readonly peers: PeerDirectory;
  readonly auth: Authorizer;
  /** Concurrent transfers (get/put); others wait their turn. */
  readonly jobs: number;
  /** Transfers that may wait for a slot; past it, 503. */
  readonly maxQueued?: number;
  /** Requests one client address may have in progress; past it, 429. */
  readonly maxPerClient?: number;
  /** Content locks one client address may hold (lockcontent, keeplocked). */
  readonly maxLocksPerClient?: number;
  /** True when served over TLS (decides whether --authenv applies). */
  readonly secure: boolean;
  /** How long a lockcontent lock lasts without keeplocked (ms). */
  readonly lockRetentionMs?: number;
  /** One info line per request (see RequestRecord), and the failures worked around. */
  readonly logger?: Logger;
  /** Told of every request as it ends (the metrics). */
  readonly observer?: HttpObserver;
  /** Paths served beside the API (health, metrics, the dashboard), tried first. */
  readonly sideRoutes?: SideRoutes;
}
