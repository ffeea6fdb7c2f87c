/**
 * annexgate's indirect uploads on the p2phttp server (see
 * protocol/http-indirect.ts): the upload-url endpoint, checked as the API
 * checks a request (values, then the repository, then the user, who needs
 * the "write" permission as for a put), and the hook that lets a v4
 * `put?data-present=true` finish a pending indirect upload. Stock clients
 * never ask the endpoint, and a DATA-PRESENT with no pending indirect
 * upload is answered as always.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Key } from "../../keys/index.js";
import type { PeerContext, StoreResult } from "../../peers/index.js";
import {
  HttpApiError,
  type IndirectUploadAnswer,
  indirectUploadJson,
  indirectUploadStatus,
  isIndirectUploadPath,
  parseIndirectUploadRequest,
} from "../../protocol/index.js";
import type { IndirectClient } from "../../proxy/index.js";
import { sendJson } from "./answers.js";
import { type Authorizer, parseBasicAuth } from "./auth.js";
import type { PeerDirectory } from "./options.js";
import type { ApiRequest } from "./request.js";
import type { RequestEnd } from "./request-end.js";
import { type RequestRecord, targetKindOf } from "./request-record.js";

/** The endpoint's name in the log and the metrics. */
export const UPLOAD_URL_ENDPOINT = "upload-url";

const NOT_ENABLED: IndirectUploadAnswer = {
  kind: "unavailable",
  status: 404,
  reason: "indirect uploads are not enabled on this gateway",
};

function split(req: IncomingMessage): { path: string; search: string } {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q < 0 ? { path: url, search: "" } : { path: url.slice(0, q), search: url.slice(q + 1) };
}

/** Whether `req` is for the upload-url endpoint. */
export function isUploadUrlRequest(req: IncomingMessage): boolean {
  return isIndirectUploadPath(split(req).path);
}

export interface UploadUrlContext {
  readonly peers: PeerDirectory;
  readonly auth: Authorizer;
  readonly end: RequestEnd;
  readonly record: RequestRecord;
  /** The client's address. */
  readonly client: string;
}

/** Answer an upload-url request. */
export async function serveUploadUrl(
  req: IncomingMessage,
  res: ServerResponse,
  o: UploadUrlContext,
): Promise<void> {
  const { path, search } = split(req);
  const r = parseIndirectUploadRequest(path, search);
  if (req.method !== "POST") throw new HttpApiError(405, "method not allowed");
  const creds = parseBasicAuth(req.headers.authorization);
  const peer = await o.peers.lookup(r.uuid);
  o.end.check();
  if (!peer) throw new HttpApiError(404, "not found");
  const secure = Boolean((req.socket as { encrypted?: boolean }).encrypted);
  const decision = o.auth.decide(secure, creds, "write");
  if (!decision.allow) throw new HttpApiError(decision.status, "");
  o.record.reached(targetKindOf(peer), creds?.user);
  req.resume();
  const user = o.auth.authenticatedUser(secure, creds);
  const service = await o.peers.indirectUploads?.(r.uuid);
  const ctx: PeerContext = {
    clientUuid: r.clientUuid,
    signal: o.end.signal,
    requestId: o.record.id,
  };
  const answer = service
    ? await service.offer(
        r.uuid,
        r.key,
        {
          address: o.client,
          ...(user !== undefined ? { user } : {}),
          clientUuid: r.clientUuid,
          ...(r.associatedFile !== undefined ? { associatedFile: r.associatedFile } : {}),
        },
        ctx,
      )
    : NOT_ENABLED;
  o.end.check();
  sendJson(res, indirectUploadJson(answer), indirectUploadStatus(answer));
}

/**
 * A DATA-PRESENT that finishes a pending indirect upload of the same
 * client (its address, and its user when the server checks users): its
 * answer, or null when none is pending for it (the put is then answered
 * as usual).
 */
export async function completeIndirect(
  o: { readonly peers: PeerDirectory; readonly auth: Authorizer },
  req: IncomingMessage,
  r: ApiRequest,
  key: Key,
  ctx: PeerContext,
): Promise<StoreResult | null> {
  const service = await o.peers.indirectUploads?.(r.uuid);
  if (!service) return null;
  const secure = Boolean((req.socket as { encrypted?: boolean }).encrypted);
  const user = o.auth.authenticatedUser(secure, parseBasicAuth(req.headers.authorization));
  const who: IndirectClient = {
    address: req.socket.remoteAddress ?? "unknown",
    ...(user !== undefined ? { user } : {}),
    clientUuid: r.clientUuid ?? "",
  };
  return service.complete(r.uuid, key, who, ctx);
}
