/**
 * Reclaiming the temp files of abandoned uploads. An upload cut off part
 * way leaves its temp file (`annex/tmp/KEY`) so that the sender can resume
 * from where it stopped; nothing else ever removes it. Stock git-annex
 * leaves them too, until someone runs `git annex unused` and `dropunused`
 * by hand; a server facing the internet cannot wait for that. So partial
 * uploads are kept for a resume, but only for so long (a maximum age) and,
 * when a cap is set, only up to so many bytes in all (the oldest go first).
 *
 * A temp file being written is never touched: not one this process is
 * receiving (the store knows), and not one a stock git-annex (or another
 * annexgate) is receiving in the same repository, which holds an fcntl lock
 * on `annex/transfer/download/lck/lck.KEY` while it does (Logs/Transfer.hs).
 * A file whose size or time changed since it was looked at is left for the
 * next round.
 */
import type { Dir } from "node:fs";
import { opendir, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { type FcntlLocks, processFcntlLocks } from "../locks/index.js";
import { BadDurationError, BadSizeError, parseDurationMs, parseSize } from "../sizes/index.js";
import { errorText, type Logger } from "../util/index.js";
import { errnoCode } from "./errors.js";
import { downloadLockFileIn, tmpWorkDirIn } from "./layout.js";
import type { ObjectStore } from "./store.js";

/** How long and how much of abandoned uploads to keep; null is "no limit". */
export interface TmpLimits {
  /** Partial uploads untouched for longer than this are removed. */
  readonly maxAgeMs: number | null;
  /** Beyond this many bytes of partial uploads in all, the oldest are removed. */
  readonly maxBytes: number | null;
}

const DAY_MS = 86_400_000;

/** A week for a resume, as `annex.expireunused` suggests; no cap on the total. */
export const DEFAULT_TMP_LIMITS: TmpLimits = { maxAgeMs: 7 * DAY_MS, maxBytes: null };

/** The word that lifts a limit, in a flag or in git config. */
const NO_LIMIT = "none";

/** Limits as an operator writes them; an absent one keeps its default. */
export interface TmpLimitText {
  readonly maxAge?: string | undefined;
  readonly maxSize?: string | undefined;
}

/**
 * Limits from their text (a flag, or git config `annexgate.tmp-max-age` /
 * `annexgate.tmp-max-size`): a git-annex duration ("7d", "12h") and a
 * git-annex size ("10GiB"), or "none"; undefined keeps the default.
 *
 * @throws BadDurationError, BadSizeError (a negative size is refused too)
 */
export function tmpLimitsFrom(text: TmpLimitText): TmpLimits {
  const maxAge = text.maxAge?.trim();
  const maxSize = text.maxSize?.trim();
  let maxAgeMs = DEFAULT_TMP_LIMITS.maxAgeMs;
  if (maxAge !== undefined) {
    maxAgeMs = maxAge === NO_LIMIT ? null : parseDurationMs(maxAge);
  }
  let maxBytes = DEFAULT_TMP_LIMITS.maxBytes;
  if (maxSize !== undefined && maxSize !== NO_LIMIT) {
    const bytes = parseSize(maxSize);
    if (bytes < 0n) throw new BadSizeError(maxSize);
    maxBytes = bytes > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(bytes);
  } else if (maxSize === NO_LIMIT) {
    maxBytes = null;
  }
  return { maxAgeMs, maxBytes };
}

/** True when `e` is a limit's text that could not be read. */
export function isBadLimit(e: unknown): e is BadDurationError | BadSizeError {
  return e instanceof BadDurationError || e instanceof BadSizeError;
}

/** A temp file as found on disk. */
export interface PartialUpload {
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * Which partial uploads to remove (pure): every one older than the maximum
 * age, then, while the total on disk is over the cap, the oldest left.
 * Files in use count towards the total but are never chosen.
 */
export function partialsToReclaim(
  partials: readonly PartialUpload[],
  limits: TmpLimits,
  now: number,
  inUse: (name: string) => boolean,
): PartialUpload[] {
  const oldestFirst = [...partials].sort(
    (a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const chosen = new Set<PartialUpload>();
  const { maxAgeMs, maxBytes } = limits;
  if (maxAgeMs !== null) {
    for (const p of oldestFirst) {
      if (now - p.mtimeMs > maxAgeMs && !inUse(p.name)) chosen.add(p);
    }
  }
  if (maxBytes !== null) {
    let total = 0;
    for (const p of oldestFirst) if (!chosen.has(p)) total += p.size;
    for (const p of oldestFirst) {
      if (total <= maxBytes) break;
      if (chosen.has(p) || inUse(p.name)) continue;
      chosen.add(p);
      total -= p.size;
    }
  }
  return oldestFirst.filter((p) => chosen.has(p));
}

/** What one round removed and kept. */
export interface ReclaimReport {
  readonly removed: readonly string[];
  readonly freedBytes: number;
  /** Bytes of partial uploads left on disk. */
  readonly keptBytes: number;
}

export interface TmpReclaimerOptions {
  /** The clock (ms since the epoch, as file times are); tests pass their own. */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Where to ask about stock git-annex's transfer locks (the process's helper by default). */
  readonly locks?: FcntlLocks;
}

/** How often to look: an eighth of the maximum age, within a minute and an hour. */
export function reclaimPeriodMs(limits: TmpLimits): number {
  const hour = 3_600_000;
  if (limits.maxAgeMs === null) return hour;
  return Math.min(hour, Math.max(60_000, Math.floor(limits.maxAgeMs / 8)));
}

/** Reclaims one object store's partial uploads, now and then and on demand. */
export class TmpReclaimer {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<ReclaimReport> | null = null;
  #again = false;
  #stopWatching: (() => void) | null = null;
  readonly #now: () => number;
  readonly #store: ObjectStore;
  readonly #opts: TmpReclaimerOptions;

  constructor(
    store: ObjectStore,
    readonly limits: TmpLimits,
    opts: TmpReclaimerOptions = {},
  ) {
    this.#store = store;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Reclaim now, then every period (a timer that keeps no process alive),
   * and, while a cap is set, whenever an upload starts a temp file or
   * leaves one behind.
   */
  start(): Promise<ReclaimReport> {
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#requestRound(), reclaimPeriodMs(this.limits));
      this.#timer.unref();
    }
    if (this.limits.maxBytes !== null && this.#stopWatching === null) {
      this.#stopWatching = this.#store.watchPartials(() => this.#requestRound());
    }
    return this.reclaim();
  }

  /** Stop the timer and the watching; waits for a round under way. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#stopWatching?.();
    this.#stopWatching = null;
    this.#again = false;
    await this.#running?.catch(() => undefined);
  }

  /** A round in the background: its failures are logged, never thrown. */
  #requestRound(): void {
    this.reclaim().catch((e: unknown) => {
      this.#opts.logger?.warn(
        { err: errnoCode(e) ?? errorText(e) },
        "reclaiming partial uploads failed",
      );
    });
  }

  /**
   * One round of reclaiming. Rounds never overlap: asked for during one,
   * another follows it (once, however often it was asked for), since files
   * may have appeared after the first looked.
   */
  reclaim(): Promise<ReclaimReport> {
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    const round = this.#round().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.#requestRound();
      }
    });
    this.#running = round;
    return round;
  }

  async #round(): Promise<ReclaimReport> {
    const partials = await this.#listPartials();
    const now = this.#now();
    const doomed = partialsToReclaim(partials, this.limits, now, (n) => this.#store.tmpInUse(n));
    const removed: string[] = [];
    let freedBytes = 0;
    for (const p of doomed) {
      if (await this.#removeIfUnchanged(p)) {
        removed.push(p.name);
        freedBytes += p.size;
      }
    }
    const keptBytes = partials.reduce((n, p) => n + p.size, 0) - freedBytes;
    if (removed.length > 0) {
      this.#opts.logger?.info(
        { removed: removed.length, freedBytes, keptBytes },
        `reclaimed ${removed.length} abandoned partial upload(s), ${freedBytes} bytes; ${keptBytes} bytes kept`,
      );
    }
    return { removed, freedBytes, keptBytes };
  }

  /** The temp files of the store (work directories and other entries aside). */
  async #listPartials(): Promise<PartialUpload[]> {
    const dir = this.#store.layout.tmpDir;
    const found: PartialUpload[] = [];
    let entries: Dir;
    try {
      entries = await opendir(dir, { bufferSize: 256 });
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return found; // no upload yet
      throw e;
    }
    for await (const entry of entries) {
      if (!entry.isFile()) continue;
      const st = await stat(join(dir, entry.name)).catch(() => null);
      if (st?.isFile()) found.push({ name: entry.name, size: st.size, mtimeMs: st.mtimeMs });
    }
    return found;
  }

  /**
   * Remove a chosen temp file, unless its key is in use here, a stock
   * git-annex is receiving it, or it changed since it was looked at.
   */
  async #removeIfUnchanged(p: PartialUpload): Promise<boolean> {
    const file = join(this.#store.layout.tmpDir, p.name);
    const done = await this.#store.whileTmpIdle(p.name, async () => {
      const st = await stat(file).catch(() => null);
      if (st === null || st.size !== p.size || st.mtimeMs !== p.mtimeMs) return false;
      if (await this.#stockIsReceiving(p.name)) return false;
      // Emptied first, so its blocks are freed even while a reader holds it open.
      await truncate(file);
      await rm(tmpWorkDirIn(this.#store.layout, p.name), { recursive: true, force: true });
      await rm(file, { force: true });
      return true;
    });
    return done === true;
  }

  /** Whether another process holds git-annex's download lock for this temp file. */
  async #stockIsReceiving(name: string): Promise<boolean> {
    const transferDir = this.#store.layout.transferDir;
    if (transferDir === undefined) return false;
    const lck = downloadLockFileIn(transferDir, name);
    // No lock file, no transfer: and none is created just to look.
    if ((await stat(lck).catch(() => null)) === null) return false;
    try {
      const held = await (this.#opts.locks ?? processFcntlLocks()).tryLock(lck, "shared");
      if (held === null) return true;
      await held.release();
      return false;
    } catch {
      return true; // cannot tell: leave the file be
    }
  }
}
