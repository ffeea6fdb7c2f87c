/**
 * Differential test of the p2phttp API: the same HTTP requests go to
 * `annexgate p2phttp` and to stock `git annex p2phttp`, each serving its own
 * copy of an identical repository (same annex.uuid, same content), and the
 * answers must agree: status codes always; JSON bodies parsed and
 * deep-compared; for successful GETs the X-git-annex-data-length header and
 * the body bytes. Stock git-annex is the judge; where annexgate deliberately
 * differs, the case says so (`exception`) and asserts annexgate's answer.
 *
 * Requests run in lockstep (one request to each server, then the next), so
 * the two repositories go through the same states; every auth mode gets a
 * fresh repository pair and one server of each kind, reused for all of its
 * requests. Fails (never skips) without stock git-annex.
 *
 * Stock quirks the cases work around (not differences in the answers):
 * - lockcontent of an absent key leaks a P2P connection in stock, which
 *   hangs once its pool is spent: asked sparingly, with --jobs 16;
 * - a lockcontent right after a keeplocked unlock can race stock's own
 *   unlock and answer {"locked":false}: lock pairs are kept apart;
 * - remove of a locked key blocks in stock: not compared; annexgate's
 *   {"removed":false} is tested on its own at the end.
 * Deliberate differences are in EXCEPTIONS, each with its reason.
 *
 * ANNEXGATE_DIFF_VERBOSE=1 prints every pair of answers;
 * ANNEXGATE_DIFF_ONLY="<mode name>" runs one auth mode (and the put runs).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { type IncomingHttpHeaders, request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../helpers/index.js";
import { type RunningP2pHttp, startAnnexgate, startStockP2pHttp } from "../helpers/servers.js";

const ENV = {
  LC_ALL: "C.UTF-8",
  GIT_AUTHOR_NAME: "annexgate test",
  GIT_AUTHOR_EMAIL: "test@annexgate.invalid",
  GIT_COMMITTER_NAME: "annexgate test",
  GIT_COMMITTER_EMAIL: "test@annexgate.invalid",
};

const SERVER_UUID = "5d2a1c4e-7b3f-4e8a-9c61-0f2b3a4d5e6f";
const CLIENT_UUID = "c0ffee00-1111-4222-8333-444455556666";
const UNKNOWN_UUID = "0badbad0-0000-4000-8000-000000000000";
const VERSIONS = [0, 1, 2, 3, 4] as const;
/** How long one request may take before it counts as hung. */
const REQUEST_TIMEOUT_MS = 8_000;

// ---------------------------------------------------------------- content

function sha256eKey(data: Buffer, ext: string): string {
  return `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}${ext}`;
}

interface Content {
  readonly data: Buffer;
  readonly key: string;
}

function content(text: string, size: number): Content {
  const data = Buffer.alloc(size);
  const unit = Buffer.from(`${text}\n`);
  for (let i = 0; i < size; i += unit.length) unit.copy(data, i);
  return { data, key: sha256eKey(data, ".bin") };
}

/** In both repositories from the start. */
const PRESENT = content("present content", 1000);
/** Present too, one per version, for the remove sequences. */
const DOOMED = VERSIONS.map((v) => content(`doomed v${v}`, 300 + v));
const DOOMED_BEFORE = VERSIONS.map((v) => content(`doomed-before v${v}`, 400 + v));
/** Never stored by anyone. */
const ABSENT = content("absent content", 777);
/** A value wrapped as git-annex writes it: `[base64url]`, "=" padded. */
const B64 = (s: string) =>
  `[${Buffer.from(s).toString("base64").replaceAll("+", "-").replaceAll("/", "_")}]`;
/** The same without padding, which git-annex's decoder refuses. */
const B64_UNPADDED = (s: string) => `[${Buffer.from(s).toString("base64url")}]`;

// ------------------------------------------------------------ repositories

async function makeRepo(dir: string): Promise<void> {
  const git = (...a: string[]) => run("git", a, { cwd: dir, env: ENV });
  await run("git", ["init", "-q", dir], { env: ENV });
  await git("config", "annex.uuid", SERVER_UUID);
  await git("annex", "init", "-q", "served");
  const files: string[] = [];
  for (const [i, c] of [PRESENT, ...DOOMED, ...DOOMED_BEFORE].entries()) {
    const f = `file${i}.bin`;
    await writeFile(join(dir, f), c.data);
    files.push(f);
  }
  await git("annex", "add", "-q", ...files);
  await git("commit", "-q", "-m", "content");
}

interface Pair {
  readonly root: string;
  readonly annexgate: string;
  readonly stock: string;
}

async function makePair(name: string): Promise<Pair> {
  const root = await makeTempDir(`annexgate-diff-${name}-`);
  const pair = { root, annexgate: join(root, "annexgate"), stock: join(root, "stock") };
  await Promise.all([makeRepo(pair.annexgate), makeRepo(pair.stock)]);
  return pair;
}

// ---------------------------------------------------------------- requests

/** What a server has told us so far (timestamps and lock ids differ per server). */
interface ServerState {
  readonly name: "annexgate" | "stock";
  readonly port: number;
  /** The repository this server serves. */
  readonly repo: string;
  timestamp?: number;
  lockid?: string;
}

interface Outcome {
  readonly status: number | "timeout" | "error";
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly detail?: string;
}

type Dyn<T> = T | ((s: ServerState) => T);
const resolveDyn = <T>(v: Dyn<T>, s: ServerState): T =>
  typeof v === "function" ? (v as (s: ServerState) => T)(s) : v;

interface Case {
  readonly name: string;
  readonly method?: string;
  /** Path under /git-annex, e.g. `/${uuid}/v4/checkpresent?...`. */
  readonly path: Dyn<string>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** Send the body with Transfer-Encoding: chunked (as keeplocked's stream is). */
  readonly chunked?: boolean;
  /** How to compare JSON: exactly, or by shape for values that cannot agree. */
  readonly compare?: "exact" | "timestamp" | "lock";
  /** Stock's answer must have this status (guards against two broken servers agreeing). */
  readonly expectStatus?: number;
  /** Stock's JSON must deep-equal this, when it answers 200. */
  readonly expectJson?: unknown;
  /** Stock's body must be these bytes, when it answers 200. */
  readonly expectBody?: Buffer;
  /** Learn from the answer (timestamps, lock ids). */
  readonly learn?: (s: ServerState, o: Outcome) => void;
  /** Done to each server's repository before its request is sent. */
  readonly prepare?: (s: ServerState) => Promise<void>;
  /** A documented, deliberate difference from stock (see EXCEPTIONS). */
  readonly exception?: Exception;
}

/** What one side's answer must look like, when an exception applies. */
interface Expect {
  readonly status: number;
  readonly json?: unknown;
  readonly dataLength?: string;
  readonly bodyLength?: number;
}

/**
 * Where annexgate answers differently from stock on purpose. When the two
 * answers differ on such a case, stock's must be `stock` and annexgate's
 * `annexgate`; every exception must be met at least once in a full run.
 */
interface Exception {
  readonly name: string;
  readonly why: string;
  readonly stock: Expect;
  readonly annexgate: Expect;
}

const EXCEPTIONS = {
  negativeGetOffset: {
    name: "GET with a negative offset",
    why:
      "stock git-annex reads offset=-1, promises X-git-annex-data-length size+1 and sends " +
      "no bytes, a response no client can use; annexgate answers 400 (after the same auth checks)",
    stock: { status: 200, dataLength: String(PRESENT.data.length + 1), bodyLength: 0 },
    annexgate: { status: 400 },
  },
  putBeyondTemp: {
    name: "put from an offset beyond the temp file",
    why:
      "stock git-annex writes the body at the offset it holds instead of the one the client " +
      "declared and keeps the result when it verifies (for keys without a checksum, misplaced " +
      "bytes of the right size would be kept); annexgate refuses a put it cannot place",
    stock: { status: 200, json: { plusuuids: [], stored: true } },
    annexgate: { status: 200, json: { plusuuids: [], stored: false } },
  },
  staleTempPrefix: {
    name: "put from below the temp file's size, when the temp file holds other bytes",
    why:
      "stock git-annex skips the body's first bytes in favour of the stale ones in its temp " +
      "file, so the upload fails verification (or, for keys without a checksum, keeps the " +
      "stale bytes); annexgate writes what the client sent, from the offset it declared",
    stock: { status: 200, json: { plusuuids: [], stored: false } },
    annexgate: { status: 200, json: { plusuuids: [], stored: true } },
  },
  keyNotUtf8: {
    name: "a key that is not UTF-8",
    why:
      "stock git-annex reads a percent-encoded byte that is not UTF-8 as U+FFFD, so two keys " +
      "become one (and a base64-wrapped one as bytes); annexgate keeps keys as text and refuses " +
      "such a key with a 400 rather than serve or store a key the client did not send",
    stock: { status: 200, dataLength: "0", bodyLength: 0 },
    annexgate: { status: 400 },
  },
} as const satisfies Record<string, Exception>;

/** Names of the exceptions met so far in this run. */
const exceptionsMet = new Set<string>();

function meets(o: Outcome, e: Expect): boolean {
  if (o.status !== e.status) return false;
  if (e.json !== undefined) {
    try {
      assert.deepStrictEqual(jsonOf(o), e.json);
    } catch {
      return false;
    }
  }
  if (e.dataLength !== undefined && o.headers["x-git-annex-data-length"] !== e.dataLength) {
    return false;
  }
  return e.bodyLength === undefined || o.body.length === e.bodyLength;
}

function send(s: ServerState, c: Case, auth: string | undefined): Promise<Outcome> {
  const method = c.method ?? "POST";
  const body = c.body === undefined ? undefined : Buffer.from(c.body);
  const headers: Record<string, string> = { ...c.headers };
  if (auth !== undefined) headers.Authorization = auth;
  if (!c.chunked && method !== "GET" && method !== "HEAD") {
    headers["Content-Length"] = String(body?.length ?? 0);
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = request(
      {
        host: "127.0.0.1",
        port: s.port,
        method,
        path: `/git-annex${resolveDyn(c.path, s)}`,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", (e) =>
          done({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            detail: `response broke: ${e.message}`,
          }),
        );
      },
    );
    const timer = setTimeout(() => {
      done({ status: "timeout", headers: {}, body: Buffer.alloc(0) });
      req.destroy();
    }, REQUEST_TIMEOUT_MS);
    req.on("error", (e) =>
      done({ status: "error", headers: {}, body: Buffer.alloc(0), detail: e.message }),
    );
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function jsonOf(o: Outcome): unknown {
  const ct = String(o.headers["content-type"] ?? "");
  if (!ct.startsWith("application/json")) return undefined;
  try {
    return JSON.parse(o.body.toString("utf8"));
  } catch {
    return undefined;
  }
}

function describeOutcome(o: Outcome): string {
  const ct = o.headers["content-type"];
  const dl = o.headers["x-git-annex-data-length"];
  const text = o.body.subarray(0, 160).toString("utf8");
  return `${o.status}${ct ? ` [${ct}]` : ""}${dl !== undefined ? ` len=${dl}` : ""} ${JSON.stringify(text)}${o.detail ? ` (${o.detail})` : ""}`;
}

/** Differences between annexgate's answer and stock's; empty when they agree. */
function differences(c: Case, ag: Outcome, st: Outcome): string[] {
  const diffs: string[] = [];
  if (ag.status !== st.status) diffs.push(`status ${ag.status} vs ${st.status}`);
  const stJson = jsonOf(st);
  const agJson = jsonOf(ag);
  if (stJson !== undefined || agJson !== undefined) {
    if (ag.headers["content-type"] !== st.headers["content-type"]) {
      diffs.push(`content-type ${ag.headers["content-type"]} vs ${st.headers["content-type"]}`);
    }
    const mode = c.compare ?? "exact";
    if (mode === "exact") {
      try {
        assert.deepStrictEqual(agJson, stJson);
      } catch {
        diffs.push(`json ${JSON.stringify(agJson)} vs ${JSON.stringify(stJson)}`);
      }
    } else if (mode === "timestamp") {
      const a = (agJson as { timestamp?: unknown } | undefined)?.timestamp;
      const b = (stJson as { timestamp?: unknown } | undefined)?.timestamp;
      const fine =
        Number.isInteger(a) &&
        Number.isInteger(b) &&
        Object.keys(agJson as object).length === 1 &&
        Object.keys(stJson as object).length === 1 &&
        // one machine, one CLOCK_MONOTONIC: the seconds agree closely
        Math.abs((a as number) - (b as number)) <= 5;
      if (!fine) diffs.push(`timestamp ${JSON.stringify(agJson)} vs ${JSON.stringify(stJson)}`);
    } else {
      const shape = (j: unknown) => {
        const o = j as Record<string, unknown> | undefined;
        return o === undefined
          ? "none"
          : JSON.stringify(Object.keys(o).map((k) => [k, k === "lockid" ? typeof o[k] : o[k]]));
      };
      if (shape(agJson) !== shape(stJson)) {
        diffs.push(`lock ${JSON.stringify(agJson)} vs ${JSON.stringify(stJson)}`);
      }
    }
  }
  if (st.status === 401 || ag.status === 401) {
    const a = ag.headers["www-authenticate"];
    const b = st.headers["www-authenticate"];
    if (a !== b) diffs.push(`WWW-Authenticate ${a} vs ${b}`);
  }
  const isGet = (c.method ?? "POST") === "GET";
  if (isGet && st.status === 200) {
    const a = ag.headers["x-git-annex-data-length"];
    const b = st.headers["x-git-annex-data-length"];
    if (a !== b) diffs.push(`data-length ${a} vs ${b}`);
    if (!ag.body.equals(st.body)) {
      diffs.push(`body ${ag.body.length} bytes vs ${st.body.length} bytes`);
    }
  }
  return diffs;
}

// --------------------------------------------------------------- the cases

function qs(params: Readonly<Record<string, string | readonly string[] | undefined>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of typeof v === "string" ? [v] : v) {
      parts.push(`${k}=${encodeURIComponent(one)}`);
    }
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

const api = (
  v: number,
  op: string,
  params: Readonly<Record<string, string | readonly string[] | undefined>> = {},
  uuid = SERVER_UUID,
) => `/${uuid}/v${v}/${op}${qs(params)}`;

const withClient = (params: Record<string, string | undefined>) => ({
  clientuuid: CLIENT_UUID,
  ...params,
});

/** Remembers the lock id a lockcontent answer carries (a dummy when refused). */
const learnLockId = (s: ServerState, o: Outcome) => {
  const id = (jsonOf(o) as { lockid?: string } | undefined)?.lockid;
  s.lockid = id ?? "00000000-0000-4000-8000-00000000dead";
};

/** Requests that leave both repositories as they were. */
function readCases(lockAbsent: readonly number[]): Case[] {
  const cases: Case[] = [];
  for (const v of VERSIONS) {
    const p = (op: string, params: Record<string, string | undefined> = {}) =>
      api(v, op, withClient(params));
    const get = (
      name: string,
      params: Record<string, string | undefined>,
      expectBody: Buffer,
      key = PRESENT.key,
    ) =>
      cases.push({
        name: `v${v} get ${name}`,
        method: "GET",
        path: `/${SERVER_UUID}/v${v}/key/${key}${qs(withClient(params))}`,
        expectBody,
      });
    // Lock pairs are kept apart by other requests: stock git-annex answers a
    // keeplocked unlock before its P2P side has let go of the lock file, so
    // a lockcontent right after it can find the lock briefly held
    // exclusively and answer {"locked":false} (seen about once in 200).
    cases.push(
      {
        name: `v${v} lockcontent present`,
        path: p("lockcontent", { key: PRESENT.key }),
        compare: "lock",
        learn: learnLockId,
      },
      {
        name: `v${v} keeplocked unlock`,
        path: (s) => p("keeplocked", { lockid: s.lockid }),
        body: '{"unlock":true}\n',
        chunked: true,
        expectJson: { locked: false },
      },
      {
        name: `v${v} checkpresent present`,
        path: p("checkpresent", { key: PRESENT.key }),
        expectJson: { present: true },
      },
      {
        name: `v${v} checkpresent absent`,
        path: p("checkpresent", { key: ABSENT.key }),
        expectJson: { present: false },
      },
    );
    const none = Buffer.alloc(0);
    get("no offset", {}, PRESENT.data);
    get("offset 0", { offset: "0" }, PRESENT.data);
    get("offset middle", { offset: "400" }, PRESENT.data.subarray(400));
    get("offset at end", { offset: String(PRESENT.data.length) }, none);
    get("offset past end", { offset: "5000" }, none);
    get("missing key", {}, none, ABSENT.key);
    get("associatedfile", { associatedfile: "some/file.bin" }, PRESENT.data);
    cases.push(
      {
        name: `v${v} lockcontent present again`,
        path: p("lockcontent", { key: PRESENT.key }),
        compare: "lock",
        learn: learnLockId,
      },
      {
        name: `v${v} keeplocked base64url lockid, no clientuuid, unlock false then true`,
        path: (s) => api(v, "keeplocked", { lockid: B64(s.lockid ?? "") }),
        body: '{"unlock":false}\n{"unlock":true}\n',
        chunked: true,
      },
      {
        name: `v${v} gettimestamp`,
        path: p("gettimestamp"),
        compare: "timestamp",
        learn: (s, o) => {
          const t = (jsonOf(o) as { timestamp?: number } | undefined)?.timestamp;
          if (typeof t === "number") s.timestamp = t;
        },
      },
      {
        name: `v${v} putoffset absent`,
        path: p("putoffset", { key: ABSENT.key }),
        expectJson: { offset: 0 },
      },
      { name: `v${v} putoffset present`, path: p("putoffset", { key: PRESENT.key }) },
      { name: `v${v} remove absent`, path: p("remove", { key: ABSENT.key }) },
      {
        name: `v${v} remove-before past`,
        path: (s) =>
          p("remove-before", {
            key: PRESENT.key,
            timestamp: String(Math.max(0, (s.timestamp ?? 0) - 1)),
          }),
      },
    );
    // Stock git-annex leaks a P2P connection and a worker on every
    // lockcontent of an absent key (serveLockContent never releases them
    // when LOCKCONTENT fails), and hangs once its pool is used up; so this
    // one is asked only where the caller says, and the pool is made large.
    if (lockAbsent.includes(v)) {
      cases.push({
        name: `v${v} lockcontent absent`,
        path: p("lockcontent", { key: ABSENT.key }),
        compare: "lock",
      });
    }
  }
  cases.push(
    {
      name: "unversioned get present",
      method: "GET",
      path: `/${SERVER_UUID}/key/${PRESENT.key}`,
    },
    {
      name: "unversioned get present with clientuuid and bypass",
      method: "GET",
      path: `/${SERVER_UUID}/key/${PRESENT.key}${qs({ clientuuid: CLIENT_UUID, bypass: UNKNOWN_UUID })}`,
    },
    { name: "unversioned get missing", method: "GET", path: `/${SERVER_UUID}/key/${ABSENT.key}` },
    {
      name: "unversioned HEAD present",
      method: "HEAD",
      path: `/${SERVER_UUID}/key/${PRESENT.key}`,
    },
    { name: "v4 HEAD present", method: "HEAD", path: api(4, `key/${PRESENT.key}`, withClient({})) },
  );
  return cases;
}

/** Malformed, misrouted and unknown requests (no state change either). */
function malformedCases(): Case[] {
  const cp = (params: Record<string, string | readonly string[] | undefined>, v = 4) =>
    api(v, "checkpresent", params);
  const cases: Case[] = [
    { name: "checkpresent no key", path: cp({ clientuuid: CLIENT_UUID }) },
    { name: "checkpresent bad key", path: cp({ key: "notakey", clientuuid: CLIENT_UUID }) },
    { name: "checkpresent empty key", path: cp({ key: "", clientuuid: CLIENT_UUID }) },
    { name: "checkpresent no clientuuid", path: cp({ key: PRESENT.key }) },
    { name: "checkpresent empty clientuuid", path: cp({ key: PRESENT.key, clientuuid: "" }) },
    {
      name: "checkpresent base64url key",
      path: cp({ key: B64(PRESENT.key), clientuuid: CLIENT_UUID }),
    },
    {
      name: "checkpresent base64url clientuuid",
      path: cp({ key: PRESENT.key, clientuuid: B64(CLIENT_UUID) }),
    },
    {
      name: "checkpresent base64url server uuid",
      path: api(4, "checkpresent", withClient({ key: PRESENT.key }), B64(SERVER_UUID)),
    },
    {
      name: "checkpresent unpadded base64url key",
      path: cp({ key: B64_UNPADDED(PRESENT.key), clientuuid: CLIENT_UUID }),
    },
    {
      name: "checkpresent bad base64 key",
      path: cp({ key: "[!!notbase64!!]", clientuuid: CLIENT_UUID }),
    },
    {
      name: "checkpresent base64url of a bad key",
      path: cp({ key: B64("notakey"), clientuuid: CLIENT_UUID }),
    },
    {
      name: "checkpresent bad base64 clientuuid",
      path: cp({ key: PRESENT.key, clientuuid: "[!!]" }),
    },
    {
      name: "checkpresent empty base64 clientuuid",
      path: cp({ key: PRESENT.key, clientuuid: "[]" }),
    },
    {
      name: "checkpresent bypass",
      path: cp({ key: PRESENT.key, clientuuid: CLIENT_UUID, bypass: [UNKNOWN_UUID, CLIENT_UUID] }),
    },
    { name: "checkpresent empty bypass", path: cp(withClient({ key: PRESENT.key, bypass: "" })) },
    {
      name: "checkpresent non-uuid clientuuid",
      path: cp({ key: PRESENT.key, clientuuid: "not a uuid at all" }),
    },
    {
      name: "checkpresent unknown server uuid",
      path: api(4, "checkpresent", withClient({ key: PRESENT.key }), UNKNOWN_UUID),
    },
    {
      name: "checkpresent duplicate key parameter",
      path: `${cp({ key: PRESENT.key, clientuuid: CLIENT_UUID })}&key=${ABSENT.key}`,
    },
    {
      name: "get unknown server uuid",
      method: "GET",
      path: `/${UNKNOWN_UUID}/v4/key/${PRESENT.key}${qs(withClient({}))}`,
    },
    {
      name: "unversioned get unknown server uuid",
      method: "GET",
      path: `/${UNKNOWN_UUID}/key/${PRESENT.key}`,
    },
    {
      name: "get bad offset",
      method: "GET",
      path: api(4, `key/${PRESENT.key}`, withClient({ offset: "abc" })),
    },
    {
      name: "get negative offset",
      exception: EXCEPTIONS.negativeGetOffset,
      method: "GET",
      path: api(4, `key/${PRESENT.key}`, withClient({ offset: "-1" })),
    },
    ...["007", " 7", "7 ", "(7)", "( (7) )", "0x10", "0O17", "-0", "99999999999999999999999"].map(
      (offset): Case => ({
        name: `get offset ${JSON.stringify(offset)}`,
        method: "GET",
        path: api(4, `key/${PRESENT.key}`, withClient({ offset })),
      }),
    ),
    ...["0b11", "1e2", "7.0", "1_0", "-(7)", "--7", "0x", "7)"].map(
      (offset): Case => ({
        name: `get unparsable offset ${JSON.stringify(offset)}`,
        method: "GET",
        path: api(4, `key/${PRESENT.key}`, withClient({ offset })),
      }),
    ),
    { name: "get bad key", method: "GET", path: api(4, "key/notakey", withClient({})) },
    {
      name: "get base64url key",
      method: "GET",
      path: api(4, `key/${B64(PRESENT.key)}`, withClient({})),
    },
    { name: "get v4 no clientuuid", method: "GET", path: api(4, `key/${PRESENT.key}`) },
    { name: "unversioned get bad key", method: "GET", path: `/${SERVER_UUID}/key/notakey` },
    {
      name: "unversioned get key with a stray % (kept as is)",
      method: "GET",
      path: `/${SERVER_UUID}/key/WORM-s5-m1--a%zz%25b`,
    },
    {
      name: "get key with an escape that is not UTF-8",
      method: "GET",
      path: api(4, "key/WORM-s5-m1--a%ff", withClient({})),
      exception: EXCEPTIONS.keyNotUtf8,
    },
    {
      name: "checkpresent server uuid with a broken escape",
      path: api(4, "checkpresent", withClient({ key: PRESENT.key }), "%E0%A4%A"),
    },
    {
      name: "remove-before no timestamp",
      path: api(4, "remove-before", withClient({ key: PRESENT.key })),
    },
    ...["-5", "(0x10)", " 3 "].map(
      (timestamp): Case => ({
        name: `remove-before timestamp ${JSON.stringify(timestamp)}`,
        path: api(4, "remove-before", withClient({ key: PRESENT.key, timestamp })),
      }),
    ),
    {
      name: "remove-before absent key, past timestamp",
      path: api(4, "remove-before", withClient({ key: ABSENT.key, timestamp: "0" })),
    },
    {
      name: "remove-before bad timestamp",
      path: api(4, "remove-before", withClient({ key: PRESENT.key, timestamp: "soon" })),
    },
    { name: "keeplocked no lockid", path: api(4, "keeplocked", withClient({})), chunked: true },
    {
      name: "keeplocked empty lockid",
      path: api(4, "keeplocked", withClient({ lockid: "" })),
      body: '{"unlock":true}\n',
      chunked: true,
    },
    {
      name: "keeplocked bad base64 lockid",
      path: api(4, "keeplocked", withClient({ lockid: "[!!]" })),
      body: '{"unlock":true}\n',
      chunked: true,
    },
    {
      name: "keeplocked unknown lockid, unlock at once",
      path: api(4, "keeplocked", withClient({ lockid: "00000000-0000-4000-8000-00000000beef" })),
      body: '{"unlock":true}\n',
      chunked: true,
    },
    {
      name: "keeplocked unknown lockid, no clientuuid",
      path: api(4, "keeplocked", { lockid: "00000000-0000-4000-8000-00000000beef" }),
      body: '{"unlock":true}\n',
      chunked: true,
    },
    {
      name: "put without data-length",
      path: api(4, "put", withClient({ key: ABSENT.key })),
      body: ABSENT.data,
    },
    {
      name: "put bad data-length",
      path: api(4, "put", withClient({ key: ABSENT.key })),
      headers: { "X-git-annex-data-length": "lots" },
      body: ABSENT.data,
    },
    {
      name: "put negative data-length",
      path: api(4, "put", withClient({ key: ABSENT.key })),
      headers: { "X-git-annex-data-length": "-1" },
      body: "",
    },
    {
      name: "put bad offset",
      path: api(4, "put", withClient({ key: ABSENT.key, offset: "x" })),
      headers: { "X-git-annex-data-length": String(ABSENT.data.length) },
      body: ABSENT.data,
    },
    {
      name: "put bad data-present",
      path: api(4, "put", withClient({ key: ABSENT.key, "data-present": "maybe" })),
      headers: { "X-git-annex-data-length": String(ABSENT.data.length) },
      body: ABSENT.data,
    },
    {
      name: "put no key",
      path: api(4, "put", withClient({})),
      headers: { "X-git-annex-data-length": String(ABSENT.data.length) },
      body: ABSENT.data,
    },
    // Versions an endpoint does not have.
    { name: "v2 gettimestamp", path: api(2, "gettimestamp", withClient({})) },
    { name: "v0 gettimestamp", path: api(0, "gettimestamp", withClient({})) },
    { name: "v0 putoffset", path: api(0, "putoffset", withClient({ key: ABSENT.key })) },
    {
      name: "v2 remove-before",
      path: api(2, "remove-before", withClient({ key: ABSENT.key, timestamp: "0" })),
    },
    { name: "v5 checkpresent", path: api(5, "checkpresent", withClient({ key: PRESENT.key })) },
    { name: "vx checkpresent", path: `/${SERVER_UUID}/vx/checkpresent${qs({ key: PRESENT.key })}` },
    {
      name: "v1 put with data-present (only v4 has it)",
      path: api(1, "put", withClient({ key: ABSENT.key, "data-present": "maybe" })),
      headers: { "X-git-annex-data-length": "0" },
      body: "",
    },
    // Wrong methods.
    { name: "GET checkpresent", method: "GET", path: cp(withClient({ key: PRESENT.key })) },
    { name: "PUT put", method: "PUT", path: api(4, "put", withClient({ key: ABSENT.key })) },
    {
      name: "DELETE remove",
      method: "DELETE",
      path: api(4, "remove", withClient({ key: ABSENT.key })),
    },
    { name: "POST key", path: api(4, `key/${PRESENT.key}`, withClient({})) },
    { name: "POST unversioned key", path: `/${SERVER_UUID}/key/${PRESENT.key}` },
    { name: "GET gettimestamp", method: "GET", path: api(4, "gettimestamp", withClient({})) },
    { name: "HEAD lockcontent", method: "HEAD", path: api(3, "lockcontent", withClient({})) },
    { name: "PATCH unversioned key", method: "PATCH", path: `/${SERVER_UUID}/key/${PRESENT.key}` },
    {
      name: "GET keeplocked with bad server uuid",
      method: "GET",
      path: api(4, "keeplocked", withClient({ lockid: "x" }), "[!!]"),
    },
    // Unknown paths.
    { name: "unknown operation", path: api(4, "frobnicate", withClient({})) },
    { name: "unknown operation GET", method: "GET", path: api(4, "frobnicate", withClient({})) },
    { name: "no operation", method: "GET", path: `/${SERVER_UUID}/v4` },
    { name: "server uuid only", method: "GET", path: `/${SERVER_UUID}` },
    { name: "root", method: "GET", path: "" },
    { name: "versioned key without key", method: "GET", path: `/${SERVER_UUID}/v4/key` },
    { name: "unversioned key without key", method: "GET", path: `/${SERVER_UUID}/key` },
    {
      name: "trailing segment",
      path: `/${SERVER_UUID}/v4/checkpresent/extra${qs(withClient({ key: PRESENT.key }))}`,
    },
  ];
  return cases;
}

// ------------------------------------------------------------- auth modes

const USERS_ENV = {
  GIT_ANNEX_P2PHTTP_PASSWORD_alice: "alice-secret",
  GIT_ANNEX_P2PHTTP_PASSWORD_bob: "bob-secret",
  GIT_ANNEX_P2PHTTP_PERMISSIONS_bob: "readonly",
  GIT_ANNEX_P2PHTTP_PASSWORD_carol: "carol-secret",
  GIT_ANNEX_P2PHTTP_PERMISSIONS_carol: "appendonly",
};

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

interface Cred {
  readonly name: string;
  readonly header?: string;
}

const NOBODY: Cred = { name: "no credentials" };
const ALICE: Cred = { name: "alice", header: basic("alice", "alice-secret") };
const ALICE_WRONG: Cred = { name: "alice wrong password", header: basic("alice", "nope") };
const BOB: Cred = { name: "bob (readonly)", header: basic("bob", "bob-secret") };
const CAROL: Cred = { name: "carol (appendonly)", header: basic("carol", "carol-secret") };
const MALLORY: Cred = { name: "unknown user", header: basic("mallory", "x") };
const GARBAGE: Cred = { name: "malformed Authorization", header: "Basic !!!" };

/**
 * What stock git-annex answers one credential in one mode, as statuses of
 * [checkpresent, put, remove, lockcontent]: asserted on stock's answers, so
 * that a mode both servers got wrong in the same way (a flag or an
 * environment not passed) cannot pass unnoticed.
 */
type Access = readonly [read: number, write: number, remove: number, lock: number];

const ALL = (status: number): Access => [status, status, status, status];
const READ_ONLY: Access = [200, 403, 403, 200];
const APPEND_ONLY: Access = [200, 200, 403, 200];

interface AuthMode {
  readonly name: string;
  readonly args: string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly creds: readonly (readonly [Cred, Access])[];
}

const MODES: readonly AuthMode[] = [
  {
    name: "--wideopen",
    args: ["--wideopen"],
    creds: [
      [NOBODY, ALL(200)],
      [ALICE, ALL(200)],
    ],
  },
  {
    name: "--unauth-readonly",
    args: ["--unauth-readonly"],
    creds: [
      [NOBODY, READ_ONLY],
      [ALICE, READ_ONLY],
    ],
  },
  {
    name: "--unauth-appendonly",
    args: ["--unauth-appendonly"],
    creds: [
      [NOBODY, APPEND_ONLY],
      [ALICE, APPEND_ONLY],
    ],
  },
  {
    name: "--unauth-readonly --unauth-nolocking",
    args: ["--unauth-readonly", "--unauth-nolocking"],
    creds: [[NOBODY, [200, 403, 403, 403]]],
  },
  {
    name: "no auth flags",
    args: [],
    creds: [
      [NOBODY, ALL(401)],
      [ALICE, ALL(401)],
    ],
  },
  {
    name: "--authenv-http",
    args: ["--authenv-http"],
    env: USERS_ENV,
    creds: [
      [NOBODY, ALL(401)],
      [ALICE, ALL(200)],
      [ALICE_WRONG, ALL(401)],
      // An authenticated read-only user may not lock (only anonymous ones may).
      [BOB, [200, 403, 403, 403]],
      [CAROL, APPEND_ONLY],
      [MALLORY, ALL(401)],
      [GARBAGE, ALL(400)],
    ],
  },
  {
    name: "--authenv-http --unauth-readonly",
    args: ["--authenv-http", "--unauth-readonly"],
    env: USERS_ENV,
    creds: [
      // Anonymous: read and lock; asked to write, told to authenticate.
      [NOBODY, [200, 401, 401, 200]],
      [ALICE, ALL(200)],
      // Wrong credentials: anonymous with authentication turned off.
      [ALICE_WRONG, READ_ONLY],
      [CAROL, APPEND_ONLY],
    ],
  },
];

/** The case, with what stock must answer it when it is one of the access probes. */
function withAccess(c: Case, access: Access): Case {
  const i = ["v4 checkpresent present", "put", "remove", "v4 lockcontent present"].indexOf(c.name);
  const status = access[i];
  return status === undefined ? c : { ...c, expectStatus: status };
}

/** A put and a remove of a key of the mode's and credential's own: what each may change. */
function permissionCases(tag: string): Case[] {
  const c = content(`permission ${tag}`, 123);
  const dl = { "X-git-annex-data-length": String(c.data.length) };
  return [
    { name: "put", path: api(4, "put", withClient({ key: c.key })), headers: dl, body: c.data },
    { name: "checkpresent after put", path: api(4, "checkpresent", withClient({ key: c.key })) },
    { name: "remove", path: api(4, "remove", withClient({ key: c.key })) },
    { name: "checkpresent after remove", path: api(4, "checkpresent", withClient({ key: c.key })) },
  ];
}

// ------------------------------------------------------- the mutating runs

/** Put, resume, verify, remove, remove-before: one run per version, on keys of its own. */
function mutatingCases(v: number): Case[] {
  const full = content(`put full v${v}`, 2000);
  const wrong = content(`put wrong v${v}`, 900);
  const dp = content(`data-present v${v}`, 600);
  const half = 700;
  const p = (op: string, params: Record<string, string | undefined> = {}) =>
    api(v, op, withClient(params));
  const put = (
    name: string,
    c: Content,
    body: Buffer,
    dataLength: number,
    params: Record<string, string | undefined> = {},
    extra: Partial<Case> = {},
  ): Case => ({
    name: `v${v} ${name}`,
    path: p("put", { key: c.key, ...params }),
    headers: { "X-git-annex-data-length": String(dataLength) },
    body,
    ...extra,
  });
  const cases: Case[] = [];
  if (v >= 1)
    cases.push({ name: `v${v} putoffset before`, path: p("putoffset", { key: full.key }) });
  cases.push(put("put short body", full, full.data.subarray(0, half), full.data.length));
  if (v >= 1) {
    cases.push({ name: `v${v} putoffset after short`, path: p("putoffset", { key: full.key }) });
  }
  cases.push(
    { name: `v${v} checkpresent after short`, path: p("checkpresent", { key: full.key }) },
    put("put resume", full, full.data.subarray(half), full.data.length - half, {
      offset: String(half),
    }),
    { name: `v${v} checkpresent after resume`, path: p("checkpresent", { key: full.key }) },
    {
      name: `v${v} get after resume`,
      method: "GET",
      path: `/${SERVER_UUID}/v${v}/key/${full.key}${qs(withClient({}))}`,
    },
    put("put already present", full, full.data, full.data.length),
  );
  if (v >= 1) {
    cases.push({ name: `v${v} putoffset present`, path: p("putoffset", { key: full.key }) });
  }
  const bad = Buffer.from(wrong.data);
  bad[10] = (bad[10] ?? 0) ^ 0xff;
  cases.push(put("put wrong content", wrong, bad, bad.length));
  if (v >= 1) {
    cases.push({ name: `v${v} putoffset after wrong`, path: p("putoffset", { key: wrong.key }) });
  }
  cases.push(
    { name: `v${v} checkpresent after wrong`, path: p("checkpresent", { key: wrong.key }) },
    put(
      "put too long body",
      wrong,
      Buffer.concat([wrong.data, Buffer.from("xx")]),
      wrong.data.length + 2,
    ),
    { name: `v${v} checkpresent after too long`, path: p("checkpresent", { key: wrong.key }) },
    put("put full in one go", wrong, wrong.data, wrong.data.length),
    { name: `v${v} checkpresent after full`, path: p("checkpresent", { key: wrong.key }) },
  );
  if (v === 4) {
    cases.push(
      put("put data-present, no temp file", dp, Buffer.alloc(0), 0, { "data-present": "true" }),
      { name: `v${v} checkpresent after data-present`, path: p("checkpresent", { key: dp.key }) },
      put("put data-present=false", dp, dp.data, dp.data.length, { "data-present": "false" }),
      put("put data-present, already present", dp, Buffer.alloc(0), 0, { "data-present": "true" }),
    );
  }
  // Removal: plain remove, then remove-before past (refused) and future (done).
  const doomed = DOOMED[v] as Content;
  cases.push(
    { name: `v${v} remove present`, path: p("remove", { key: doomed.key }) },
    { name: `v${v} checkpresent after remove`, path: p("checkpresent", { key: doomed.key }) },
    { name: `v${v} remove again`, path: p("remove", { key: doomed.key }) },
    {
      name: `v${v} get after remove`,
      method: "GET",
      path: `/${SERVER_UUID}/v${v}/key/${doomed.key}${qs(withClient({}))}`,
    },
    { name: `v${v} remove put key`, path: p("remove", { key: full.key }) },
    { name: `v${v} putoffset after remove`, path: p("putoffset", { key: full.key }) },
  );
  if (v >= 3) {
    const db = DOOMED_BEFORE[v] as Content;
    cases.push(
      {
        name: `v${v} gettimestamp`,
        path: p("gettimestamp"),
        compare: "timestamp",
        learn: (s, o) => {
          const t = (jsonOf(o) as { timestamp?: number } | undefined)?.timestamp;
          if (typeof t === "number") s.timestamp = t;
        },
      },
      {
        name: `v${v} remove-before past`,
        path: (s) => p("remove-before", { key: db.key, timestamp: String((s.timestamp ?? 1) - 1) }),
      },
      {
        name: `v${v} checkpresent after remove-before past`,
        path: p("checkpresent", { key: db.key }),
      },
      {
        name: `v${v} remove-before future`,
        path: (s) =>
          p("remove-before", { key: db.key, timestamp: String((s.timestamp ?? 0) + 600) }),
      },
      {
        name: `v${v} checkpresent after remove-before future`,
        path: p("checkpresent", { key: db.key }),
      },
    );
  }
  return cases;
}

/** Uploads that a well-behaved client does not send, and resumes that go astray (v4). */
function putEdgeCases(): Case[] {
  const v = 4;
  const p = (op: string, params: Record<string, string | undefined> = {}) =>
    api(v, op, withClient(params));
  const put = (
    name: string,
    key: string,
    body: Buffer | string,
    dataLength: number | string,
    params: Record<string, string | undefined> = {},
  ): Case => ({
    name,
    path: p("put", { key, ...params }),
    headers: { "X-git-annex-data-length": String(dataLength) },
    body,
  });
  const check = (name: string, key: string): Case[] => [
    { name: `${name}: putoffset`, path: p("putoffset", { key }) },
    { name: `${name}: checkpresent`, path: p("checkpresent", { key }) },
  ];
  const a = content("edge a", 1500);
  const b = content("edge b", 1500);
  const c = content("edge c", 800);
  const d = content("edge d", 800);
  const e = content("edge e", 900);
  const f = content("edge f", 1000);
  const g = content("edge g", 640);
  const h = content("edge h", 650);
  const i = content("edge i", 660);
  const j = content("edge j", 1200);
  const worm = Buffer.from("worm content, not checksummed\n");
  const wormKey = `WORM-s${worm.length}-m1700000000--some%file.txt`;
  const unsized = Buffer.from("a key without a size\n");
  const unsizedKey = `SHA256--${createHash("sha256").update(unsized).digest("hex")}`;
  const tmpFile = (key: string) => (s: ServerState) => join(s.repo, ".git", "annex", "tmp", key);
  return [
    // A client that resumes from less than the server holds.
    put("short put", a.key, a.data.subarray(0, 900), a.data.length),
    ...check("after short put", a.key),
    put("resume from below the temp size", a.key, a.data.subarray(300), a.data.length - 300, {
      offset: "300",
    }),
    ...check("after resume from below", a.key),
    // A client that resumes from more than the server holds, sending the tail.
    put("resume from beyond the temp size", b.key, b.data.subarray(600), b.data.length - 600, {
      offset: "600",
    }),
    ...check("after resume from beyond", b.key),
    // Promised more than was sent, though what was sent is all of the content.
    put("data-length larger than a complete body", c.key, c.data, c.data.length + 100),
    ...check("after data-length larger", c.key),
    put("data-present adopts the complete temp file", c.key, "", 0, { "data-present": "true" }),
    ...check("after data-present adopts", c.key),
    // Sent more than was promised.
    put("body longer than data-length", d.key, Buffer.concat([d.data, d.data]), d.data.length),
    ...check("after body longer", d.key),
    // A partial temp file is not content.
    put("short put before data-present", e.key, e.data.subarray(0, 400), e.data.length),
    put("data-present with a partial temp file", e.key, "", 0, { "data-present": "true" }),
    ...check("after data-present partial", e.key),
    // The temp file placed by other means (as a proxy does before DATA-PRESENT).
    {
      name: "data-present with a temp file put in place",
      path: p("put", { key: f.key, "data-present": "true" }),
      headers: { "X-git-annex-data-length": "0" },
      body: "",
      prepare: async (s) => {
        await writeFile(tmpFile(f.key)(s), f.data);
      },
    },
    ...check("after data-present in place", f.key),
    {
      name: "data-present with a wrong temp file put in place",
      path: p("put", { key: g.key, "data-present": "true" }),
      headers: { "X-git-annex-data-length": "0" },
      body: "",
      prepare: async (s) => {
        await writeFile(tmpFile(g.key)(s), Buffer.alloc(g.data.length, 7));
      },
    },
    ...check("after data-present wrong", g.key),
    // Keys that cannot be checksummed, or have no size.
    put("WORM key", wormKey, worm, worm.length),
    ...check("after WORM put", wormKey),
    { name: "get WORM key", method: "GET", path: api(v, `key/${wormKey}`, withClient({})) },
    put("key without size", unsizedKey, unsized, unsized.length),
    ...check("after unsized put", unsizedKey),
    {
      name: "get key without size, offset 5",
      method: "GET",
      path: api(v, `key/${unsizedKey}`, withClient({ offset: "5" })),
    },
    put("associatedfile", h.key, h.data, h.data.length, { associatedfile: B64("dir/h.bin") }),
    put("bad associatedfile", h.key, h.data, h.data.length, { associatedfile: "[!!]" }),
    ...check("after associatedfile", h.key),
    // Exception: a whole content sent from an offset the server does not hold.
    {
      ...put("resume from beyond the temp size, whole content", i.key, i.data, i.data.length, {
        offset: "100",
      }),
      exception: EXCEPTIONS.putBeyondTemp,
    },
    {
      name: "remove after resume from beyond (both absent again)",
      path: p("remove", { key: i.key }),
    },
    ...check("after remove of resume from beyond", i.key),
    // Exception: the temp file holds other bytes than the client sends.
    put("short put of other bytes", j.key, Buffer.alloc(500, 9), j.data.length),
    ...check("after short put of other bytes", j.key),
    {
      ...put("full put from offset 0 over other bytes", j.key, j.data, j.data.length),
      exception: EXCEPTIONS.staleTempPrefix,
    },
    {
      name: "remove after full put over other bytes (both absent again)",
      path: p("remove", { key: j.key }),
    },
    ...check("after remove of full put over other bytes", j.key),
    // Numbers as Haskell's `read` takes them.
    put("data-length in parentheses", e.key, e.data, `(${e.data.length})`),
    ...check("after parenthesised data-length", e.key),
    put("negative data-length", b.key, b.data, -1),
    put("negative offset", b.key, b.data, b.data.length, { offset: "-1" }),
    ...check("after negative offset", b.key),
    {
      ...put("huge offset", b.key, b.data, b.data.length, { offset: "99999999999999999999999" }),
      exception: EXCEPTIONS.putBeyondTemp,
    },
    { name: "remove after huge offset (both absent again)", path: p("remove", { key: b.key }) },
    ...check("after huge offset", b.key),
  ];
}

// ----------------------------------------------------------------- runner

interface Comparison {
  readonly where: string;
  /** The answers differ as a documented exception says they do. */
  readonly excepted: boolean;
  readonly annexgate: Outcome;
  readonly stock: Outcome;
  readonly diffs: string[];
}

const VERBOSE = process.env.ANNEXGATE_DIFF_VERBOSE === "1";

class Duo {
  readonly comparisons: Comparison[] = [];
  /** Times stock git-annex hung on a request and was restarted (its own bugs). */
  stockRestarts = 0;
  private constructor(
    readonly ag: RunningP2pHttp,
    public st: RunningP2pHttp,
    readonly agState: ServerState,
    public stState: ServerState,
    private readonly restartStockServer: () => Promise<RunningP2pHttp>,
  ) {}

  static async start(pair: Pair, modeArgs: string[], env?: Record<string, string>): Promise<Duo> {
    // A large pool: stock leaks one connection per lockcontent of an absent key.
    const args = [...modeArgs, "--jobs", "16"];
    const [ag, st] = await Promise.all([
      startAnnexgate(pair.annexgate, args, env),
      startStockP2pHttp(pair.stock, args, env),
    ]);
    return new Duo(
      ag,
      st,
      { name: "annexgate", port: ag.port, repo: pair.annexgate },
      { name: "stock", port: st.port, repo: pair.stock },
      () => startStockP2pHttp(pair.stock, args, env),
    );
  }

  /**
   * Stock git-annex p2phttp now and then hangs on a request (its leaked
   * lockcontent connections exhaust its pool). When that happens to a
   * request without side effects, restart stock on the same repository and
   * ask it again, once, so its bug does not read as annexgate's.
   */
  private async retryOnFreshStock(c: Case, cred: Cred): Promise<Outcome | null> {
    if (c.prepare !== undefined || (c.method ?? "POST") !== "GET") return null;
    this.stockRestarts++;
    await this.st.stop();
    this.st = await this.restartStockServer();
    this.stState = { ...this.stState, port: this.st.port };
    return send(this.stState, c, cred.header);
  }

  /** Send one case to both servers (concurrently: each has its own repository) and compare. */
  async compare(prefix: string, c: Case, cred: Cred = NOBODY): Promise<Comparison> {
    let [a, s] = await Promise.all(
      [this.agState, this.stState].map(async (state) => {
        await c.prepare?.(state);
        return send(state, c, cred.header);
      }),
    );
    if (a === undefined || s === undefined) throw new Error("unreachable");
    if (s.status === "timeout" && a.status !== "timeout") {
      const again = await this.retryOnFreshStock(c, cred);
      if (again !== null) s = again;
    }
    c.learn?.(this.agState, a);
    c.learn?.(this.stState, s);
    let diffs = differences(c, a, s);
    let excepted = false;
    const e = c.exception;
    if (diffs.length > 0 && e !== undefined) {
      if (meets(s, e.stock) && meets(a, e.annexgate)) {
        exceptionsMet.add(e.name);
        excepted = true;
        diffs = [];
      } else {
        diffs.push(`documented exception "${e.name}" not met`);
      }
    }
    if (c.expectStatus !== undefined && s.status !== c.expectStatus) {
      diffs.push(`stock answered ${s.status}, expected ${c.expectStatus}`);
    }
    if (c.expectBody !== undefined && s.status === 200 && !s.body.equals(c.expectBody)) {
      diffs.push(`stock sent ${s.body.length} bytes, expected ${c.expectBody.length}`);
    }
    if (c.expectJson !== undefined && s.status === 200) {
      try {
        assert.deepStrictEqual(jsonOf(s), c.expectJson);
      } catch {
        diffs.push(
          `stock json ${JSON.stringify(jsonOf(s))}, expected ${JSON.stringify(c.expectJson)}`,
        );
      }
    }
    const where = `${prefix} / ${cred.name} / ${c.name}`;
    const cmp = { where, annexgate: a, stock: s, diffs, excepted };
    this.comparisons.push(cmp);
    if (VERBOSE) {
      console.log(
        `${diffs.length > 0 ? "DIFF" : excepted ? "EXCEPTION" : "same"} ${cmp.where}\n   ag: ${describeOutcome(a)}\n   st: ${describeOutcome(s)}`,
      );
    }
    if (a.status === "timeout" || s.status === "timeout") {
      // One hung request usually hangs the rest; stop here rather than wait on each.
      assertAllAgree(this.comparisons);
    }
    return cmp;
  }

  async stop(): Promise<void> {
    if (this.stockRestarts > 0) {
      console.log(
        `p2phttp differential: stock git-annex hung and was restarted ${this.stockRestarts} time(s)`,
      );
    }
    await Promise.all([this.ag.stop(), this.st.stop()]);
    if (VERBOSE)
      console.log(`annexgate stderr:\n${this.ag.stderr()}\nstock stderr:\n${this.st.stderr()}`);
  }
}

function assertAllAgree(comparisons: readonly Comparison[]): void {
  const bad = comparisons.filter((c) => c.diffs.length > 0);
  assert.equal(
    bad.length,
    0,
    `${bad.length} of ${comparisons.length} requests differ:\n${bad
      .map(
        (c) =>
          `- ${c.where}: ${c.diffs.join("; ")}\n    annexgate: ${describeOutcome(c.annexgate)}\n    stock:     ${describeOutcome(c.stock)}`,
      )
      .join("\n")}`,
  );
}

// ------------------------------------------------------------------ tests

describe("p2phttp: annexgate answers as stock git-annex does", { timeout: 240_000 }, () => {
  const pairs = new Map<string, Pair>();
  const all: Comparison[] = [];
  const only = process.env.ANNEXGATE_DIFF_ONLY;

  before(async () => {
    const names = [...MODES.map((m) => m.name), "mutating"];
    const made = await Promise.all(
      names.map((n, i) => makePair(String(i)).then((p) => [n, p] as const)),
    );
    for (const [n, p] of made) pairs.set(n, p);
  });

  after(async () => {
    await Promise.all([...pairs.values()].map((p) => removeDir(p.root)));
    const excepted = all.filter((c) => c.excepted).length;
    console.log(
      `p2phttp differential: ${all.length} requests compared, ` +
        `${all.length - excepted} answered alike, ${excepted} as documented exceptions`,
    );
  });

  for (const mode of MODES.filter((m) => only === undefined || m.name === only)) {
    it(`auth mode ${mode.name}`, async () => {
      const duo = await Duo.start(pairs.get(mode.name) as Pair, mode.args, mode.env);
      try {
        for (const [i, [cred, access]] of mode.creds.entries()) {
          const lockAbsent = i > 0 ? [] : mode.name === "--wideopen" ? VERSIONS : [4];
          for (const c of readCases(lockAbsent)) {
            await duo.compare(mode.name, withAccess(c, access), cred);
          }
          if (i === 0 || cred === ALICE_WRONG) {
            for (const c of malformedCases()) await duo.compare(mode.name, c, cred);
          }
          for (const c of permissionCases(`${mode.name} ${cred.name}`)) {
            await duo.compare(mode.name, withAccess(c, access), cred);
          }
        }
      } finally {
        await duo.stop();
      }
      all.push(...duo.comparisons);
      assertAllAgree(duo.comparisons);
    });
  }

  it("put, resume, verify, remove, remove-before, version by version (--wideopen)", async () => {
    const duo = await Duo.start(pairs.get("mutating") as Pair, ["--wideopen"]);
    try {
      for (const v of VERSIONS) {
        for (const c of mutatingCases(v)) await duo.compare("mutating", c);
      }
      for (const c of putEdgeCases()) await duo.compare("mutating", c);
    } finally {
      await duo.stop();
    }
    all.push(...duo.comparisons);
    assertAllAgree(duo.comparisons);
  });

  it("every documented exception was met", { skip: only !== undefined }, () => {
    assert.deepEqual(
      [...exceptionsMet].sort(),
      Object.values(EXCEPTIONS)
        .map((e) => e.name)
        .sort(),
    );
  });
});

/** A keeplocked request whose body stays open until `unlock`. */
function openKeepLocked(
  port: number,
  path: string,
): { sent: Promise<void>; unlock(): Promise<Outcome> } {
  const req = request({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: `/git-annex${path}`,
    headers: { "Transfer-Encoding": "chunked" },
    agent: false,
  });
  const answer = new Promise<Outcome>((resolve, reject) => {
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
  });
  // Resolves once the request's headers are on the wire.
  const sent = new Promise<void>((resolve, reject) => {
    req.once("error", reject);
    req.once("socket", (socket) => {
      if (!socket.connecting) resolve();
      else socket.once("connect", () => setImmediate(resolve));
    });
  });
  req.flushHeaders();
  return {
    sent,
    unlock() {
      req.end('{"unlock":true}\n');
      return answer;
    },
  };
}

// Not differential: stock git-annex blocks a remove of a key that a
// lockcontent holds (the request hangs until the lock is let go), which no
// client can tell from a dead server; annexgate answers {"removed":false}.
describe("p2phttp: annexgate refuses to remove locked content (stock blocks)", () => {
  let root: string;
  let server: RunningP2pHttp;
  const state = (): ServerState => ({ name: "annexgate", port: server.port, repo: root });
  const ask = (c: Case) => send(state(), c, undefined);
  const json = async (c: Case) => {
    const o = await ask(c);
    assert.equal(o.status, 200, `${c.name}: ${describeOutcome(o)}`);
    return jsonOf(o);
  };
  const p = (op: string, params: Record<string, string> = {}) =>
    api(4, op, withClient({ key: PRESENT.key, ...params }));

  before(async () => {
    root = await makeTempDir("annexgate-diff-locked-");
    await makeRepo(root);
    server = await startAnnexgate(root, ["--wideopen"]);
  });

  after(async () => {
    await server?.stop();
    await removeDir(root);
  });

  it("answers removed:false while locked, and removes once unlocked", async () => {
    const lock = (await json({ name: "lock", path: p("lockcontent") })) as { lockid?: string };
    assert.equal(typeof lock.lockid, "string");
    const remove = { name: "remove", path: p("remove") };
    assert.deepEqual(await json(remove), { plusuuids: [], removed: false });
    const ts = (await json({ name: "ts", path: api(4, "gettimestamp", withClient({})) })) as {
      timestamp: number;
    };
    const future = String(ts.timestamp + 600);
    assert.deepEqual(await json({ name: "rb", path: p("remove-before", { timestamp: future }) }), {
      plusuuids: [],
      removed: false,
    });
    // keeplocked holds it for as long as its body is open.
    const held = openKeepLocked(
      server.port,
      api(4, "keeplocked", withClient({ lockid: lock.lockid ?? "" })),
    );
    await held.sent;
    assert.deepEqual(await json(remove), { plusuuids: [], removed: false });
    assert.deepEqual(await json({ name: "cp", path: p("checkpresent") }), { present: true });
    const unlocked = await held.unlock();
    assert.equal(unlocked.status, 200);
    assert.deepEqual(jsonOf(unlocked), { locked: false });
    assert.deepEqual(await json(remove), { plusuuids: [], removed: true });
    assert.deepEqual(await json({ name: "cp", path: p("checkpresent") }), { present: false });
  });
});
