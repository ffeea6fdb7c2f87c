/** What `serveLine` is given, and how it ends. */
import type { Peer } from "../../peers/index.js";
import type { ServeMode } from "../http/auth.js";
import type { ServiceRunner } from "./connect.js";

export interface LineServeOptions {
  readonly peer: Peer;
  /** What the client may do (GIT_ANNEX_SHELL_READONLY / _APPENDONLY). */
  readonly mode: ServeMode;
  /** UUID of the repository on the client side. */
  readonly clientUuid?: string;
  /**
   * Runs git-upload-pack / git-receive-pack for CONNECT. Without it, CONNECT
   * ends the connection as stock `git-annex-shell p2pstdio` does
   * ("relaying to git not supported on this connection").
   */
  readonly connect?: ServiceRunner;
  /**
   * After a CONNECT the mode refuses (its ERROR sent), serve further
   * requests instead of ending, as git-annex's proxy (P2P/Proxy.hs) does for
   * a proxied peer; its own repository's server ends there. Default false.
   */
  readonly continueAfterRefusedConnect?: boolean;
  /**
   * Send `AUTH-SUCCESS <peer uuid>` before anything else, as
   * `git-annex-shell p2pstdio` does (its client is authenticated by ssh).
   * Default true.
   */
  readonly announce?: boolean;
}

/** Why the loop ended. */
export type LineServeEnd =
  | { readonly reason: "closed" } // end of input
  | { readonly reason: "client-error"; readonly message: string }
  | { readonly reason: "connected"; readonly exitCode: number } // after CONNECT
  | { readonly reason: "refused-connect" }; // CONNECT not allowed in this mode
