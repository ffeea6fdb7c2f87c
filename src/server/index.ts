/** @module server — front-ends that expose Peers to the world. */
export {
  type AuthDecision,
  type AuthOptions,
  Authorizer,
  parseBasicAuth,
  type ServeMode,
} from "./http/auth.js";
export { DEFAULT_MAX_IDLE_PER_CLIENT, IdleConnections } from "./http/idle-connections.js";
export type {
  HttpObserver,
  RequestOutcome,
  TargetKind,
  TransferProgress,
} from "./http/request-record.js";
export {
  DEFAULT_LIMITS,
  type P2pHttpOptions,
  P2pHttpServer,
  type PeerDirectory,
} from "./http/server.js";
export type { SideRoutes } from "./http/side-routes.js";
export type { ServerStats } from "./http/stats.js";
export {
  type GitService,
  gitServiceRunner,
  type LineServeEnd,
  type LineServeOptions,
  LineServerError,
  type ServiceProcess,
  type ServiceRunner,
  serveLine,
} from "./line/index.js";
export {
  type GatewayLike,
  isNotARepository,
  RepositoryFolders,
  RepositorySet,
  type RepositorySetOptions,
} from "./repositories.js";
