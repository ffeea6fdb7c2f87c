/**
 * A put's body: the content from an offset on, sent with progress and
 * backpressure. Where fetch can stream a request body (Node), it is a
 * stream pulled only as fast as the connection takes it, counted as it
 * goes; in browsers, whose fetch streams request bodies only over HTTP/2
 * and reports no upload progress, a Blob or bytes go through
 * XMLHttpRequest, whose upload events are the progress.
 */
import { type Content, chunksOf } from "./hashers.js";

/** What a put sends: bytes, a Blob (a File), a stream, or a function giving the content from an offset. */
export type PutSource = Content | ((offset: number) => Content | Promise<Content>);

/** Bytes per chunk when a Blob or bytes are streamed. */
const CHUNK = 64 * 1024;

/** The size of a source when it says so itself (bytes, a Blob). */
export function sourceSize(source: PutSource): number | undefined {
  if (source instanceof Uint8Array) return source.length;
  if (source instanceof Blob) return source.size;
  return undefined;
}

/** The source from `offset` on, as bytes or a Blob where it is one, else as chunks. */
export async function sourceFrom(
  source: PutSource,
  offset: number,
): Promise<Uint8Array | Blob | AsyncIterable<Uint8Array>> {
  if (source instanceof Uint8Array) return source.subarray(offset);
  if (source instanceof Blob) return source.slice(offset);
  if (typeof source === "function") {
    const given = await source(offset);
    return given instanceof Uint8Array || given instanceof Blob ? given : chunksOf(given);
  }
  return skipping(chunksOf(source), offset);
}

/** The chunks after the first `n` bytes (a stream resumed from an offset). */
async function* skipping(chunks: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  let left = n;
  for await (const chunk of chunks) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/**
 * The content as a request body stream that counts what the connection
 * has taken (`progress` after each chunk); pulled, so nothing is read ahead
 * of the connection.
 */
export function countedStream(
  content: Uint8Array | Blob | AsyncIterable<Uint8Array>,
  progress: (sent: number) => void,
  sourceFailed: (e: unknown) => void = () => undefined,
): ReadableStream<Uint8Array> {
  const chunks = (
    content instanceof Uint8Array || content instanceof Blob ? pieces(content) : rechunked(content)
  )[Symbol.asyncIterator]();
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await chunks.next();
        } catch (e) {
          sourceFailed(e);
          throw e;
        }
        if (next.done === true) {
          controller.close();
          return;
        }
        sent += next.value.length;
        controller.enqueue(next.value);
        progress(sent);
      },
      async cancel() {
        await chunks.return?.(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/* A source's chunks, none over CHUNK (progress moves as they go; nothing is copied). */
async function* rechunked(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += CHUNK) yield chunk.subarray(at, at + CHUNK);
  }
}

/* In chunks of CHUNK, so progress moves as they go (a Blob's own stream may be one chunk). */
async function* pieces(content: Uint8Array | Blob): AsyncGenerator<Uint8Array> {
  if (content instanceof Uint8Array) {
    for (let at = 0; at < content.length; at += CHUNK) yield content.subarray(at, at + CHUNK);
    return;
  }
  for (let at = 0; at < content.size; at += CHUNK) {
    yield new Uint8Array(await content.slice(at, at + CHUNK).arrayBuffer());
  }
}

/** The parts of XMLHttpRequest a put uses (browsers have it, Node does not). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob | Uint8Array): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((e: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

/** XMLHttpRequest, where there is one. */
export function xhrConstructor(): (new () => Xhr) | undefined {
  return (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
}

/** A POST (or PUT) through XMLHttpRequest with upload progress: its status and text, or a thrown reason. */
export function xhrPost(
  make: new () => Xhr,
  url: string,
  headers: Record<string, string>,
  body: Blob | Uint8Array,
  progress: (sent: number) => void,
  signal: AbortSignal | undefined,
  method: "POST" | "PUT" = "POST",
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new make();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => progress(e.loaded);
    const onAbort = () => xhr.abort();
    const settled = () => signal?.removeEventListener("abort", onAbort);
    xhr.onload = () => {
      settled();
      resolve({ status: xhr.status, text: xhr.responseText });
    };
    xhr.onerror = () => {
      settled();
      reject(new Error("the request failed"));
    };
    xhr.onabort = () => {
      settled();
      reject(new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted === true) xhr.abort();
    else xhr.send(body);
  });
}
