/**
 * The dashboard's snapshot as it travels to the page (JSON over
 * Server-Sent Events): plain data, shared by the server that builds it and
 * the browser script that draws it, so neither can drift from the other.
 * Nothing here may import: the browser build compiles this file alone.
 */

/** A failed call to a node. */
export interface DashboardFailure {
  /** When (ms since the epoch). */
  readonly at: number;
  readonly operation: string;
  readonly outcome: string;
}

export interface DashboardNode {
  readonly name: string;
  readonly uuid: string;
  readonly size: number;
  readonly maxSize: number | null;
  readonly storing: number;
  /** UUIDs of the clusters (of this gateway) it is a node of. */
  readonly clusters: readonly string[];
  /** Null until first probed. */
  readonly reachable: boolean | null;
  /** Why it does not answer (only where the operator alone looks). */
  readonly error?: string;
  readonly failures: readonly DashboardFailure[];
}

export interface DashboardCluster {
  readonly name: string;
  readonly uuid: string;
  /** Its nodes' UUIDs, lowest cost first. */
  readonly nodes: readonly string[];
}

export interface DashboardGateway {
  readonly uuid: string;
  readonly clusters: readonly DashboardCluster[];
  readonly nodes: readonly DashboardNode[];
}

export interface DashboardTransfer {
  readonly id: string;
  readonly direction: "upload" | "download";
  readonly key: string;
  readonly uuid: string;
  readonly target: string;
  readonly bytes: number;
  readonly total: number;
  readonly seconds: number;
}

export interface DashboardSnapshot {
  /** When it was taken (ms since the epoch). */
  readonly time: number;
  readonly gateways: readonly DashboardGateway[];
  readonly transfers: readonly DashboardTransfer[];
  /** Requests per second, oldest first. */
  readonly rates: readonly { readonly second: number; readonly requests: number }[];
}
