/**
 * What one p2phttp request was, gathered as it is served and told once
 * when it ends: as one log line (id, client, user, repository, key,
 * status, bytes, duration) and to the server's observer (metrics). The
 * request id is also in the answer's headers and in a 5xx body, so a
 * client's report can be matched with the line.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { formatKey } from "../../keys/index.js";
import type { Peer } from "../../peers/index.js";
import { REQUEST_ID_HEADER } from "../../protocol/index.js";
import type { Logger } from "../../util/index.js";
import type { ApiRequest } from "./request.js";

/** What the request reached: the repository served, a remote it proxies, a cluster, or nothing. */
export type TargetKind = "repository" | "proxied" | "cluster" | "none";

/** A request as it ended, for metrics. Labels come from closed sets, never from the client's text. */
export interface RequestOutcome {
  /** The operation ("checkpresent", "key" for a download, ...), "unknown" when unparsed. */
  readonly endpoint: string;
  /** "v0" … "v4", or "none". */
  readonly version: string;
  /** The answer's status; 0 when the connection ended before an answer. */
  readonly status: number;
  readonly target: TargetKind;
  readonly seconds: number;
  /** Bytes of the request and of its answer on the connection, headers included. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Content bytes a finished download sent, or a finished upload stored. */
  readonly sent: number;
  readonly stored: number;
}

/**
 * What kind of repository a request reached, for the log and the metrics.
 * (Asked of the Peer rather than by its class: the proxy layer is then not
 * loaded by a front-end that serves only a repository, as an ssh login.)
 */
export function targetKindOf(peer: Peer): TargetKind {
  return peer.target ?? "repository";
}

/** A transfer being served, as far as it got. */
export interface TransferProgress {
  readonly id: string;
  readonly direction: "upload" | "download";
  readonly key: string;
  /** The repository (or remote, or cluster) it is for. */
  readonly uuid: string;
  readonly target: TargetKind;
  /** Bytes moved so far (from the connection's counters; never past `total`). */
  readonly bytes: number;
  /** Bytes the transfer moves in all (from its offset on). */
  readonly total: number;
  readonly seconds: number;
}

/** Receives every request's outcome (the metrics layer implements it). */
export interface HttpObserver {
  requestEnded(outcome: RequestOutcome): void;
}

/**
 * Where each connection's previous request ended (bytes read and written):
 * a request's bytes are those since, its headers included, however much
 * of it node:http had read before handing it over. Taken when a request
 * ends, not when it starts: pipelined requests start together, and each
 * byte is then counted once (the first to end takes what was read ahead).
 */
const connectionMarks = new WeakMap<Socket, { read: number; written: number }>();

/** Ids: a random prefix per process, then a counter; unique enough to grep, cheap to make. */
const PREFIX = randomBytes(4).toString("hex");
let counter = 0;

function newRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${PREFIX}-${counter.toString(36)}`;
}

/** An id another gateway sent along (only a short, plain token is taken; anything else is ignored). */
function upstreamIdOf(req: IncomingMessage): string | undefined {
  const v = req.headers[REQUEST_ID_HEADER];
  return typeof v === "string" && /^[A-Za-z0-9._:-]{1,64}$/.test(v) ? v : undefined;
}

export class RequestRecord {
  readonly id = newRequestId();
  readonly upstreamId: string | undefined;
  readonly #started = performance.now();
  /** Kept: node:http detaches it from the request once the answer is written. */
  readonly #socket: Socket;
  readonly #readAtStart: number;
  readonly #writtenAtStart: number;
  #api: ApiRequest | undefined;
  #side: string | undefined;
  #target: TargetKind = "none";
  #user: string | undefined;
  #transfer: { direction: "upload" | "download"; total: number } | null = null;
  /** The upload was stored (its whole `#transfer.total`). */
  #stored = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.upstreamId = upstreamIdOf(req);
    this.#socket = req.socket;
    const mark = connectionMarks.get(this.#socket);
    this.#readAtStart = mark?.read ?? 0;
    this.#writtenAtStart = mark?.written ?? 0;
    res.setHeader(REQUEST_ID_HEADER, this.id);
  }

  /** The request as parsed. */
  parsed(api: ApiRequest): void {
    this.#api = api;
  }

  /** The request is for a path beside the API (health, metrics), by this name. */
  side(endpoint: string): void {
    this.#side = endpoint;
  }

  /** Who asked (the basic-auth user, when one was given) and what it reached. */
  reached(target: TargetKind, user: string | undefined): void {
    this.#target = target;
    // A name, cut short: a client may send anything there.
    this.#user = user?.slice(0, 64);
  }

  /** A download promises this much content; it counts as sent if the answer is finished. */
  sendingContent(bytes: number): void {
    this.#transfer = { direction: "download", total: bytes };
  }

  /** An upload of this many bytes is being received. */
  receivingContent(bytes: number): void {
    this.#transfer = { direction: "upload", total: bytes };
  }

  /** How far the transfer got, or null when this request is not one (yet). */
  progress(): TransferProgress | null {
    const t = this.#transfer;
    const api = this.#api;
    if (t === null || api?.key === undefined) return null;
    const moved =
      t.direction === "upload"
        ? this.#socket.bytesRead - this.#readAtStart
        : this.#socket.bytesWritten - this.#writtenAtStart;
    return {
      id: this.id,
      direction: t.direction,
      key: formatKey(api.key),
      uuid: api.uuid,
      target: this.#target,
      bytes: Math.max(0, Math.min(t.total, moved)),
      total: t.total,
      seconds: (performance.now() - this.#started) / 1000,
    };
  }

  /** The upload was stored. */
  contentStored(): void {
    this.#stored = true;
  }

  /** The request ended: one line to `logger`, the outcome to `observer`. */
  end(logger: Logger | undefined, observer: HttpObserver | undefined): void {
    const { req, res } = this;
    const api = this.#api;
    const answered = res.headersSent;
    const t = this.#transfer;
    const read = this.#socket.bytesRead;
    const written = this.#socket.bytesWritten;
    const before = connectionMarks.get(this.#socket);
    connectionMarks.set(this.#socket, { read, written });
    const outcome: RequestOutcome = {
      endpoint:
        this.#side ??
        (api ? (api.path.kind === "generic-key" ? "key" : api.path.operation) : "unknown"),
      version: api ? `v${api.version}` : "none",
      status: answered ? res.statusCode : 0,
      target: this.#target,
      seconds: (performance.now() - this.#started) / 1000,
      bytesIn: read - (before?.read ?? 0),
      bytesOut: written - (before?.written ?? 0),
      sent: res.writableFinished && t?.direction === "download" ? t.total : 0,
      stored: this.#stored && t?.direction === "upload" ? t.total : 0,
    };
    observer?.requestEnded(outcome);
    if (logger === undefined) return;
    // One flat object of one shape (fields that do not apply are
    // undefined, which neither JSON writer prints): the cheapest to build
    // and to write, once per request.
    logger.info(
      {
        reqId: this.id,
        upstreamId: this.upstreamId,
        client: this.#socket.remoteAddress ?? "unknown",
        user: this.#user,
        method: req.method,
        endpoint: outcome.endpoint,
        version: outcome.version,
        uuid: api?.uuid,
        key: api?.key ? formatKey(api.key) : undefined,
        offset: api && api.offset !== 0 ? api.offset : undefined,
        clientUuid: api?.clientUuid,
        target: outcome.target,
        status: outcome.status,
        // Finished: the whole answer was written; else it was cut off.
        complete: res.writableFinished,
        bytesIn: outcome.bytesIn,
        bytesOut: outcome.bytesOut,
        ms: Math.round(outcome.seconds * 10000) / 10,
      },
      "request",
    );
  }
}
