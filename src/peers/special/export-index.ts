/**
 * Where an export special remote (`exporttree=yes`) keeps each key: the
 * paths of the files of the exported tree whose content is that key, as
 * git-annex's export database holds them (Database/Export.hs), built here
 * from the tree export.log names and rebuilt whenever export.log changes.
 * Every lookup reads export.log afresh (the branch's, with the lines of
 * git-annex branches pushed and not merged yet), so an answer is never
 * older than what the gateway's repository holds: git-annex's p2phttp
 * keeps one database per process and can miss a new export, and so
 * report a drop of an exported file as done while the file stays.
 *
 * The annexobjects location (`annexobjects=yes`) is where a key not in
 * the exported tree is stored: `.git/annex/objects/<hashdirlower>/<keyFile>/<keyFile>`
 * under the remote's top (Annex/Locations.hs `exportAnnexObjectLocation`).
 */
import { exportedTreesOf } from "../../branch/index.js";
import type { Git } from "../../git/index.js";
import {
  formatKey,
  type Key,
  keyOfLinkOrPointer,
  MAX_POINTER_SIZE,
  objectPath,
} from "../../keys/index.js";
import { PeerUnreachableError } from "../peer.js";

/** A key's export locations, and whether the export is in conflict. */
export interface ExportLocations {
  /** Paths in the exported tree (or trees, in a conflict) whose content is the key. */
  readonly paths: readonly string[];
  /** Several trees were exported to the remote by different repositories. */
  readonly conflict: boolean;
}

/** The path of a key's annexobjects copy, relative to the remote's top. */
export function annexObjectLocation(key: Key): string {
  return `.git/annex/objects/${objectPath(key, "lower")}`;
}

/**
 * Whether a path from an exported tree is one annexgate will address on
 * the remote: relative, no empty, "." or ".." segment, and not under
 * `.git` (git refuses such tree entries; a crafted tree could still hold
 * one, and it would alias the annexobjects copies).
 */
export function isSafeExportPath(path: string): boolean {
  if (path === "" || path.startsWith("/") || path.includes("\0")) return false;
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return false;
  return (segments[0] ?? "").toLowerCase() !== ".git";
}

/** One `ls-tree -r -z -l` entry of a blob that may name a key. */
interface Candidate {
  readonly sha: string;
  readonly path: string;
}

const LS_TREE_ENTRY = /^(\d{6}) blob ([0-9a-f]{40,64}) +(\d+|-)\t([\s\S]*)$/;

/** Blobs of `tree` that may be annex links or pointers (small ones, and symlinks). */
export function parseLsTree(out: Buffer): Candidate[] {
  const candidates: Candidate[] = [];
  for (const entry of out.toString("utf8").split("\0")) {
    const m = LS_TREE_ENTRY.exec(entry);
    if (m === null) continue;
    const [, mode, sha, size, path] = m as unknown as [string, string, string, string, string];
    if (mode !== "120000" && (size === "-" || Number(size) > MAX_POINTER_SIZE)) continue;
    if (mode !== "120000" && mode !== "100644" && mode !== "100755") continue;
    if (!isSafeExportPath(path)) continue;
    candidates.push({ sha, path });
  }
  return candidates;
}

/**
 * Splits `git cat-file --batch` output into the blobs asked for, in
 * order; a missing object is null.
 */
export function parseCatFileBatch(out: Buffer, count: number): (Buffer | null)[] {
  const blobs: (Buffer | null)[] = [];
  let at = 0;
  while (blobs.length < count && at < out.length) {
    const nl = out.indexOf(0x0a, at);
    if (nl < 0) break;
    const header = out.subarray(at, nl).toString("utf8");
    const m = /^\S+ (\S+) (\d+)$/.exec(header);
    if (m === null) {
      blobs.push(null); // "<name> missing"
      at = nl + 1;
      continue;
    }
    const size = Number(m[2]);
    blobs.push(m[1] === "blob" ? out.subarray(nl + 1, nl + 1 + size) : null);
    at = nl + 1 + size + 1;
  }
  while (blobs.length < count) blobs.push(null);
  return blobs;
}

/** Key (serialized) to the paths of `tree` whose content is that key. */
export async function indexTree(git: Git, tree: string): Promise<Map<string, string[]>> {
  const candidates = parseLsTree(await git.run(["ls-tree", "-r", "-z", "-l", "--full-tree", tree]));
  const index = new Map<string, string[]>();
  if (candidates.length === 0) return index;
  const input = `${candidates.map((c) => c.sha).join("\n")}\n`;
  const blobs = parseCatFileBatch(
    await git.run(["cat-file", "--batch"], { input }),
    candidates.length,
  );
  for (const [i, c] of candidates.entries()) {
    const blob = blobs[i];
    const key = blob ? keyOfLinkOrPointer(blob) : null;
    if (key === null) continue;
    const name = formatKey(key);
    const paths = index.get(name);
    if (paths === undefined) index.set(name, [c.path]);
    else paths.push(c.path);
  }
  return index;
}

export interface ExportIndexOptions {
  /** The export remote's UUID. */
  readonly remoteUuid: string;
  /** The gateway's repository, where the exported trees are. */
  readonly git: Git;
  /** export.log as the gateway's branch holds it now. */
  readonly readLog: () => Promise<string>;
}

/** The export locations of keys, as of the export log when asked. */
export class ExportIndex {
  readonly #opts: ExportIndexOptions;
  /** The log text the index was built from, and the index (a promise, shared by concurrent lookups). */
  #built: { log: string; index: Promise<ExportState> } | null = null;

  constructor(opts: ExportIndexOptions) {
    this.#opts = opts;
  }

  /** Where `key` is exported now. */
  async locations(key: Key): Promise<ExportLocations> {
    const state = await this.#current();
    return { paths: state.index.get(formatKey(key)) ?? [], conflict: state.conflict };
  }

  async #current(): Promise<ExportState> {
    let log: string;
    try {
      log = await this.#opts.readLog();
    } catch (e) {
      throw new PeerUnreachableError("export remote: cannot read the export log", {}, e);
    }
    if (this.#built === null || this.#built.log !== log) {
      const index = this.#build(log);
      this.#built = { log, index };
      // A failed build is not kept: the next lookup tries again.
      index.catch(() => {
        if (this.#built?.index === index) this.#built = null;
      });
    }
    return this.#built.index;
  }

  async #build(log: string): Promise<ExportState> {
    const trees = exportedTreesOf(log, this.#opts.remoteUuid);
    const index = new Map<string, string[]>();
    for (const tree of trees) {
      let one: Map<string, string[]>;
      try {
        one = await indexTree(this.#opts.git, tree);
      } catch (e) {
        // The tree is not in the gateway's repository (not yet fetched):
        // which files it holds cannot be known, so nothing is answered.
        throw new PeerUnreachableError("export remote: the exported tree is not available", {}, e);
      }
      for (const [k, paths] of one) index.set(k, [...(index.get(k) ?? []), ...paths]);
    }
    return { index, conflict: trees.length > 1 };
  }
}

interface ExportState {
  readonly index: ReadonlyMap<string, readonly string[]>;
  readonly conflict: boolean;
}
