/**
 * HTTP requests over raw sockets, cut off on purpose: a client that resets
 * (RST) or cleanly closes (FIN) its connection at a chosen phase of a
 * request. Each phase waits for an event the server shows (its stats, the
 * first response bytes), never for a number of milliseconds.
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import type { ServerStats } from "../../src/server/index.js";

export type CutKind = "reset" | "close";
export const CUT_KINDS: readonly CutKind[] = ["reset", "close"];

/**
 * headers: part of the request head; lookup: the whole head, no body, cut
 * as soon as the server has the request; mid-body: half the body, cut once
 * the server is receiving it; after-body: the whole request, cut before the
 * answer is read; mid-response: cut once the first bytes of the answer came.
 */
export type Phase = "headers" | "lookup" | "mid-body" | "after-body" | "mid-response";
export const BODILESS_PHASES: readonly Phase[] = ["headers", "lookup", "mid-response"];
export const BODY_PHASES: readonly Phase[] = [
  "headers",
  "lookup",
  "mid-body",
  "after-body",
  "mid-response",
];

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Mid-body: true once the server holds what the first half of the body needs. */
  readonly receiving?: (s: ServerStats) => boolean;
}

export interface CutTarget {
  readonly port: number;
  stats(): ServerStats;
}

/** Polls `test` until true; fails after `ms` or `maxTries` polls. */
export async function until(what: string, test: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let tries = 0; tries < 100_000; tries++) {
    if (test()) return;
    if (Date.now() > deadline) break;
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function head(r: RawRequest): string {
  const lines = [`${r.method} ${r.path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"];
  for (const [k, v] of Object.entries(r.headers ?? {})) lines.push(`${k}: ${v}`);
  if (r.body) lines.push(`Content-Length: ${r.body.length}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

function write(sock: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => sock.write(data, (e) => (e ? reject(e) : resolve())));
}

async function cut(sock: Socket, closed: Promise<void>, kind: CutKind): Promise<void> {
  // The server may have closed already (a fast answer, Connection: close).
  if (kind === "reset") sock.resetAndDestroy();
  else {
    sock.end();
    sock.resume(); // read (and drop) what comes, so the server can finish closing
  }
  // A server that never closes its side is not waited for without bound.
  const timer = setTimeout(() => sock.destroy(), 10_000);
  await closed;
  clearTimeout(timer);
}

/** Sends `r` and cuts the connection at `phase`, in the way `kind`. */
export async function cutRequest(
  t: CutTarget,
  r: RawRequest,
  phase: Phase,
  kind: CutKind,
): Promise<void> {
  const before = t.stats().requestsSeen;
  const sock = connect(t.port, "127.0.0.1");
  sock.on("error", () => undefined);
  const closed = new Promise<void>((r) => sock.once("close", () => r()));
  sock.setTimeout(60_000, () => sock.destroy(new Error("the cut request stalled")));
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    void closed.then(() => reject(new Error("connection closed before it opened")));
  });
  const firstBytes = new Promise<void>((resolve) => {
    sock.once("data", () => {
      sock.pause();
      resolve();
    });
  });
  const h = head(r);
  const body = r.body ?? Buffer.alloc(0);
  const seen = () => until("the server to see the request", () => t.stats().requestsSeen > before);
  switch (phase) {
    case "headers":
      await write(sock, h.slice(0, Math.floor(h.length / 2)));
      break;
    case "lookup":
      await write(sock, h);
      await seen();
      break;
    case "mid-body":
      await write(sock, h);
      await seen();
      await write(sock, body.subarray(0, Math.floor(body.length / 2)));
      if (r.receiving)
        await until("the server to receive the body", () => r.receiving?.(t.stats()) === true);
      break;
    case "after-body":
      await write(sock, Buffer.concat([Buffer.from(h), body]));
      await seen();
      break;
    case "mid-response":
      await write(sock, Buffer.concat([Buffer.from(h), body]));
      await firstBytes;
      break;
  }
  await cut(sock, closed, kind);
}

export interface HonestReply {
  readonly status: number;
  readonly body: Buffer;
}

/** An ordinary, complete request (its own connection, closed after). */
export function honest(port: number, r: RawRequest): Promise<HonestReply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      method: r.method,
      path: r.path,
      agent: false,
      headers: { ...r.headers, ...(r.body ? { "Content-Length": String(r.body.length) } : {}) },
    });
    req.on("error", reject);
    // Bounded: a request that is never answered fails the test, not hangs it.
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer to ${r.method} ${r.path}`)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.end(r.body);
  });
}

export interface StalledClient {
  readonly sock: Socket;
  /** Settles when the server (or the test) closes the connection. */
  readonly closed: Promise<void>;
  /** What the server sent (only when reading). */
  received(): string;
}

/**
 * Sends `r`'s head and the first `bodyBytes` of its body, then nothing
 * more: a stalled writer. With `read` false it never reads either, so a
 * download fills the socket's buffers and stalls: a stalled reader.
 */
export async function stalledClient(
  port: number,
  r: RawRequest,
  opts: { bodyBytes?: number; read?: boolean } = {},
): Promise<StalledClient> {
  const sock = connect(port, "127.0.0.1");
  sock.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => sock.once("close", () => resolve()));
  await new Promise<void>((resolve) => sock.once("connect", () => resolve()));
  let text = "";
  if (opts.read) sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
  else sock.pause();
  const body = (r.body ?? Buffer.alloc(0)).subarray(0, opts.bodyBytes ?? 0);
  await write(sock, Buffer.concat([Buffer.from(head(r)), body]));
  return { sock, closed, received: () => text };
}

export interface IdleConnection {
  readonly sock: Socket;
  /** True once the connection has closed (the server closed it, or the test). */
  closed(): boolean;
}

/**
 * A connection to the server that sends nothing: an idle client. From
 * `localAddress` (any of 127.0.0.0/8 on Linux), to stand for another client.
 */
export async function idleConnection(
  port: number,
  localAddress = "127.0.0.1",
): Promise<IdleConnection> {
  const sock = connect({ port, host: "127.0.0.1", localAddress });
  let closed = false;
  sock.on("error", () => undefined);
  sock.once("close", () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    sock.once("error", reject);
  });
  return { sock, closed: () => closed };
}
