/**
 * Content locks that hold across processes. Every ssh login runs its own
 * `annexgate shell`, so a LOCKCONTENT taken in one must stop a REMOVE
 * arriving through another. git-annex uses fcntl locks for this, which
 * Node cannot take; instead each lock is a small file under
 * `annex/annexgate-locks/<keyfile>/`, named for the process that holds it
 * (its PID and, where /proc tells, when it started, so a PID reused after
 * a restart does not keep a crashed holder's lock alive) and holding its
 * expiry, and a removal first claims the key with an
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

function readProc(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/**
 * When process `pid` started (clock ticks since boot, /proc/PID/stat field
 * 22) on this boot (the kernel's boot id), or null where /proc cannot tell.
 * A PID alone names a different process after a restart (PID 1 in a
 * restarted container); PID plus this names one process only.
 */
export function processStart(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  const boot = readProc("/proc/sys/kernel/random/boot_id");
  if (stat === null || boot === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const start = fields[19];
  const bootId = boot.trim().replace(/-/g, "");
  if (start === undefined || !/^[0-9]+$/.test(start) || !/^[0-9a-f]+$/.test(bootId)) return null;
  return `${start}.${bootId}`;
}

/**
 * This process as lock files name it: "PID" plus "_START.BOOTID" when
 * /proc tells when it started.
 */
function selfToken(): string {
  const start = processStart(process.pid);
  return start === null ? String(process.pid) : `${process.pid}_${start}`;
}

/**
 * Whether the process a token names still runs: its PID is alive and, when
 * the token records a start, that PID started then on this boot (else the
 * PID was reused and the holder is gone).
 */
function holderAlive(token: string): boolean {
  const sep = token.indexOf("_");
  const pid = Number(sep < 0 ? token : token.slice(0, sep));
  if (!pidAlive(pid)) return false;
  if (sep < 0) return true; // written without /proc: the PID is all there is
  const now = processStart(pid);
  return now === null || now === token.slice(sep + 1);
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
    const file = join(keyDir, `${selfToken()}-${randomUUID()}.lock`);
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
        writeFileSync(marker, selfToken(), { flag: "wx" });
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
      if (text === "" || holderAlive(text)) return false;
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
    return text.trim() === "" || holderAlive(text.trim());
  }

  private liveLocks(keyDir: string): boolean {
    let live = false;
    for (const entry of readdirSync(keyDir)) {
      if (!entry.endsWith(".lock")) continue;
      const path = join(keyDir, entry);
      const holder = entry.slice(0, entry.indexOf("-"));
      let content = "";
      try {
        content = readFileSync(path, "utf8").trim();
      } catch {
        continue; // released meanwhile
      }
      // A lock file being written has no content yet: live.
      const fresh = content === "" || content === PINNED || Number(content) > Date.now();
      if (fresh && holderAlive(holder)) live = true;
      else rmSync(path, { force: true });
    }
    return live;
  }
}
