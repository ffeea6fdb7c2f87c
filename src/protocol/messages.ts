// Over 400 lines: the protocol's one message table, its parser and its formatter, kept in step
/**
 * @module
 * The P2P line protocol's messages (git-annex design/p2p_protocol, protocol
 * versions 0 to 4): the `Message` union, and `parseMessage`/`formatMessage`
 * between a message and its one line of text (without the "\n").
 *
 * The grammar is git-annex's (P2P/Protocol.hs with Utility/SimpleProtocol.hs):
 *
 * - a line is a command word and its fields. The command ends at the first
 *   whitespace character, and exactly one such character is dropped after it;
 * - a message with N fields splits the rest at the first whitespace N-1
 *   times, so the last field is "the rest of the line" and may hold spaces
 *   (a key such as `WORM-s3-m1--my file`, an ERROR's text);
 * - UUID lists (BYPASS, the -PLUS replies) and CHANGED's refs are
 *   whitespace-separated words, zero or more;
 * - an associated file is never the last field, so git-annex escapes it:
 *   "%" as "%%", any whitespace as "%", and "" for none (see
 *   `encodeAssociatedFile`).
 *
 * "Whitespace" is Haskell's `isSpace`: tab, LF, VT, FF, CR and the Unicode
 * space separators (category Zs), not JavaScript's `\s`.
 *
 * annexgate is stricter than git-annex where git-annex's leniency buys
 * nothing: numbers are plain non-negative decimal (git-annex's `read` would
 * also take "-1", "0x10", "(5)" and trailing junk), bounded by 2^53-1 so a
 * JS number holds them exactly; keys and UUIDs go through `parseKey` and
 * `parseUuid`, which refuse what could escape a path or split a line.
 */
import { AnnexgateError } from "../errors.js";
import {
  BadKeyError,
  BadUuidError,
  formatKey,
  type Key,
  parseKey,
  parseUuid,
} from "../keys/portable.js";
import { isWellFormedText, KEY_NOT_UTF8 } from "./wire-text.js";

/** The protocol versions annexgate speaks; 0 is the default until VERSION is negotiated. */
export type ProtocolVersion = 0 | 1 | 2 | 3 | 4;

/** The highest protocol version annexgate speaks (git-annex 10.20250416's too). */
export const MAX_PROTOCOL_VERSION = 4;

/**
 * One protocol message. Numbers (offsets, lengths, timestamps, versions) are
 * non-negative safe integers; `exitCode` may be negative (git-annex reports
 * a service killed by signal N as -N).
 */
export type Message =
  | { type: "AUTH"; uuid: string; token: string }
  | { type: "AUTH-SUCCESS"; uuid: string }
  | { type: "AUTH-FAILURE" }
  | { type: "VERSION"; version: number }
  | { type: "BYPASS"; uuids: readonly string[] }
  | { type: "CHECKPRESENT"; key: Key }
  | { type: "LOCKCONTENT"; key: Key }
  | { type: "UNLOCKCONTENT" }
  | { type: "REMOVE"; key: Key }
  | { type: "REMOVE-BEFORE"; timestamp: number; key: Key }
  | { type: "GETTIMESTAMP" }
  | { type: "TIMESTAMP"; timestamp: number }
  | { type: "GET"; offset: number; associatedFile: string | null; key: Key }
  | { type: "PUT"; associatedFile: string | null; key: Key }
  | { type: "PUT-FROM"; offset: number }
  | { type: "ALREADY-HAVE" }
  | { type: "ALREADY-HAVE-PLUS"; uuids: readonly string[] }
  | { type: "DATA"; length: number }
  | { type: "DATA-PRESENT" }
  | { type: "VALID" }
  | { type: "INVALID" }
  | { type: "SUCCESS" }
  | { type: "SUCCESS-PLUS"; uuids: readonly string[] }
  | { type: "FAILURE" }
  | { type: "FAILURE-PLUS"; uuids: readonly string[] }
  | { type: "CONNECT"; service: "git-upload-pack" | "git-receive-pack" }
  | { type: "CONNECTDONE"; exitCode: number }
  | { type: "NOTIFYCHANGE" }
  | { type: "CHANGED"; refs: string }
  | { type: "ERROR"; message: string };

/**
 * Why a line (or a message to format) was refused; kept in
 * `ProtocolError.data.reason`. The framing layer adds its own reasons
 * ("line-too-long", "truncated-line", "truncated-data").
 */
export type ProtocolErrorReason =
  | "unknown-command"
  | "bad-fields"
  | "bad-number"
  | "bad-key"
  | "key-not-utf8"
  | "bad-uuid"
  | "bad-token"
  | "bad-associated-file"
  | "bad-service"
  | "line-too-long"
  | "truncated-line"
  | "truncated-data";

/**
 * A protocol violation: a malformed line, an unknown command, a bad field,
 * or (from the framing layer) an over-long line or input that ended inside
 * a line or a DATA payload. The message is one printable line, fit to send
 * back as `ERROR <message>`; `data.reason` is a `ProtocolErrorReason` and
 * `data.line` (when there is one) the offending line, clipped.
 */
export class ProtocolError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_PROTOCOL", message, data, cause);
  }
}

/* Haskell's isSpace: \t \n \v \f \r and general category Zs (iswspace). */
const SPACE = /[\t\n\v\f\r\p{Zs}]/u;
const SPACES = /[\t\n\v\f\r\p{Zs}]+/u;
/* Haskell's isControl: general category Cc. */
const CONTROL = /[\0-\x1f\x7f-\x9f]/gu;
const LONE_SURROGATES = /\p{Cs}/gu;
const DECIMAL = /^[0-9]+$/;
const SIGNED_DECIMAL = /^-?[0-9]+$/;
const TOKEN = /^[A-Za-z0-9]*$/;
const MAX_EXIT_CODE = 2 ** 31 - 1;
const MIN_EXIT_CODE = -(2 ** 31);
const CLIP = 100;

function clip(s: string): string {
  return s.length > CLIP ? `${s.slice(0, CLIP)}…` : s;
}

/*
 * A quoted excerpt that stays one printable line: JSON.stringify escapes the
 * C0 controls and lone surrogates; DEL and the C1 controls are escaped here.
 */
function quote(s: string): string {
  return JSON.stringify(clip(s)).replace(
    /[\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Splits at the first whitespace character, dropping it (git-annex `separate isSpace`). */
function splitWord(s: string): [string, string] {
  const m = SPACE.exec(s);
  if (m === null) return [s, ""];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}

/** Haskell's `words`: maximal runs of non-whitespace. */
function words(s: string): string[] {
  return s.split(SPACES).filter((w) => w.length > 0);
}

function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATES, "\uFFFD");
}

/*
 * An ERROR's text is for people: CR and LF become spaces (so it can always be
 * sent back on one line), bytes that were not UTF-8 become U+FFFD.
 */
function errorText(s: string): string {
  return wellFormed(s).replace(/[\r\n]/g, " ");
}

/**
 * The escaped form of an associated file as it goes in a GET or PUT line
 * (git-annex's `Serializable ProtoAssociatedFile`): `null` is the empty
 * field; "%" becomes "%%" and each whitespace character "%".
 *
 * @throws ProtocolError when `file` is absolute: git-annex refuses those.
 * @example
 * encodeAssociatedFile("my dir/50%.txt") // "my%dir/50%%.txt"
 */
export function encodeAssociatedFile(file: string | null): string {
  if (file === null || file === "") return "";
  if (file.startsWith("/")) {
    throw new ProtocolError(`associated file may not be absolute: ${quote(file)}`, {
      reason: "bad-associated-file",
      file,
    });
  }
  let out = "";
  for (const c of file) out += c === "%" ? "%%" : SPACE.test(c) ? "%" : c;
  return out;
}

/**
 * Reads an associated-file field the way git-annex does: "" is none; "%%"
 * is "%", a lone "%" (escaped whitespace) becomes "_", and so does each
 * control character; bytes that were not UTF-8 become U+FFFD. The name is
 * for display and preferred-content checks only, so this munging is
 * harmless (git-annex's own words). The escaping is ambiguous where
 * whitespace meets whitespace or "%": "a  b" is sent as "a%%b" and read as
 * "a%b", exactly as git-annex reads it.
 *
 * @throws ProtocolError when the result is an absolute path.
 * @example
 * decodeAssociatedFile("my%dir/50%%.txt") // "my_dir/50%.txt"
 */
export function decodeAssociatedFile(field: string): string | null {
  let out = "";
  for (let i = 0; i < field.length; i++) {
    const c = field.charAt(i);
    if (c === "%") {
      if (field.charAt(i + 1) === "%") {
        out += "%";
        i++;
      } else {
        out += "_";
      }
    } else {
      out += c;
    }
  }
  out = wellFormed(out).replace(CONTROL, "_");
  if (out === "") return null;
  if (out.startsWith("/")) {
    throw new ProtocolError(`associated file may not be absolute: ${quote(field)}`, {
      reason: "bad-associated-file",
      field,
    });
  }
  return out;
}

/**
 * The version a server answers to a client's `VERSION v`: the highest it
 * speaks that is not above `v` (design/p2p_protocol "Protocol version").
 *
 * @example
 * negotiateVersion(9) // 4
 */
export function negotiateVersion(offered: number): ProtocolVersion {
  if (!(offered >= 0)) return 0;
  return Math.min(Math.floor(offered), MAX_PROTOCOL_VERSION) as ProtocolVersion;
}

type FieldParser = (rest: string, line: string) => Message;

function fail(line: string, reason: ProtocolErrorReason, what: string, cause?: unknown): never {
  throw new ProtocolError(`${what} in ${quote(line)}`, { reason, line: clip(line) }, cause);
}

function number(field: string, line: string, what: string): number {
  if (!DECIMAL.test(field)) fail(line, "bad-number", `bad ${what} ${quote(field)}`);
  const n = Number(field);
  if (!Number.isSafeInteger(n)) fail(line, "bad-number", `${what} too large`);
  return n;
}

function key(field: string, line: string): Key {
  // Bytes that were not UTF-8 arrive as lone surrogates (decodeLenientText):
  // refused with a reason of their own, never read as another key.
  if (!isWellFormedText(field)) fail(line, "key-not-utf8", KEY_NOT_UTF8);
  try {
    return parseKey(field);
  } catch (e) {
    if (e instanceof BadKeyError) fail(line, "bad-key", `bad key ${quote(field)}`, e);
    throw e;
  }
}

function uuid(field: string, line: string): string {
  try {
    return parseUuid(field);
  } catch (e) {
    if (e instanceof BadUuidError) fail(line, "bad-uuid", `bad UUID ${quote(field)}`, e);
    throw e;
  }
}

function uuidList(rest: string, line: string): string[] {
  return words(rest).map((w) => uuid(w, line));
}

function associatedFile(field: string, line: string): string | null {
  try {
    return decodeAssociatedFile(field);
  } catch (e) {
    if (e instanceof ProtocolError) fail(line, "bad-associated-file", e.message, e);
    throw e;
  }
}

function noFields<T extends Message>(m: T): FieldParser {
  return (rest, line) => {
    if (rest !== "") fail(line, "bad-fields", `unexpected fields after ${m.type}`);
    return { ...m };
  };
}

const PARSERS: Readonly<Record<string, FieldParser>> = {
  AUTH: (rest, line) => {
    const [u, token] = splitWord(rest);
    if (!TOKEN.test(token)) fail(line, "bad-token", "bad auth token");
    return { type: "AUTH", uuid: uuid(u, line), token: token.toLowerCase() };
  },
  "AUTH-SUCCESS": (rest, line) => ({ type: "AUTH-SUCCESS", uuid: uuid(rest, line) }),
  "AUTH-FAILURE": noFields({ type: "AUTH-FAILURE" }),
  VERSION: (rest, line) => ({ type: "VERSION", version: number(rest, line, "version") }),
  BYPASS: (rest, line) => ({ type: "BYPASS", uuids: uuidList(rest, line) }),
  CHECKPRESENT: (rest, line) => ({ type: "CHECKPRESENT", key: key(rest, line) }),
  LOCKCONTENT: (rest, line) => ({ type: "LOCKCONTENT", key: key(rest, line) }),
  UNLOCKCONTENT: noFields({ type: "UNLOCKCONTENT" }),
  REMOVE: (rest, line) => ({ type: "REMOVE", key: key(rest, line) }),
  "REMOVE-BEFORE": (rest, line) => {
    const [ts, k] = splitWord(rest);
    return { type: "REMOVE-BEFORE", timestamp: number(ts, line, "timestamp"), key: key(k, line) };
  },
  GETTIMESTAMP: noFields({ type: "GETTIMESTAMP" }),
  TIMESTAMP: (rest, line) => ({ type: "TIMESTAMP", timestamp: number(rest, line, "timestamp") }),
  GET: (rest, line) => {
    const [off, rest2] = splitWord(rest);
    const [af, k] = splitWord(rest2);
    return {
      type: "GET",
      offset: number(off, line, "offset"),
      associatedFile: associatedFile(af, line),
      key: key(k, line),
    };
  },
  PUT: (rest, line) => {
    const [af, k] = splitWord(rest);
    return { type: "PUT", associatedFile: associatedFile(af, line), key: key(k, line) };
  },
  "PUT-FROM": (rest, line) => ({ type: "PUT-FROM", offset: number(rest, line, "offset") }),
  "ALREADY-HAVE": noFields({ type: "ALREADY-HAVE" }),
  "ALREADY-HAVE-PLUS": (rest, line) => ({ type: "ALREADY-HAVE-PLUS", uuids: uuidList(rest, line) }),
  DATA: (rest, line) => ({ type: "DATA", length: number(rest, line, "length") }),
  "DATA-PRESENT": noFields({ type: "DATA-PRESENT" }),
  VALID: noFields({ type: "VALID" }),
  INVALID: noFields({ type: "INVALID" }),
  SUCCESS: noFields({ type: "SUCCESS" }),
  "SUCCESS-PLUS": (rest, line) => ({ type: "SUCCESS-PLUS", uuids: uuidList(rest, line) }),
  FAILURE: noFields({ type: "FAILURE" }),
  "FAILURE-PLUS": (rest, line) => ({ type: "FAILURE-PLUS", uuids: uuidList(rest, line) }),
  CONNECT: (rest, line) => {
    if (rest !== "git-upload-pack" && rest !== "git-receive-pack") {
      fail(line, "bad-service", `unknown service ${quote(rest)}`);
    }
    return { type: "CONNECT", service: rest };
  },
  CONNECTDONE: (rest, line) => {
    if (!SIGNED_DECIMAL.test(rest)) fail(line, "bad-number", `bad exit code ${quote(rest)}`);
    const n = Number(rest);
    if (n < MIN_EXIT_CODE || n > MAX_EXIT_CODE) fail(line, "bad-number", "exit code out of range");
    return { type: "CONNECTDONE", exitCode: n === 0 ? 0 : n };
  },
  NOTIFYCHANGE: noFields({ type: "NOTIFYCHANGE" }),
  CHANGED: (rest) => ({ type: "CHANGED", refs: wellFormed(words(rest).join(" ")) }),
  ERROR: (rest) => ({ type: "ERROR", message: errorText(rest) }),
};

/**
 * Parse one protocol line (without its "\n").
 *
 * Accepts everything git-annex's `formatMessage` writes, in every protocol
 * version; what it refuses beyond git-annex is described in the module
 * comment. A parse failure is a `ProtocolError` whose message can go back to
 * the peer as `ERROR <message>`, as git-annex's server answers an
 * unparseable line.
 *
 * @throws ProtocolError
 * @example
 * parseMessage("GET 0 my%file.txt SHA256E-s5--2cf2….txt")
 * // { type: "GET", offset: 0, associatedFile: "my_file.txt", key: { backend: "SHA256E", … } }
 */
export function parseMessage(line: string): Message {
  const [command, rest] = splitWord(line);
  const parser = Object.hasOwn(PARSERS, command) ? PARSERS[command] : undefined;
  if (parser === undefined) {
    throw new ProtocolError(`unknown command ${quote(command)}`, {
      reason: "unknown-command",
      line: clip(line),
    });
  }
  return parser(rest, line);
}

function badMessage(m: Message, reason: ProtocolErrorReason, what: string, cause?: unknown): never {
  throw new ProtocolError(`cannot format ${m.type}: ${what}`, { reason, type: m.type }, cause);
}

function showNumber(m: Message, n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 0) badMessage(m, "bad-number", `bad ${what} ${n}`);
  return String(n);
}

function showKey(m: Message, k: Key): string {
  return shown(m, () => formatKey(k), BadKeyError, "bad-key");
}

function showUuid(m: Message, u: string): string {
  return shown(m, () => parseUuid(u), BadUuidError, "bad-uuid");
}

/** A field's wire text; the error that refuses the field becomes a bad message. */
function shown(
  m: Message,
  show: () => string,
  refusal: new (...args: never[]) => Error,
  reason: ProtocolErrorReason,
): string {
  try {
    return show();
  } catch (e) {
    if (e instanceof refusal) badMessage(m, reason, e.message, e);
    throw e;
  }
}

function showUuids(m: Message & { uuids: readonly string[] }): string {
  return [m.type, ...m.uuids.map((u) => showUuid(m, u))].join(" ");
}

function showAssociatedFile(m: Message, file: string | null): string {
  try {
    return encodeAssociatedFile(file);
  } catch (e) {
    if (e instanceof ProtocolError) badMessage(m, "bad-associated-file", e.message, e);
    throw e;
  }
}

/**
 * Serialize a message as its protocol line (without "\n"), exactly as
 * git-annex would write it (e.g. "PUT  KEY" with an empty associated file,
 * "ERROR " with an empty message).
 *
 * Fields that could not be parsed back — a bad key or UUID, a negative or
 * fractional number, an absolute associated file — throw rather than put a
 * line on the wire that the peer would misread. The exceptions are ERROR,
 * whose CR and LF characters become spaces and unpaired surrogates U+FFFD
 * (an error report must always be sendable), and CHANGED, whose refs are
 * re-joined with single spaces. `parseMessage` normalizes those two fields
 * the same way, so `parseMessage(formatMessage(parseMessage(l)))` always
 * equals `parseMessage(l)`.
 *
 * @throws ProtocolError
 * @example
 * formatMessage({ type: "PUT", associatedFile: "a b.txt", key }) // "PUT a%b.txt SHA256E-s5--…"
 */
export function formatMessage(m: Message): string {
  switch (m.type) {
    case "AUTH":
      if (!TOKEN.test(m.token)) badMessage(m, "bad-token", "auth token must be letters and digits");
      return `AUTH ${showUuid(m, m.uuid)} ${m.token.toLowerCase()}`;
    case "AUTH-SUCCESS":
      return `AUTH-SUCCESS ${showUuid(m, m.uuid)}`;
    case "VERSION":
      return `VERSION ${showNumber(m, m.version, "version")}`;
    case "CHECKPRESENT":
    case "LOCKCONTENT":
    case "REMOVE":
      return `${m.type} ${showKey(m, m.key)}`;
    case "REMOVE-BEFORE":
      return `REMOVE-BEFORE ${showNumber(m, m.timestamp, "timestamp")} ${showKey(m, m.key)}`;
    case "TIMESTAMP":
      return `TIMESTAMP ${showNumber(m, m.timestamp, "timestamp")}`;
    case "GET":
      return `GET ${showNumber(m, m.offset, "offset")} ${showAssociatedFile(m, m.associatedFile)} ${showKey(m, m.key)}`;
    case "PUT":
      return `PUT ${showAssociatedFile(m, m.associatedFile)} ${showKey(m, m.key)}`;
    case "PUT-FROM":
      return `PUT-FROM ${showNumber(m, m.offset, "offset")}`;
    case "DATA":
      return `DATA ${showNumber(m, m.length, "length")}`;
    case "BYPASS":
    case "ALREADY-HAVE-PLUS":
    case "SUCCESS-PLUS":
    case "FAILURE-PLUS":
      return showUuids(m);
    case "CONNECT":
      if (m.service !== "git-upload-pack" && m.service !== "git-receive-pack") {
        badMessage(m, "bad-service", `unknown service ${quote(String(m.service))}`);
      }
      return `CONNECT ${m.service}`;
    case "CONNECTDONE":
      if (
        !Number.isInteger(m.exitCode) ||
        m.exitCode < MIN_EXIT_CODE ||
        m.exitCode > MAX_EXIT_CODE
      ) {
        badMessage(m, "bad-number", `bad exit code ${m.exitCode}`);
      }
      return `CONNECTDONE ${m.exitCode === 0 ? 0 : m.exitCode}`;
    case "CHANGED":
      return `CHANGED ${words(m.refs).join(" ")}`;
    case "ERROR":
      return `ERROR ${errorText(m.message)}`;
    case "AUTH-FAILURE":
    case "UNLOCKCONTENT":
    case "GETTIMESTAMP":
    case "ALREADY-HAVE":
    case "DATA-PRESENT":
    case "VALID":
    case "INVALID":
    case "SUCCESS":
    case "FAILURE":
    case "NOTIFYCHANGE":
      return m.type;
    default: {
      const unknown: never = m;
      throw new ProtocolError(
        `cannot format unknown message type ${quote(String((unknown as { type: unknown }).type))}`,
        { reason: "unknown-command" },
      );
    }
  }
}
