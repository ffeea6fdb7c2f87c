/**
 * One export of a tree to one remote, as the steps share it: where
 * things are, what was done, and the few operations on the remote's
 * files every step uses.
 */
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { AnnexBranch } from "../branch/index.js";
import type { Git } from "../git/index.js";
import { type Key, parseKey, type Verifier, verificationFor } from "../keys/index.js";
import type { ObjectStore } from "../objects/index.js";
import { type PathStorage, PeerError } from "../peers/index.js";
import { ExportError } from "./errors.js";
import type { BlobKeys } from "./tree-files.js";

export interface ExportRun {
  readonly git: Git;
  readonly branch: AnnexBranch;
  /** The gateway's UUID: the exporting repository. */
  readonly here: string;
  readonly remote: { readonly name: string; readonly uuid: string };
  /** The remote's files, by path. */
  readonly files: PathStorage;
  readonly keys: BlobKeys;
  /** The gateway's own annexed objects. */
  readonly objects: ObjectStore;
  /** One line of progress or of a failure, for the pusher to see. */
  readonly report: (line: string) => void;
  /**
   * Whether the remote's preferred content wants the annexed file at
   * `path` (relative to the exported tree) with key `key`; absent when
   * the remote has no expression, and every file is exported.
   */
  readonly wants?: ExportWanted;
  /**
   * Annexed keys whose file a step deleted from the remote: whether the
   * remote still has them is settled once the export is done.
   */
  readonly unexported: Set<string>;
}

/** See `ExportRun.wants`. */
export type ExportWanted = (path: string, key: string) => Promise<boolean>;

/**
 * Where a file whose key stays in the tree waits while files are renamed,
 * so renames that swap files work (Command/Export.hs `exportTempName`).
 */
export function exportTempName(key: string): string {
  return `.git-annex-tmp-content-${key}`;
}

/** A verifier for `key`'s content, or null when it cannot be checked here. */
function verifierFor(key: Key | undefined): Verifier | null {
  if (key === undefined) return null;
  try {
    const v = verificationFor(key);
    return v.kind === "hash" ? v.create() : null;
  } catch {
    return null; // a key annexgate cannot hash: git-annex's export cannot check it either
  }
}

/**
 * Writes `data` to the file at `path` on the remote, visible only once
 * whole; with `key`, only if the bytes are that key's content.
 */
export async function storeFile(
  files: PathStorage,
  path: string,
  data: Readable,
  opts: { size?: number | null; key?: string } = {},
): Promise<void> {
  const key = opts.key === undefined ? undefined : parseKey(opts.key);
  const verifier = verifierFor(key);
  const size = opts.size ?? key?.size;
  const staged = await files.stage(path, size === undefined || size === null ? {} : { size });
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      verifier?.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(data, hashing, staged.sink);
  } catch (e) {
    await staged.discard().catch(() => undefined);
    throw e;
  }
  if (verifier !== null && !verifier.matches()) {
    await staged.discard().catch(() => undefined);
    throw new ExportError("content did not match its key", { key: opts.key });
  }
  await staged.publish();
}

/**
 * A step's failure as the pusher may read it: the remote's errors and
 * the export's own name no path of this machine; anything else is told
 * only as unexpected (the whole error goes to the gateway's log).
 */
export function failureText(e: unknown): string {
  if (e instanceof PeerError || e instanceof ExportError) return e.message;
  return "an unexpected error";
}
