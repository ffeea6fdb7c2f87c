/**
 * One p2phttp put: the content from an offset, its length in
 * X-git-annex-data-length, the server's stored answer. The body goes as a
 * counted stream where fetch can stream it, else through XMLHttpRequest.
 */
import { formatKey, type Key } from "../keys/portable.js";
import { type ApiVersion, DATA_LENGTH_HEADER, parseStoredJson } from "../protocol/portable.js";
import type { PutOptions, PutResult } from "./client.js";
import { ClientError } from "./errors.js";
import { failure, refused, type Transport } from "./transport.js";
import {
  countedStream,
  type PutSource,
  sourceFrom,
  sourceSize,
  xhrConstructor,
  xhrPost,
} from "./upload.js";

export async function sendPut(
  t: Transport,
  v: ApiVersion,
  key: Key,
  source: PutSource,
  offset: number,
  opts: PutOptions & { readonly streamBodies: boolean },
): Promise<PutResult> {
  const total = key.size ?? sourceSize(source);
  if (total === undefined) {
    throw new ClientError(`the size of ${formatKey(key)} is not known`, { key: formatKey(key) });
  }
  const content = await sourceFrom(source, offset);
  const progress = (sent: number) => opts.onProgress?.(offset + sent, total);
  const query = {
    key,
    ...(opts.associatedFile !== undefined ? { associatedFile: opts.associatedFile } : {}),
    ...(offset !== 0 ? { offset } : {}),
  };
  const headers = {
    "content-type": "application/octet-stream",
    [DATA_LENGTH_HEADER]: String(total - offset),
  };
  const Xhr = xhrConstructor();
  if (!opts.streamBodies) {
    if (Xhr === undefined || !(content instanceof Uint8Array || content instanceof Blob)) {
      throw new ClientError(
        "this fetch cannot stream a request body: give the content as a Blob or bytes",
        { key: formatKey(key) },
      );
    }
    const url = t.url(v, "put", query);
    const answer = await xhrPost(
      Xhr,
      url,
      t.headers(headers),
      content,
      progress,
      opts.signal,
    ).catch((e: unknown) => {
      throw failure(url, e, opts.signal);
    });
    if (answer.status !== 200) throw refused("put", v, answer.status, answer.text);
    return t.answer("put", v, new Response(answer.text), parseStoredJson);
  }
  let sourceError: unknown;
  const body = countedStream(content, progress, (e) => {
    sourceError = e;
  });
  try {
    const res = await t.send(v, "put", {
      method: "POST",
      query,
      headers,
      body,
      signal: opts.signal,
      timed: false,
    });
    return await t.answer("put", v, res, parseStoredJson, opts.signal);
  } catch (e) {
    // Our own source failing is not the server's doing (nor a lost answer).
    if (sourceError === undefined) throw e;
    throw new ClientError(`reading the content of ${formatKey(key)} failed`, {}, sourceError);
  }
}
