/**
 * @module
 * Repository and cluster UUIDs (Types/UUID.hs, Types/Cluster.hs). git-annex
 * treats a UUID as an opaque byte string and compares it byte for byte, so
 * these functions never change case or reformat one.
 */
import { AnnexgateError } from "../errors.js";

/** Text that annexgate will not use as a UUID; `data.input` is the text. */
export class BadUuidError extends AnnexgateError {
  constructor(input: string) {
    super("AG_BAD_UUID", `bad UUID: ${JSON.stringify(input.slice(0, 120))}`, { input });
  }
}

/**
 * A fresh random repository UUID: version 4, lower-case, as git-annex's
 * genUUID makes.
 *
 * @example
 * genUuid() // "1f0e4a9c-3b7d-4e2a-9c1d-5e6f7a8b9c0d"
 */
export function genUuid(): string {
  return randomUuid();
}

/*
 * A random (v4) UUID. crypto.randomUUID exists only in a browser's secure
 * contexts (https, localhost): a page served over plain http elsewhere
 * builds one from getRandomValues, which every context has.
 */
function randomUuid(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === "function") return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/*
 * git-annex marks cluster UUIDs so that no ordinary repository UUID can pose
 * as one (a security property of proxying): "ac" as the first two characters
 * and "8" in the version position, index 14 (Types/Cluster.hs).
 */
const CLUSTER_PREFIX = "ac";
const VERSION_INDEX = 14;
const CLUSTER_VERSION = "8";

/**
 * A fresh cluster UUID: a random v4 UUID with its first two hex digits set
 * to "ac" and its version digit to "8" (git-annex genClusterUUID).
 *
 * @example
 * genClusterUuid() // "ac0e4a9c-3b7d-8e2a-9c1d-5e6f7a8b9c0d"
 */
export function genClusterUuid(): string {
  const u = randomUuid();
  return (
    CLUSTER_PREFIX +
    u.slice(CLUSTER_PREFIX.length, VERSION_INDEX) +
    CLUSTER_VERSION +
    u.slice(VERSION_INDEX + 1)
  );
}

/**
 * Whether git-annex would take `u` for a cluster UUID. Exactly its test: the
 * text starts with "ac" and has "8" at index 14; nothing else is checked.
 *
 * @example
 * isClusterUuid(genClusterUuid()) // true
 */
export function isClusterUuid(u: string): boolean {
  return u.startsWith(CLUSTER_PREFIX) && u.charAt(VERSION_INDEX) === CLUSTER_VERSION;
}

/*
 * UUIDs are written into space-separated git-annex branch logs, line
 * protocols (P2P, p2phttp headers), URL path segments and file names (for
 * example credentials per remote), so whitespace, control characters and "/"
 * could split a record or escape a directory. git-annex only refuses empty.
 */
const UNSAFE_IN_UUID = /[\s\0-\x1f\x7f/]/u;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Check text received as a UUID and return it unchanged.
 *
 * git-annex accepts any non-empty string as a UUID (not only RFC 4122 ones:
 * e.g. the web and bittorrent special remotes have fixed short UUIDs). This
 * refuses, beyond git-annex, whitespace, NUL and other control characters,
 * "/" and unpaired surrogates, for the reasons above.
 *
 * @throws BadUuidError
 * @example
 * parseUuid("00000000-0000-0000-0000-000000000001") // same string
 */
export function parseUuid(text: string): string {
  if (text.length === 0 || UNSAFE_IN_UUID.test(text) || LONE_SURROGATE.test(text)) {
    throw new BadUuidError(text);
  }
  return text;
}
