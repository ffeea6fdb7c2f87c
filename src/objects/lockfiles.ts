/**
 * Content locks that hold across processes. Every ssh login runs its own
 * `annexgate shell`, so a LOCKCONTENT taken in one must stop a REMOVE
 * arriving through another. git-annex uses fcntl locks for this, which
 * Node cannot take; instead each lock is a small file under
 * `annex/annexgate-locks/<keyfile>/`, named for the process that holds it
 * and holding its expiry, and a removal first claims the key with an
 * exclusive `removing` marker, then looks for live locks. Each side writes
 * its own file before looking for the other's, so at least one of two racing
 * processes sees the other. Files of processes that have died, and expired
 * locks, are ignored and tidied.
 *
 * These are annexgate's own: a `git annex drop` run by hand in the repository
 * does not see them.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_LOCK_RETENTION_MS } from "./locks.js";

const REMOVING = "removing";
const PINNED = "pinned";

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface LockFile {
  /** Keep the lock from expiring until release (p2phttp keeplocked). */
  keep(): void;
  release(): void;
}

export class LockFiles {
  constructor(
    private readonly dir: string,
    private readonly retentionMs = DEFAULT_LOCK_RETENTION_MS,
  ) {}

  /** Take a shared lock on `name` (a key's file name), or null while it is being removed. */
  acquire(name: string): LockFile | null {
    const keyDir = join(this.dir, name);
    mkdirSync(keyDir, { recursive: true });
    const file = join(keyDir, `${process.pid}-${randomUUID()}.lock`);
    writeFileSync(file, String(Date.now() + this.retentionMs));
    if (this.removalUnderWay(keyDir)) {
      rmSync(file, { force: true });
      return null;
    }
    return {
      keep: () => writeFileSync(file, PINNED),
      release: () => rmSync(file, { force: true }),
    };
  }

  /**
   * Run a removal of `name` unless some process holds a live lock on it (then
   * null, without running). No lock can be taken while it runs.
   */
  async whileRemoving<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
    const keyDir = join(this.dir, name);
    mkdirSync(keyDir, { recursive: true });
    const marker = join(keyDir, REMOVING);
    if (!this.claim(marker)) return null;
    try {
      if (this.liveLocks(keyDir)) return null;
      return await fn();
    } finally {
      rmSync(marker, { force: true });
    }
  }

  private claim(marker: string): boolean {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(marker, String(process.pid), { flag: "wx" });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      let text: string;
      try {
        text = readFileSync(marker, "utf8").trim();
      } catch {
        continue; // the other removal just ended: try again
      }
      // Someone else is removing (an empty marker is one being written):
      // give way, unless that process is gone.
      if (text === "" || pidAlive(Number(text))) return false;
      rmSync(marker, { force: true });
    }
    return false;
  }

  private removalUnderWay(keyDir: string): boolean {
    let text: string;
    try {
      text = readFileSync(join(keyDir, REMOVING), "utf8");
    } catch {
      return false;
    }
    // An empty marker is one being written right now: treat it as live.
    return text.trim() === "" || pidAlive(Number(text.trim()));
  }

  private liveLocks(keyDir: string): boolean {
    let live = false;
    for (const entry of readdirSync(keyDir)) {
      if (!entry.endsWith(".lock")) continue;
      const path = join(keyDir, entry);
      const pid = Number(entry.slice(0, entry.indexOf("-")));
      let content = "";
      try {
        content = readFileSync(path, "utf8").trim();
      } catch {
        continue; // released meanwhile
      }
      // A lock file being written has no content yet: live.
      const fresh = content === "" || content === PINNED || Number(content) > Date.now();
      if (pidAlive(pid) && fresh) live = true;
      else rmSync(path, { force: true });
    }
    return live;
  }
}
