/**
 * What the gateway tells about its calls to the repositories behind it,
 * for an operator's metrics: each call to a node and how it ended, the
 * content moved, and each upload fanned out over a cluster. The proxy
 * layer calls it; the metrics layer implements it. Outcomes and
 * operations come from closed sets, so they can be metric labels.
 */
import {
  type Peer,
  PeerProtocolError,
  PeerRefusedError,
  PeerUnreachableError,
} from "../peers/index.js";

/** The operations of a node call: the Peer interface's. */
export type NodeOperation = Exclude<keyof Peer, "uuid" | "close">;

/**
 * How a node call ended: it answered ("ok"; an upload it did not take is
 * "not_stored"), it could not be reached, it said no, it broke the
 * protocol, what it sent failed verification, the reader of a download
 * gave up on it, or something else failed.
 */
export type NodeOutcome =
  | "ok"
  | "not_stored"
  | "unreachable"
  | "refused"
  | "protocol"
  | "verification_failed"
  | "cancelled"
  | "error";

/** A node as labelled in metrics: its remote name and UUID. */
export interface NodeLabel {
  readonly name: string;
  readonly uuid: string;
}

export interface NodeObserver {
  /** A call to `node` ended (a download when its data ended or broke off). */
  nodeCall(node: NodeLabel, op: NodeOperation, outcome: NodeOutcome, seconds: number): void;
  /** Content moved to a node ("out", an upload it stored) or from it ("in", a download it finished). */
  nodeBytes(node: NodeLabel, direction: "in" | "out", bytes: number): void;
  /** One upload fanned out to `receivers` nodes of a cluster, `stored` of which took it. */
  fanOut(cluster: string, seconds: number, receivers: number, stored: number): void;
}

/** The outcome a failed call counts as. */
export function outcomeOfError(e: unknown): NodeOutcome {
  if (e instanceof PeerUnreachableError) return "unreachable";
  if (e instanceof PeerRefusedError) return "refused";
  if (e instanceof PeerProtocolError) return "protocol";
  return "error";
}

const FAILURES: ReadonlySet<NodeOutcome> = new Set([
  "unreachable",
  "refused",
  "protocol",
  "verification_failed",
  "error",
]);

/** Whether an outcome is the node failing (a "no" or a reader giving up is not). */
export function isFailure(outcome: NodeOutcome): boolean {
  return FAILURES.has(outcome);
}
