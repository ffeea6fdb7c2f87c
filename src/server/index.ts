/** @module server — front-ends that expose Peers to the world. */
export { type AuthOptions, Authorizer, parseBasicAuth, type ServeMode } from "./http/auth.js";
export { type P2pHttpOptions, P2pHttpServer, type PeerDirectory } from "./http/server.js";
export { RepositoryFolders, RepositorySet, type RepositorySetOptions } from "./repositories.js";
