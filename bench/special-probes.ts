/**
 * What bench/special.ts measures besides time, taken from outside the
 * server so annexgate and stock are measured the same way:
 *
 *  - bytes an S3 server sent, counted by a TCP relay the special remote is
 *    pointed at (the server itself is not touched);
 *  - bytes read by a process tree (`rchar` in /proc/PID/io, which counts
 *    read(2) from files and sockets alike), for a directory remote where
 *    there is no wire to count;
 *  - the peak number of bytes in some directories (the gateway's temp
 *    directories), sampled.
 *
 * Each sampler has phases: `mark()` ends one and answers its figure.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { treePids } from "./common.js";

export interface CountingRelay {
  /** The loopback port to point clients at. */
  readonly port: number;
  /** Bytes the target sent back through the relay so far. */
  bytesFromTarget(): number;
  close(): Promise<void>;
}

/** A TCP relay on 127.0.0.1 to `targetPort` that counts the bytes coming back. */
export async function startCountingRelay(targetPort: number): Promise<CountingRelay> {
  let fromTarget = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const target = connect(targetPort, "127.0.0.1");
    for (const s of [client, target]) {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
      // A reset on one side closes the other; the error itself is no news.
      s.on("error", () => {
        client.destroy();
        target.destroy();
      });
    }
    // A side that closes closes the other once what it sent is flushed:
    // pipe() alone would leave a client sending into a relay that no
    // longer reads (a hang where a direct connection sees a reset).
    target.once("close", () => client.end(() => client.destroy()));
    client.once("close", () => target.end(() => target.destroy()));
    target.on("data", (d: Buffer) => {
      fromTarget += d.length;
    });
    // pipe() keeps backpressure in both directions.
    client.pipe(target);
    target.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port,
    bytesFromTarget: () => fromTarget,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function rchar(pid: number): Promise<number | undefined> {
  try {
    const m = /^rchar:\s+([0-9]+)$/m.exec(await readFile(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Bytes in the files under `dir`, recursively (0 when it does not exist). */
export async function bytesUnder(dir: string, depth = 0): Promise<number> {
  // Bounded: git-annex's temp directories are two or three levels deep.
  if (depth > 8) return 0;
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await bytesUnder(path, depth + 1);
    else if (e.isFile())
      total += await stat(path).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/** Runs `sample` every `intervalMs` (never two at once) until stopped or `maxMs` passed. */
abstract class Ticking {
  #timer: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly maxMs: number,
  ) {}

  protected abstract sampleOnce(): Promise<void>;

  async start(): Promise<void> {
    const started = Date.now();
    await this.sample();
    this.#timer = setInterval(() => {
      if (Date.now() - started > this.maxMs) this.stop();
      else if (this.#inflight === null) void this.sample();
    }, this.intervalMs);
  }

  protected async sample(): Promise<void> {
    while (this.#inflight !== null) await this.#inflight;
    this.#inflight = this.sampleOnce();
    try {
      await this.#inflight;
    } finally {
      this.#inflight = null;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

/**
 * Bytes read by `pid` and its descendants per phase. A child that starts
 * and ends between two samples is missed, as is a child's last interval:
 * small next to the big reads measured here.
 */
export class TreeReadCounter extends Ticking {
  #last = new Map<number, number>();
  #base = new Map<number, number>();

  constructor(
    private readonly pid: number,
    intervalMs = 50,
    maxMs = 3_600_000,
  ) {
    super(intervalMs, maxMs);
  }

  protected async sampleOnce(): Promise<void> {
    for (const p of await treePids(this.pid)) {
      const r = await rchar(p);
      if (r !== undefined) this.#last.set(p, r);
    }
  }

  /** Bytes read since the previous mark (or start). */
  async mark(): Promise<number> {
    await this.sample();
    let total = 0;
    for (const [p, r] of this.#last) total += r - (this.#base.get(p) ?? 0);
    this.#base = new Map(this.#last);
    return total;
  }
}

/** The peak of the bytes under some directories, per phase. */
export class DiskPeakSampler extends Ticking {
  #peak = 0;

  constructor(
    private readonly dirs: readonly string[],
    intervalMs = 100,
    maxMs = 3_600_000,
  ) {
    super(intervalMs, maxMs);
  }

  protected async sampleOnce(): Promise<void> {
    let total = 0;
    for (const d of this.dirs) total += await bytesUnder(d);
    this.#peak = Math.max(this.#peak, total);
  }

  /** The peak since the previous mark (or start). */
  async mark(): Promise<number> {
    await this.sample();
    const peak = this.#peak;
    this.#peak = 0;
    return peak;
  }
}
