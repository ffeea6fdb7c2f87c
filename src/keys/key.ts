/**
 * @module
 * git-annex keys as values: the `Key` record, and the one text form git-annex
 * writes everywhere (symlink targets, the git-annex branch, the P2P protocol).
 *
 * Grammar (git-annex Types/Key.hs `keyParser`, doc internals/key_format):
 *
 *     BACKEND [-s<size>] [-m<mtime>] [-S<chunksize>] [-C<chunknumber>] -- NAME
 *
 * The four fields are optional, decimal, and only in that order; the name is
 * everything after the first `--` that follows them and may itself contain
 * `-` and `--`.
 */
import { AnnexgateError } from "../errors.js";

/** A git-annex key, as its fields. Build one with `parseKey`, or by hand and check it with `formatKey`. */
export interface Key {
  /** The key variety, e.g. "SHA256E", "WORM", "URL"; never contains "-". */
  readonly backend: string;
  /** Everything after "--"; for E backends it ends with the file's extension. */
  readonly name: string;
  /** `-s`: size of the content in bytes. */
  readonly size?: number;
  /** `-m`: modification time, seconds since the epoch (WORM keys). */
  readonly mtime?: number;
  /** `-S`: chunk size, on keys naming one chunk of an object. */
  readonly chunkSize?: number;
  /** `-C`: chunk number, counting from 1 (git-annex itself accepts 0 when parsing). */
  readonly chunkNumber?: number;
}

/** Why a key was refused; kept in `BadKeyError.data.reason`. */
export type BadKeyReason =
  | "syntax"
  | "extension-too-long"
  | "number-too-large"
  | "unsafe-character"
  | "dot-name"
  | "ill-formed-unicode";

/**
 * A string (or `Key` record) that is not a key annexgate will handle.
 * `data.input` is the offending text, `data.reason` a `BadKeyReason`.
 */
export class BadKeyError extends AnnexgateError {
  constructor(input: string, reason: BadKeyReason, cause?: unknown) {
    super(
      "AG_BAD_KEY",
      `bad key (${reason}): ${JSON.stringify(clip(input))}`,
      { input, reason },
      cause,
    );
  }
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

/*
 * A regular expression is equivalent to git-annex's attoparsec parser here,
 * even though attoparsec commits to an optional field once it has matched and
 * a regex may backtrack: undoing a matched "-s12" would leave "-s" where only
 * "--" or a later field letter could continue, so backtracking never finds a
 * second parse. `[0-9]` rather than `\d` because attoparsec's `decimal` takes
 * ASCII digits only (and no sign).
 */
const KEY_SYNTAX =
  /^([^-]+)(?:-s([0-9]+))?(?:-m([0-9]+))?(?:-S([0-9]+))?(?:-C([0-9]+))?--([\s\S]*)$/;

/*
 * git-annex caps the extension of E-backend keys at 64 bytes so a key cannot
 * smuggle SHA1-collision material into a signed commit (validKeyName).
 */
const MAX_EXTENSION_BYTES = 64;

const UNSAFE_CHARACTER = /[\0\n\r]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Parse the text form of a key.
 *
 * Accepts what git-annex's `deserializeKey` accepts — field order, digits-only
 * numbers (leading zeros allowed), an empty name, the 64-byte extension limit
 * for E backends — and deliberately refuses more, because annexgate puts keys
 * into file paths, URLs and line protocols that git-annex protects by other
 * means (its own framing):
 * - NUL, "\n" or "\r" anywhere: could split a line of the P2P protocol or
 *   of a log. A "/" is accepted, as git-annex accepts it: URL/VURL keys from
 *   `addurl --fast`/`--relaxed` and WORM keys of files in subdirectories
 *   contain one, and every path annexgate makes from a key goes through
 *   `keyFile`, which escapes it (a key is never a path by itself);
 * - a name that is "." or "..": a path segment with a meaning of its own;
 * - a number above 2^53-1: a JS number cannot hold it, and rounding it would
 *   silently turn one key into another (git-annex keeps sizes exact and wraps
 *   mtimes at 2^63, so no honest key is refused);
 * - unpaired UTF-16 surrogates: they have no UTF-8 form, so two different
 *   strings would hash to the same object.
 *
 * @throws BadKeyError
 * @example
 * parseKey("SHA256E-s1048576--3a1f…c0.tar.gz") // { backend: "SHA256E", size: 1048576, name: "3a1f…c0.tar.gz" }
 */
export function parseKey(text: string): Key {
  if (UNSAFE_CHARACTER.test(text)) throw new BadKeyError(text, "unsafe-character");
  if (LONE_SURROGATE.test(text)) throw new BadKeyError(text, "ill-formed-unicode");
  const m = KEY_SYNTAX.exec(text);
  if (m === null) throw new BadKeyError(text, "syntax");
  const [, backend, s, mt, cs, cn, name] = m;
  if (backend === undefined || name === undefined) throw new BadKeyError(text, "syntax");
  if (name === "." || name === "..") throw new BadKeyError(text, "dot-name");
  if (hasExtension(backend) && extensionBytes(name) > MAX_EXTENSION_BYTES) {
    throw new BadKeyError(text, "extension-too-long");
  }
  const key: {
    backend: string;
    name: string;
    size?: number;
    mtime?: number;
    chunkSize?: number;
    chunkNumber?: number;
  } = { backend, name };
  if (s !== undefined) key.size = decimal(text, s);
  if (mt !== undefined) key.mtime = decimal(text, mt);
  if (cs !== undefined) key.chunkSize = decimal(text, cs);
  if (cn !== undefined) key.chunkNumber = decimal(text, cn);
  return Object.freeze(key);
}

function decimal(text: string, digits: string): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw new BadKeyError(text, "number-too-large");
  return n;
}

/**
 * Serialize a key the way git-annex does (`serializeKey`). Numbers are
 * written without leading zeros, so `formatKey(parseKey(t))` may differ from
 * `t` exactly where git-annex would also rewrite it.
 *
 * A hand-built `Key` is checked by parsing the result back: anything that
 * would not survive that (a "-" in the backend, a negative or fractional
 * number, an unsafe name) throws instead of yielding text another reader
 * would take for a different key.
 *
 * @throws BadKeyError
 * @example
 * formatKey({ backend: "WORM", size: 3, mtime: 1700000000, name: "a.txt" }) // "WORM-s3-m1700000000--a.txt"
 */
export function formatKey(key: Key): string {
  const known = FORMATTED.get(key);
  if (known !== undefined) return known;
  const text = unchecked(key);
  const back = parseKey(text);
  if (
    back.backend !== key.backend ||
    back.name !== key.name ||
    back.size !== key.size ||
    back.mtime !== key.mtime ||
    back.chunkSize !== key.chunkSize ||
    back.chunkNumber !== key.chunkNumber
  ) {
    throw new BadKeyError(text, "syntax");
  }
  // A frozen key (every parsed one) cannot change: its text is kept.
  if (Object.isFrozen(key)) FORMATTED.set(key, text);
  return text;
}

/*
 * The text of keys already formatted and checked. A request formats its key
 * several times (object path, hash directory, log line), and the check
 * parses the text back each time.
 */
const FORMATTED = new WeakMap<Key, string>();

function unchecked(key: Key): string {
  let out = key.backend;
  if (key.size !== undefined) out += `-s${key.size}`;
  if (key.mtime !== undefined) out += `-m${key.mtime}`;
  if (key.chunkSize !== undefined) out += `-S${key.chunkSize}`;
  if (key.chunkNumber !== undefined) out += `-C${key.chunkNumber}`;
  return `${out}--${key.name}`;
}

/**
 * The key of the whole object a chunk key belongs to (git-annex
 * `nonChunkKey`); a key that is not a chunk comes back as it is.
 *
 * @example
 * formatKey(nonChunkKey(parseKey("SHA256E-s9-S4-C2--h.x"))) // "SHA256E-s9--h.x"
 */
export function nonChunkKey(key: Key): Key {
  if (key.chunkSize === undefined && key.chunkNumber === undefined) return key;
  const { chunkSize: _s, chunkNumber: _n, ...rest } = key;
  return Object.freeze(rest);
}

/**
 * True when the key names one chunk of an object rather than the object
 * (either chunk field present; git-annex drops both together).
 *
 * @example
 * isChunkKey(parseKey("SHA256E-s9-S4-C2--h.x")) // true
 */
export function isChunkKey(key: Key): boolean {
  return key.chunkSize !== undefined || key.chunkNumber !== undefined;
}

/*
 * Which varieties carry an extension (Types/Key.hs `hasExt`). Every built-in
 * E variety, external "X…E" ones and unknown varieties ending in "E" do;
 * GITBUNDLE ends in "E" by accident of spelling and does not.
 */
function hasExtension(backend: string): boolean {
  return backend.endsWith("E") && backend !== "GITBUNDLE";
}

/* The extension is everything from the name's first "." (splitKeyNameExtension). */
function extensionBytes(name: string): number {
  const dot = name.indexOf(".");
  return dot < 0 ? 0 : utf8Length(name, dot);
}

/* Bytes of `text` from `from` on in UTF-8 (a lone surrogate as U+FFFD's 3), without allocating. */
function utf8Length(text: string, from: number): number {
  let n = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The part of the name a hash backend's digest is compared with: everything
 * before the first "." (git-annex `keyHash`), for E and non-E varieties alike
 * so that keys from an old buggy migration still verify.
 */
export function keyHashPart(key: Key): string {
  const dot = key.name.indexOf(".");
  return dot < 0 ? key.name : key.name.slice(0, dot);
}
