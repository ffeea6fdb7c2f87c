/**
 * Reading refs from git's files (loose refs, then `packed-refs`) instead
 * of running `git rev-parse` or `git for-each-ref`: the git-annex branch
 * is read before every commit and the refs a gateway watches once a
 * second, and each git process costs the event loop a fork. Git writes
 * a loose ref by renaming a lock file over it and rewrites packed-refs
 * the same way, so a file read here is always a whole value; reading the
 * loose file before packed-refs is git's own order.
 *
 * Only the plain files backend is read: a repository whose refs live
 * elsewhere (a linked work tree's `commondir`, the reftable backend) or a
 * ref file this does not understand (a symbolic ref) answers "unknown",
 * and the caller asks git.
 */
import { readFileSync, type Stats, statfsSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** What the files say of a ref: its object id, absent (null), or UNKNOWN (ask git). */
export const UNKNOWN: unique symbol = Symbol("unknown ref");
export type RefValue = string | null | typeof UNKNOWN;

/** A ref and the object it names. */
export interface RefEntry {
  readonly ref: string;
  readonly sha: string;
}

const SHA_LINE = /^([0-9a-f]{40}|[0-9a-f]{64})\n?$/;
const PACKED_LINE = /^([0-9a-f]{40}|[0-9a-f]{64}) (refs\/\S+)$/;

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/**
 * A ref name this reader handles: under refs/, of plain characters, none
 * of git's forbidden forms (see git check-ref-format). Any other name,
 * `refs/x^{commit}` included, is left to git.
 */
const PLAIN_NAME = /^refs(\/[A-Za-z0-9_+=,%@-][A-Za-z0-9_+=,%@.-]*)+$/;
function plainRefName(ref: string): boolean {
  return (
    PLAIN_NAME.test(ref) &&
    !ref.includes("..") &&
    !ref.includes("@{") &&
    !ref.endsWith(".") &&
    !/\.lock(\/|$)/.test(ref)
  );
}

/**
 * A loose ref's value is kept with its file's inode number and times, and
 * read again when they change; but only once the file is older than any
 * filesystem's timestamp step (ext4's is a clock tick, FAT's 2 s). A ref
 * replaced twice within one step can come back with the same inode number
 * (ext4 hands a freed inode out again at once) and the same times: the
 * "racily clean" case of git's own index.
 */
const SETTLED_MS = 2_500;
/**
 * Filesystems whose stat is the file's own, at once (statfs f_type). On a
 * network filesystem (NFS, SMB, FUSE mounts such as sshfs) a stat may
 * answer from an attribute cache for a while after another host replaced
 * the file, where opening it would have looked again; and the times come
 * from the server's clock. Loose refs there are read every time.
 */
const LOCAL_FILESYSTEMS: ReadonlySet<number> = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
]);
/** Loose refs whose value is kept (the git-annex branch, the watched remotes' refs). */
const MAX_KEPT_LOOSE = 256;

interface KeptLoose {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly sha: string;
}

interface Packed {
  readonly stamp: string;
  readonly refs: ReadonlyMap<string, string>;
}

export class RefFiles {
  readonly #gitDir: string;
  /** Whether this repository keeps its refs in plain files here (found once). */
  #plain: boolean | null = null;
  #packed: Packed | null = null;
  readonly #kept = new Map<string, KeptLoose>();
  /** Whether loose ref values may be kept here (a local filesystem; found once). */
  #keepable: boolean | null = null;

  readonly #settledMs: number;

  /** `settledMs`: see SETTLED_MS (tests lower it to reach the kept values). */
  constructor(gitDir: string, settledMs = SETTLED_MS) {
    this.#gitDir = gitDir;
    this.#settledMs = settledMs;
  }

  #isKeepable(): boolean {
    if (this.#keepable === null) {
      try {
        this.#keepable = LOCAL_FILESYSTEMS.has(statfsSync(this.#gitDir).type);
      } catch {
        this.#keepable = false;
      }
    }
    return this.#keepable;
  }

  #isPlain(): boolean {
    this.#plain ??= ["commondir", "reftable"].every((name) => {
      try {
        return statSync(join(this.#gitDir, name), { throwIfNoEntry: false }) === undefined;
      } catch {
        return false;
      }
    });
    return this.#plain;
  }

  /**
   * packed-refs, parsed again only when the file was replaced or changed
   * (kept by the same rules as a loose ref's value).
   */
  #packedRefs(): ReadonlyMap<string, string> | typeof UNKNOWN {
    const file = join(this.#gitDir, "packed-refs");
    let text: string;
    let stamp: string;
    let settled: boolean;
    try {
      const st = statSync(file, { bigint: true, throwIfNoEntry: false });
      if (st === undefined) return new Map();
      stamp = `${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
      const changedMs = Math.max(Number(st.mtimeMs), Number(st.ctimeMs));
      settled = Date.now() - changedMs >= this.#settledMs && this.#isKeepable();
      if (this.#packed?.stamp === stamp) return this.#packed.refs;
      text = readFileSync(file, "utf8");
    } catch (e) {
      return code(e) === "ENOENT" ? new Map() : UNKNOWN;
    }
    const refs = new Map<string, string>();
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#") || line.startsWith("^")) continue;
      const m = PACKED_LINE.exec(line);
      if (m === null) return UNKNOWN;
      refs.set(m[2] as string, m[1] as string);
    }
    this.#packed = settled ? { stamp, refs } : null;
    return refs;
  }

  /** A loose ref file's value: a sha, null (no such file), or UNKNOWN. */
  #loose(ref: string): RefValue {
    const file = join(this.#gitDir, ref);
    let text: string;
    let st: Stats | undefined;
    try {
      // Absent is the usual answer for a packed ref: a stat that does not
      // throw costs a few µs, a read that throws ENOENT about 25.
      st = statSync(file, { throwIfNoEntry: false });
      if (st === undefined) {
        this.#kept.delete(ref);
        return null;
      }
      const kept = this.#kept.get(ref);
      if (
        kept !== undefined &&
        kept.ino === st.ino &&
        kept.mtimeMs === st.mtimeMs &&
        kept.ctimeMs === st.ctimeMs
      ) {
        return kept.sha;
      }
      text = readFileSync(file, "utf8");
    } catch (e) {
      const c = code(e);
      // A directory of that name (refs/heads/synced when synced/git-annex exists).
      return c === "ENOENT" || c === "EISDIR" || c === "ENOTDIR" ? null : UNKNOWN;
    }
    const sha = SHA_LINE.exec(text)?.[1];
    if (sha === undefined) return UNKNOWN;
    if (Date.now() - Math.max(st.mtimeMs, st.ctimeMs) >= this.#settledMs && this.#isKeepable()) {
      if (this.#kept.size >= MAX_KEPT_LOOSE) this.#kept.clear();
      this.#kept.set(ref, { ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, sha });
    } else {
      this.#kept.delete(ref);
    }
    return sha;
  }

  /**
   * The object id `ref` (a full name, refs/…) names. Synchronous: two
   * small files at most, where promise-based reads cost more CPU than
   * the reading (the git-annex branch's tip is read for every file read
   * from it).
   */
  readSync(ref: string): RefValue {
    if (!plainRefName(ref) || !this.#isPlain()) return UNKNOWN;
    const loose = this.#loose(ref);
    if (loose !== null) return loose;
    const packed = this.#packedRefs();
    return packed === UNKNOWN ? UNKNOWN : (packed.get(ref) ?? null);
  }

  /**
   * Every ref under `prefix` (ending in "/") whose name `wanted` accepts,
   * sorted by name as for-each-ref lists them; UNKNOWN when the files
   * cannot tell.
   */
  async list(
    prefix: string,
    wanted: (ref: string) => boolean,
  ): Promise<RefEntry[] | typeof UNKNOWN> {
    if (!prefix.endsWith("/") || !plainRefName(prefix.slice(0, -1))) return UNKNOWN;
    if (!this.#isPlain()) return UNKNOWN;
    const names = new Set<string>();
    const walk = async (dir: string): Promise<boolean> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(join(this.#gitDir, dir), { withFileTypes: true });
      } catch (e) {
        return code(e) === "ENOENT";
      }
      for (const ent of entries) {
        const name = `${dir}/${ent.name}`;
        if (ent.isDirectory()) {
          if (!(await walk(name))) return false;
        } else if (ent.isFile()) {
          if (name.endsWith(".lock")) continue;
          // A name git might not take for a ref: git decides.
          if (!plainRefName(name)) return false;
          if (wanted(name)) names.add(name);
        } else {
          // A symbolic link (a symref, or a ref kept elsewhere) or stranger:
          // git decides what it names.
          return false;
        }
      }
      return true;
    };
    if (!(await walk(prefix.slice(0, -1)))) return UNKNOWN;
    const packed = this.#packedRefs();
    if (packed === UNKNOWN) return UNKNOWN;
    for (const ref of packed.keys()) if (ref.startsWith(prefix) && wanted(ref)) names.add(ref);
    const out: RefEntry[] = [];
    for (const ref of [...names].sort(byteOrder)) {
      const loose = this.#loose(ref);
      if (loose === UNKNOWN) return UNKNOWN;
      const sha = loose ?? packed.get(ref);
      if (sha !== undefined) out.push({ ref, sha });
    }
    return out;
  }
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
