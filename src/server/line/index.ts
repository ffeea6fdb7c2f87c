/** @module server/line — the P2P line protocol served over any byte stream pair for one Peer. */
export {
  type GitService,
  gitServiceRunner,
  type ServiceProcess,
  type ServiceRunner,
} from "./connect.js";
export { type LineServeEnd, type LineServeOptions, LineServerError, serveLine } from "./server.js";
export { PLUS_VERSION } from "./wire.js";
