/**
 * A scripted p2phttp server on a loopback port, for the cases a real one
 * cannot be made to show on demand (a body broken off at a chosen byte, a
 * version refused, an answer with a wrong length): it records each request
 * with its body and answers through the script it is given.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
  readonly socket: number;
}

/** Records requests (and bodies), answers via `reply`. */
export class FakeP2pHttp {
  readonly seen: Seen[] = [];
  server!: Server;
  port = 0;
  sockets = 0;
  openNow = 0;
  mostOpen = 0;
  /** Responses whose connection closed before they were finished. */
  closedEarly = 0;
  constructor(
    readonly reply: (
      req: IncomingMessage,
      body: Buffer,
      res: ServerResponse,
    ) => void | Promise<void>,
  ) {}
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      res.once("close", () => {
        if (!res.writableFinished) this.closedEarly++;
      });
      const socket = (req.socket as unknown as { fakeId: number }).fakeId;
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        const body = Buffer.concat(parts);
        this.seen.push({
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body,
          socket,
        });
        void this.reply(req, body, res);
      });
    });
    this.server.on("connection", (s) => {
      (s as unknown as { fakeId: number }).fakeId = ++this.sockets;
      this.openNow++;
      this.mostOpen = Math.max(this.mostOpen, this.openNow);
      s.on("close", () => this.openNow--);
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  url(): string {
    return `annex+http://127.0.0.1:${this.port}/git-annex/`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export function json(res: ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

/** The operation and version of a request path, e.g. ["checkpresent", 2]. */
export function route(url: string): { op: string; v: number } {
  const m = /^\/git-annex\/[^/]+\/v(\d)\/([a-z-]+)/.exec(url);
  return m ? { op: m[2] ?? "", v: Number(m[1]) } : { op: "", v: -1 };
}

/** How a scripted GET is answered (see {@link scriptedDownloads}). */
export type DownloadScript = "whole" | "reset" | "stall" | "silent" | "unanswered" | "wrong length";

/**
 * A fake that answers checkpresent "present" and each GET of `data` from
 * its `offset` as `how(offset)` says: the rest whole; a third of it, then
 * the connection ended ("reset") or silence ("stall"); the headers and
 * then silence; no answer at all; or a length one short. `gets()` lists
 * the offsets of the GETs seen.
 */
export async function scriptedDownloads(
  data: Uint8Array,
  how: (offset: number) => DownloadScript,
): Promise<{ fake: FakeP2pHttp; gets: () => number[] }> {
  const offsetOf = (url: string) =>
    Number(new URL(url, "http://h").searchParams.get("offset") ?? 0);
  const fake = await new FakeP2pHttp((req, _b, res) => {
    if (route(req.url ?? "").op === "checkpresent") return json(res, { present: true });
    const offset = offsetOf(req.url ?? "");
    const rest = data.subarray(offset);
    const script = how(offset);
    if (script === "unanswered") return;
    const promised = script === "wrong length" ? rest.length - 1 : rest.length;
    res.writeHead(200, { "x-git-annex-data-length": String(promised) });
    if (script === "whole" || script === "wrong length") return void res.end(rest);
    if (script === "silent") return void res.flushHeaders();
    res.write(rest.subarray(0, Math.ceil(rest.length / 3)), () => {
      if (script === "reset") req.socket.destroy();
    });
  }).start();
  const gets = () => fake.seen.filter((r) => r.method === "GET").map((r) => offsetOf(r.url));
  return { fake, gets };
}
