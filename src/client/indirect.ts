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
  type IndirectPart,
  type IndirectUploadAnswer,
  parseIndirectUploadAnswer as parseAnswer,
} from "../protocol/portable.js";
import { ProtocolError, RefusedError } from "./errors.js";
import { failure, readText, type Transport } from "./transport.js";
import { countedStream, xhrConstructor, xhrPost } from "./upload.js";

/** Parts sent at once. */
const PART_CONCURRENCY = 4;

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
  const done = await t.slots.take();
  try {
    const res = await t.fetch(`${t.origin}${path}`, {
      method: "POST",
      headers: t.headers(),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    const text = await readText(res, opts.signal);
    try {
      return parseAnswer(res.status, text);
    } catch (e) {
      if (!(e instanceof HttpAnswerError)) throw e;
      if (res.status !== 200)
        throw new RefusedError(e.message, { status: res.status, body: text.slice(0, 4096) });
      throw new ProtocolError(`upload-url answered badly: ${e.message}`, {}, e);
    }
  } finally {
    done();
  }
}

/** Send the content to the URLs the gateway gave (whole, or part by part). */
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
  const sent = new Map<number, number>();
  const report = () => {
    let n = 0;
    for (const v of sent.values()) n += v;
    opts.onProgress?.(n, total);
  };
  const queue = [...answer.parts];
  const worker = async () => {
    for (let part = queue.shift(); part !== undefined; part = queue.shift()) {
      const p = part;
      const slice = content.slice(p.offset, p.offset + p.length);
      await putPart(
        t,
        p,
        slice,
        {},
        (n) => {
          sent.set(p.offset, n);
          report();
        },
        opts,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, queue.length) }, worker));
  if (sent.size !== answer.parts.length) {
    throw new ProtocolError(`not every part of ${formatKey(key)} was sent`, {});
  }
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
