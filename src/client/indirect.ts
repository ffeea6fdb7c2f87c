/**
 * annexgate's indirect uploads: the gateway answers an upload-url request
 * with presigned URLs of its S3 node (one PUT, or one per part); the content
 * goes straight there, and a DATA-PRESENT put then has the gateway check it
 * and record it. Where the gateway offers none (another server, another
 * kind of node, a key without a size), the caller does a normal put.
 */
import { formatKey, type Key } from "../keys/portable.js";
import {
  formatIndirectUploadRequest,
  HttpAnswerError,
  HttpApiError,
  type IndirectPart,
  type IndirectUploadAnswer,
  parseIndirectUploadAnswer as parseAnswer,
} from "../protocol/portable.js";
import { AbortedError, ProtocolError, RefusedError } from "./errors.js";
import { anySignal } from "./signals.js";
import { failure, readText, type Transport } from "./transport.js";
import { countedStream, xhrConstructor, xhrPost } from "./upload.js";

/** Parts sent at once. */
const PART_CONCURRENCY = 4;

/** The longest upload-url answer read (10,000 parts' URLs with session tokens fit). */
const MAX_URLS_ANSWER_BYTES = 64 * 1024 * 1024;

export interface IndirectOptions {
  readonly associatedFile?: string | undefined;
  readonly onProgress?: ((sent: number, total: number) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly streamBodies: boolean;
}

/** Ask the gateway for upload URLs: what it answers (unavailable when it offers none). */
export async function askUploadUrl(
  t: Transport,
  uuid: string,
  clientUuid: string,
  key: Key,
  opts: IndirectOptions,
): Promise<IndirectUploadAnswer> {
  const path = formatIndirectUploadRequest(t.endpoint.prefix, {
    uuid,
    key,
    clientUuid,
    ...(opts.associatedFile !== undefined ? { associatedFile: opts.associatedFile } : {}),
  });
  const done = await t.slots.take(opts.signal);
  try {
    const res = await t.fetch(`${t.origin}${path}`, {
      method: "POST",
      headers: t.headers(),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    // A multipart answer holds a URL per part (hundreds, each with its signature).
    const text = await readText(res, opts.signal, MAX_URLS_ANSWER_BYTES);
    try {
      return parseAnswer(res.status, text);
    } catch (e) {
      if (!(e instanceof HttpAnswerError || e instanceof HttpApiError)) throw e;
      if (res.status !== 200)
        throw new RefusedError(e.message, { status: res.status, body: text.slice(0, 4096) });
      throw new ProtocolError(`upload-url answered badly: ${e.message}`, {}, e);
    }
  } finally {
    done();
  }
}

/**
 * Send the content to the URLs the gateway gave (whole, or part by part,
 * a few at once); the first part that fails stops the others.
 */
export async function uploadTo(
  t: Transport,
  answer: Extract<IndirectUploadAnswer, { kind: "put" } | { kind: "parts" }>,
  key: Key,
  content: Blob | Uint8Array,
  opts: IndirectOptions,
): Promise<void> {
  const total = content instanceof Blob ? content.size : content.length;
  if (answer.kind === "put") {
    const part = { offset: 0, length: total, url: answer.url };
    await putPart(t, part, content, answer.headers ?? {}, (n) => opts.onProgress?.(n, total), opts);
    return;
  }
  // The codec has checked the parts follow each other from byte 0; they must end at the end.
  const last = answer.parts.at(-1);
  if (last === undefined || last.offset + last.length !== total) {
    throw new ProtocolError(`the parts offered for ${formatKey(key)} do not cover it`, {});
  }
  const stop = new AbortController();
  const partOpts = { ...opts, signal: anySignal([opts.signal, stop.signal]) };
  const sent = new Map<number, number>();
  const report = () => {
    let n = 0;
    for (const v of sent.values()) n += v;
    opts.onProgress?.(n, total);
  };
  const queue = [...answer.parts];
  const worker = async () => {
    for (let p = queue.shift(); p !== undefined && !stop.signal.aborted; p = queue.shift()) {
      const part = p;
      const slice = content.slice(part.offset, part.offset + part.length);
      const progress = (n: number) => {
        sent.set(part.offset, n);
        report();
      };
      await putPart(t, part, slice, {}, progress, partOpts).catch((e: unknown) => {
        stop.abort();
        throw e;
      });
    }
  };
  const workers = Array.from({ length: Math.min(PART_CONCURRENCY, queue.length) }, worker);
  const outcomes = await Promise.allSettled(workers);
  // The error of the part that failed first, not an abort it caused.
  const failed = outcomes.find(
    (o): o is PromiseRejectedResult =>
      o.status === "rejected" && !(o.reason instanceof AbortedError),
  );
  const any = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed !== undefined || any !== undefined) throw (failed ?? any)?.reason;
}

/** One PUT to a presigned URL, with its exact length (S3 takes no chunked bodies). */
async function putPart(
  t: Transport,
  part: IndirectPart,
  content: Blob | Uint8Array,
  headers: Readonly<Record<string, string>>,
  progress: (sent: number) => void,
  opts: IndirectOptions,
): Promise<void> {
  const Xhr = xhrConstructor();
  let status: number;
  let text: string;
  if (!opts.streamBodies && Xhr !== undefined) {
    const answer = await xhrPost(
      Xhr,
      part.url,
      { ...headers },
      content,
      progress,
      opts.signal,
      "PUT",
    ).catch((e: unknown) => {
      throw failure(part.url, e, opts.signal);
    });
    ({ status, text } = answer);
  } else {
    const body = opts.streamBodies ? countedStream(content, progress) : content;
    const res = await t.fetch(part.url, {
      method: "PUT",
      headers: { ...headers, "content-length": String(part.length) },
      body: body as NonNullable<RequestInit["body"]>,
      ...(opts.streamBodies ? { duplex: "half" } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      timed: false,
    } as RequestInit & { timed: boolean });
    status = res.status;
    text = await readText(res, opts.signal);
    if (!opts.streamBodies) progress(part.length);
  }
  if (status < 200 || status > 299) {
    throw new RefusedError(`the object store answered ${status} to a part`, {
      status,
      body: text.slice(0, 4096),
    });
  }
}
