/**
 * The identities a sim makes up, as git-annex 10.20250416 makes them
 * (Annex/Sim.hs `genSimKey`, `genSimUUID`; Backend/Hash.hs `genTestKey`):
 * both start from 1024 random bytes drawn from the sim's seed, so the same
 * seed gives the same keys and UUIDs as stock.
 */
import { createHash } from "node:crypto";
import type { Key } from "../keys/index.js";
import { randomWords, simRandom } from "./random.js";

/** genTestKey's suffix: an extension too long for a real SHA256E key, so test keys never collide. */
const TEST_KEY_EXTENSION = ".this-is-a-test-key";

/**
 * Sim.hs `genSimKey`: a SHA256E test key of the hash of 1024 random
 * bytes, with the given size. Returns the key and the next seed.
 *
 * @example
 * const [key, seed2] = genSimKey(1048576n, seed);
 */
export function genSimKey(size: bigint, seed: bigint): [Key, bigint] {
  const [bytes, next] = simRandom(seed, (g) => randomWords(g, 1024));
  const hash = createHash("sha256").update(bytes).digest("hex");
  // Key sizes are numbers in annexgate; sizes past 2^53 bytes lose their low digits here.
  return [{ backend: "SHA256E", size: Number(size), name: `${hash}${TEST_KEY_EXTENSION}` }, next];
}

/** A name-based (version 5, SHA-1) UUID of `name` in `namespace` (RFC 4122, Data.UUID.V5). */
export function uuidV5(namespace: Uint8Array, name: Uint8Array): Uint8Array {
  const digest = createHash("sha1").update(namespace).update(name).digest();
  const bytes = new Uint8Array(digest.subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return bytes;
}

/** A UUID's text form: lower-case hex, dashed 8-4-4-4-12. */
export function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The RFC 4122 URL namespace (Data.UUID.V5 `namespaceURL`). */
const NAMESPACE_URL = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex");

/** Sim.hs `simUUIDNameSpace`: the v5 UUID of git-annex-sim's URL. */
const SIM_NAMESPACE = uuidV5(
  NAMESPACE_URL,
  Buffer.from("http://git-annex.branchable.com/git-annex-sim/", "utf8"),
);

/**
 * Sim.hs `genSimUUID`: the v5 UUID, in the sim's namespace, of the
 * repository's name followed by 1024 random bytes. Returns the UUID and
 * the next seed.
 */
export function genSimUuid(repoName: string, seed: bigint): [string, bigint] {
  const [bytes, next] = simRandom(seed, (g) => randomWords(g, 1024));
  const name = Buffer.concat([Buffer.from(repoName, "utf8"), bytes]);
  return [formatUuid(uuidV5(SIM_NAMESPACE, name)), next];
}
