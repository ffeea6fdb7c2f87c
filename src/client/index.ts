/**
 * @module annexgate/client
 * A client for git-annex's p2phttp API (annexgate's gateway, or stock
 * `git annex p2phttp`), for Node 20 and browsers alike: fetch and web
 * streams only. Connect, then check, get, put, lock and remove content by
 * key; compute keys as `git annex calckey` does.
 *
 * @example
 * import { connect, computeKey } from "annexgate/client";
 * const client = await connect({ url: "annex+http://127.0.0.1:9417/git-annex/", uuid });
 * const key = await computeKey(file, { fileName: file.name });
 * const { stored } = await client.put(key, file, { associatedFile: file.name });
 */

export { formatKey, type Key, keyExtension, parseKey } from "../keys/portable.js";
export type { ApiVersion, PutOffsetAnswer } from "../protocol/portable.js";
export {
  AnnexClient,
  type ClientOptions,
  connect,
  type GetOptions,
  type PutOptions,
  type PutResult,
  type RemoveResult,
} from "./client.js";
export type { Download } from "./download.js";
export {
  AbortedError,
  ClientError,
  ProtocolError,
  RefusedError,
  UnreachableError,
} from "./errors.js";
export { type Content, computeKey, HASH_BACKENDS } from "./hashers.js";
export type { ContentLock } from "./lock.js";
export type { PutSource } from "./upload.js";
