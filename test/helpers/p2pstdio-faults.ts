/**
 * The table of line-protocol faults: every request a client sends, each
 * phase it can be cut off in, each way of cutting it off; and, for each
 * request, the honest exchange that must succeed at once afterwards. Used
 * by test/interop/p2pstdio-faults.test.ts on a ShellSession.
 */
import assert from "node:assert/strict";
import type { ShellSession } from "./p2pstdio-session.js";

export type Request =
  | "CHECKPRESENT"
  | "LOCKCONTENT"
  | "REMOVE"
  | "REMOVE-BEFORE"
  | "GETTIMESTAMP"
  | "GET"
  | "PUT";

export const REQUESTS: readonly Request[] = [
  "CHECKPRESENT",
  "LOCKCONTENT",
  "REMOVE",
  "REMOVE-BEFORE",
  "GETTIMESTAMP",
  "GET",
  "PUT",
];

/**
 * Where the client stops:
 * - lookup: the request is written at once, before the server has said
 *   AUTH-SUCCESS (it is still opening the repository, looking up --uuid,
 *   connecting to nodes);
 * - mid-line: half of the request line, no newline;
 * - after-request: the whole request, nothing read back (the server is in
 *   its Peer call);
 * - locked: LOCKCONTENT answered, the lock held;
 * - mid-response: GET's DATA partly read;
 * - mid-data: PUT's DATA partly sent;
 * - after-data: PUT's DATA all sent (bytes that are not the key's
 *   content), no VALID;
 * - invalid: PUT's DATA all sent and marked INVALID, its answer read.
 */
export type Phase =
  | "lookup"
  | "mid-line"
  | "after-request"
  | "locked"
  | "mid-response"
  | "mid-data"
  | "after-data"
  | "invalid";

/** close: stdin ends (and what the server still says is drained); destroy: both pipes torn down. */
export type Cut = "close" | "destroy";

export interface FaultRow {
  readonly request: Request;
  readonly phase: Phase;
  readonly cut: Cut;
}

/**
 * The phases each request is cut off in, beyond after-request. A cut
 * during the lookup or inside the request line happens before the server
 * knows what the request is, so those two are tried once each (with the
 * request whose lookup reaches furthest), not for every request.
 */
const EXTRA_PHASES: Readonly<Record<Request, readonly Phase[]>> = {
  CHECKPRESENT: [],
  LOCKCONTENT: ["locked"],
  REMOVE: [],
  "REMOVE-BEFORE": [],
  GETTIMESTAMP: [],
  GET: ["mid-line", "mid-response"],
  PUT: ["lookup", "mid-data", "after-data", "invalid"],
};

/** Every (phase, cut) of `request`. An INVALID answered is the same whichever way the client leaves. */
export function faultRows(request: Request): FaultRow[] {
  const phases: Phase[] = ["after-request", ...EXTRA_PHASES[request]];
  return phases.flatMap((phase) =>
    (phase === "invalid" ? (["close"] as const) : (["close", "destroy"] as const)).map((cut) => ({
      request,
      phase,
      cut,
    })),
  );
}

/** A key and its content. */
export interface Content {
  readonly key: string;
  readonly bytes: Buffer;
}

/** What a request works on: a key that is there (reads, removes) or one to upload. */
export interface RowKeys {
  readonly present: Content;
  readonly upload: Content;
  /** The target answers LOCKCONTENT with FAILURE (a cluster does not lock as a whole). */
  readonly locksUnsupported: boolean;
}

/** The request line a row sends (REMOVE-BEFORE with a timestamp the server gave, when it gave one). */
function requestLine(request: Request, keys: RowKeys, timestamp: number): string {
  const k = keys.present.key;
  switch (request) {
    case "CHECKPRESENT":
    case "LOCKCONTENT":
    case "REMOVE":
      return `${request} ${k}`;
    case "REMOVE-BEFORE":
      return `REMOVE-BEFORE ${timestamp + 600} ${k}`;
    case "GETTIMESTAMP":
      return "GETTIMESTAMP";
    case "GET":
      return `GET 0 f.bin ${k}`;
    case "PUT":
      return `PUT f.bin ${keys.upload.key}`;
  }
}

async function timestamp(s: ShellSession): Promise<number> {
  s.write("GETTIMESTAMP\n");
  const t = await s.line();
  assert.match(t, /^TIMESTAMP \d+$/);
  return Number(t.slice("TIMESTAMP ".length));
}

/** PUT of `c`, resuming from the offset the server names; SUCCESS expected. */
async function honestPut(s: ShellSession, c: Content): Promise<void> {
  s.write(`PUT f.bin ${c.key}\n`);
  const r = await s.line();
  if (r === "ALREADY-HAVE" || r.startsWith("ALREADY-HAVE-PLUS")) return;
  assert.match(r, /^PUT-FROM \d+$/);
  const rest = c.bytes.subarray(Number(r.slice("PUT-FROM ".length)));
  s.write(Buffer.concat([Buffer.from(`DATA ${rest.length}\n`), rest, Buffer.from("VALID\n")]));
  assert.match(await s.line(), /^SUCCESS/, `PUT ${c.key} from ${r}`);
}

/**
 * The honest exchange for `request`, which must succeed (a fresh session
 * shows no lock was left behind by the one before). PUT stores the upload
 * key and removes it again, so the next row starts without it; REMOVE and
 * REMOVE-BEFORE put the present key back first.
 */
export async function honest(s: ShellSession, request: Request, keys: RowKeys): Promise<void> {
  const k = keys.present.key;
  switch (request) {
    case "CHECKPRESENT":
      s.write(`CHECKPRESENT ${k}\n`);
      assert.equal(await s.line(), "SUCCESS");
      return;
    case "LOCKCONTENT":
      s.write(`LOCKCONTENT ${k}\n`);
      assert.equal(await s.line(), keys.locksUnsupported ? "FAILURE" : "SUCCESS");
      if (!keys.locksUnsupported) s.write("UNLOCKCONTENT\n");
      return;
    case "REMOVE":
    case "REMOVE-BEFORE": {
      await honestPut(s, keys.present);
      const t = await timestamp(s);
      s.write(`${requestLine(request, keys, t)}\n`);
      assert.match(await s.line(), /^SUCCESS/);
      // Back, for the row to remove it again.
      await honestPut(s, keys.present);
      return;
    }
    case "GETTIMESTAMP":
      await timestamp(s);
      return;
    case "GET": {
      s.write(`GET 0 f.bin ${k}\n`);
      assert.equal(await s.line(), `DATA ${keys.present.bytes.length}`);
      assert.ok((await s.bytes(keys.present.bytes.length)).equals(keys.present.bytes));
      assert.equal(await s.line(), "VALID");
      s.write("SUCCESS\n");
      return;
    }
    case "PUT":
      await honestPut(s, keys.upload);
      s.write(`REMOVE ${keys.upload.key}\n`);
      assert.match(await s.line(), /^SUCCESS/);
      return;
  }
}

/** Drive `s` (handshake done, unless the phase is lookup) up to the row's phase, then cut it off. */
export async function cutOff(s: ShellSession, row: FaultRow, keys: RowKeys): Promise<void> {
  const line = requestLine(row.request, keys, 0);
  switch (row.phase) {
    case "lookup":
      s.write(`VERSION 4\n${line}\n`);
      break;
    case "mid-line":
      s.write(line.slice(0, Math.ceil(line.length / 2)));
      break;
    case "after-request":
      s.write(`${requestLine(row.request, keys, await timestamp(s))}\n`);
      break;
    case "locked":
      s.write(`${line}\n`);
      assert.equal(await s.line(), keys.locksUnsupported ? "FAILURE" : "SUCCESS");
      break;
    case "mid-response": {
      s.write(`${line}\n`);
      assert.equal(await s.line(), `DATA ${keys.present.bytes.length}`);
      await s.bytes(Math.min(64 * 1024, keys.present.bytes.length - 1));
      break;
    }
    default:
      await putPhase(s, row.phase, keys.upload);
  }
  if (row.cut === "close") s.closeInput();
  else s.destroyPipes();
}

/** PUT up to mid-data, after-data (wrong bytes, no VALID) or invalid (INVALID, answered). */
async function putPhase(s: ShellSession, phase: Phase, c: Content): Promise<void> {
  s.write(`PUT f.bin ${c.key}\n`);
  const r = await s.line();
  assert.match(r, /^PUT-FROM \d+$/, "the upload key is absent before each row");
  const offset = Number(r.slice("PUT-FROM ".length));
  const rest = Buffer.from(c.bytes.subarray(offset));
  const header = Buffer.from(`DATA ${rest.length}\n`);
  if (phase === "mid-data") {
    s.write(Buffer.concat([header, rest.subarray(0, Math.floor(rest.length / 2))]));
  } else if (phase === "after-data") {
    // Not the key's content: it must never be stored, whatever the server
    // makes of the missing VALID.
    rest[rest.length - 1] = (rest[rest.length - 1] ?? 0) ^ 0xff;
    s.write(Buffer.concat([header, rest]));
  } else {
    s.write(Buffer.concat([header, rest, Buffer.from("INVALID\n")]));
    assert.match(await s.line(), /^FAILURE/);
  }
}
