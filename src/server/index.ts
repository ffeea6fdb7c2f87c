/** @module server — front-ends that expose Peers to the world. */
export { Authorizer, type AuthOptions, parseBasicAuth, type ServeMode } from "./http/auth.js";
export { P2pHttpServer, type P2pHttpOptions, type PeerDirectory } from "./http/server.js";
export { RepositoryFolders, RepositorySet, type RepositorySetOptions } from "./repositories.js";
