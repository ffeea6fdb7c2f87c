/**
 * fast-check generators shared by the protocol tests. Named like a test file
 * because only tests may import it (fast-check is a dev dependency); it holds
 * no tests of its own.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Key, parseKey } from "../keys/index.js";
import { formatMessage, type Message, parseMessage } from "./index.js";

/** The text is printable, and can go back to the peer as one ERROR line that reads back unchanged. */
export function assertUsableAsErrorReply(message: string): void {
  assert.ok(message.length > 0);
  assert.doesNotMatch(message, /[\0-\x1f\x7f-\x9f\p{Cs}]/u);
  const line = formatMessage({ type: "ERROR", message });
  assert.deepEqual(parseMessage(line), { type: "ERROR", message });
}

const nameChar = fc.oneof(
  fc.constantFrom(" ", "\t", "%", "-", "--", "_", ".", "ü", "😀", "\u3000", "\\"),
  fc.string({ unit: "grapheme-ascii", maxLength: 4 }),
  fc.string({ unit: "grapheme", maxLength: 2 }),
);
export const keyArb: fc.Arbitrary<Key> = fc
  .record({
    backend: fc.oneof(
      fc.constantFrom("SHA256E", "SHA256", "SHA1", "MD5E", "WORM", "URL", "BLAKE2B256E"),
      fc.stringMatching(/^[A-Z0-9_]{1,10}$/),
    ),
    size: fc.option(fc.maxSafeNat(), { nil: undefined }),
    mtime: fc.option(fc.maxSafeNat(), { nil: undefined }),
    name: fc.array(nameChar, { maxLength: 12 }).map((p) => p.join("")),
  })
  .map(({ backend, size, mtime, name }) => {
    let text = backend;
    if (size !== undefined) text += `-s${size}`;
    if (mtime !== undefined) text += `-m${mtime}`;
    return `${text}--${name}`;
  })
  .filter((text) => {
    try {
      parseKey(text);
      return true;
    } catch {
      return false;
    }
  })
  .map((text) => parseKey(text));

export const uuidArb = fc.oneof(
  fc.uuid(),
  fc.stringMatching(/^[!-.0-~]{1,20}$/), // printable ASCII without space and "/"
  fc.constantFrom("1", "ac000000-0000-8000-0000-000000000001", "web", "ü-ünïcode"),
);
const uuidsArb = fc.array(uuidArb, { maxLength: 5 });
const nat = fc.maxSafeNat();
/* A name that parses back to itself: no whitespace or control characters, not absolute. */
const fileArb = fc
  .option(
    fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 30 })
      .map((s) => s.replace(/[\t\n\v\f\r\p{Zs}\0-\x1f\x7f-\x9f]/gu, "_").replace(/^\/+/, "")),
    { nil: null },
  )
  .map((f) => (f === "" ? null : f));
const textArb = fc
  .string({ unit: "grapheme", maxLength: 60 })
  .map((s) => s.replace(/[\r\n]/g, " "));
const refsArb = fc
  .array(fc.stringMatching(/^[!-~]{1,30}$/), { maxLength: 4 })
  .map((refs) => refs.join(" "));

/* fast-check records have a null prototype; messages from parseMessage are plain objects. */
const rec = ((model: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record(model).map((r) => ({ ...r }))) as unknown as typeof fc.record;

export const ARBITRARIES: {
  readonly [T in Message["type"]]: fc.Arbitrary<Extract<Message, { type: T }>>;
} = {
  AUTH: rec({
    type: fc.constant("AUTH"),
    uuid: uuidArb,
    token: fc.stringMatching(/^[a-z0-9]{0,64}$/),
  }),
  "AUTH-SUCCESS": rec({ type: fc.constant("AUTH-SUCCESS"), uuid: uuidArb }),
  "AUTH-FAILURE": fc.constant({ type: "AUTH-FAILURE" }),
  VERSION: rec({ type: fc.constant("VERSION"), version: nat }),
  BYPASS: rec({ type: fc.constant("BYPASS"), uuids: uuidsArb }),
  CHECKPRESENT: rec({ type: fc.constant("CHECKPRESENT"), key: keyArb }),
  LOCKCONTENT: rec({ type: fc.constant("LOCKCONTENT"), key: keyArb }),
  UNLOCKCONTENT: fc.constant({ type: "UNLOCKCONTENT" }),
  REMOVE: rec({ type: fc.constant("REMOVE"), key: keyArb }),
  "REMOVE-BEFORE": rec({ type: fc.constant("REMOVE-BEFORE"), timestamp: nat, key: keyArb }),
  GETTIMESTAMP: fc.constant({ type: "GETTIMESTAMP" }),
  TIMESTAMP: rec({ type: fc.constant("TIMESTAMP"), timestamp: nat }),
  GET: rec({
    type: fc.constant("GET"),
    offset: nat,
    associatedFile: fileArb,
    key: keyArb,
  }),
  PUT: rec({ type: fc.constant("PUT"), associatedFile: fileArb, key: keyArb }),
  "PUT-FROM": rec({ type: fc.constant("PUT-FROM"), offset: nat }),
  "ALREADY-HAVE": fc.constant({ type: "ALREADY-HAVE" }),
  "ALREADY-HAVE-PLUS": rec({ type: fc.constant("ALREADY-HAVE-PLUS"), uuids: uuidsArb }),
  DATA: rec({ type: fc.constant("DATA"), length: nat }),
  "DATA-PRESENT": fc.constant({ type: "DATA-PRESENT" }),
  VALID: fc.constant({ type: "VALID" }),
  INVALID: fc.constant({ type: "INVALID" }),
  SUCCESS: fc.constant({ type: "SUCCESS" }),
  "SUCCESS-PLUS": rec({ type: fc.constant("SUCCESS-PLUS"), uuids: uuidsArb }),
  FAILURE: fc.constant({ type: "FAILURE" }),
  "FAILURE-PLUS": rec({ type: fc.constant("FAILURE-PLUS"), uuids: uuidsArb }),
  CONNECT: rec({
    type: fc.constant("CONNECT"),
    service: fc.constantFrom("git-upload-pack", "git-receive-pack"),
  }),
  CONNECTDONE: rec({
    type: fc.constant("CONNECTDONE"),
    exitCode: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }),
  NOTIFYCHANGE: fc.constant({ type: "NOTIFYCHANGE" }),
  CHANGED: rec({ type: fc.constant("CHANGED"), refs: refsArb }),
  ERROR: rec({ type: fc.constant("ERROR"), message: textArb }),
};

/** Any valid message, every type equally likely. */
export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  ...(Object.values(ARBITRARIES) as fc.Arbitrary<Message>[]),
);

/** One step of a conversation: a message, and after DATA its payload. */
export interface TranscriptItem {
  readonly message: Message;
  readonly payload?: Buffer;
}

/** Payload bytes, rich in "\n" and "\r" so that lines and data are easy to confuse. */
export const payloadArb: fc.Arbitrary<Buffer> = fc
  .array(fc.oneof(fc.constant(10), fc.constant(13), fc.integer({ min: 0, max: 255 })), {
    maxLength: 200,
  })
  .map((bytes) => Buffer.from(bytes));

/** A stream of messages with DATA payloads among them. */
export const transcriptArb: fc.Arbitrary<TranscriptItem[]> = fc.array(
  fc.oneof(
    messageArb.filter((m) => m.type !== "DATA").map((message) => ({ message })),
    payloadArb.map(
      (payload): TranscriptItem => ({ message: { type: "DATA", length: payload.length }, payload }),
    ),
  ),
  { maxLength: 20 },
);

/** The bytes of a transcript on the wire. */
export function encodeTranscript(items: readonly TranscriptItem[]): Buffer {
  const parts: Buffer[] = [];
  for (const { message, payload } of items) {
    parts.push(Buffer.from(`${formatMessage(message)}\n`, "utf8"));
    if (payload !== undefined) parts.push(payload);
  }
  return Buffer.concat(parts);
}

/** `bytes` cut into chunks whose sizes cycle through `sizes` (each at least 1). */
export function chunked(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes.length === 0 ? bytes.length : (sizes[i % sizes.length] ?? 1));
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}
