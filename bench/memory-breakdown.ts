/**
 * Where an annexgate server's memory goes, from its own Prometheus
 * metrics (--metrics-port): sampled beside the RSS sampler, the sample
 * with the highest resident size is kept whole, so the bench prints what
 * that peak was made of (V8's heap, used and committed; memory outside the
 * heap that V8 knows of, Buffers above all; and what is left of the RSS
 * once both are taken away: code, stacks, the allocator's free lists, less
 * any committed heap not resident) instead of a guess.
 */
import { parseMetrics, sumOf } from "../test/helpers/metrics.js";

export interface MemoryBreakdown {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  /** V8's heap spaces, used bytes each (new, old, code, large objects…). */
  readonly spaces: ReadonlyMap<string, number>;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(10_000),
  });
  return res.text();
}

/** The breakdown in one scrape's text. */
export function parseBreakdown(text: string): MemoryBreakdown {
  const samples = parseMetrics(text);
  const value = (name: string) => sumOf(samples, name, {});
  const spaces = new Map<string, number>();
  for (const s of samples) {
    const space = s.labels.space;
    if (s.name === "nodejs_heap_space_size_used_bytes" && space !== undefined) {
      spaces.set(space, s.value);
    }
  }
  return {
    rssBytes: value("process_resident_memory_bytes"),
    heapUsedBytes: value("nodejs_heap_size_used_bytes"),
    heapTotalBytes: value("nodejs_heap_size_total_bytes"),
    externalBytes: value("nodejs_external_memory_bytes"),
    spaces,
  };
}

/** Scrapes `port` every `intervalMs` until stopped; keeps the highest-RSS sample. */
export class BreakdownSampler {
  #timer: NodeJS.Timeout | null = null;
  #busy = false;
  #peak: MemoryBreakdown | undefined;
  #errors = 0;

  constructor(
    private readonly port: number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      scrape(this.port)
        .then((text) => {
          const b = parseBreakdown(text);
          if (this.#peak === undefined || b.rssBytes > this.#peak.rssBytes) {
            this.#peak = b;
          }
        })
        .catch(() => {
          this.#errors++;
        })
        .finally(() => {
          this.#busy = false;
        });
    }, this.intervalMs);
  }

  /** Stops; the sample taken at the highest RSS seen, and how many scrapes failed. */
  stop(): { peak: MemoryBreakdown | undefined; errors: number } {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    return { peak: this.#peak, errors: this.#errors };
  }
}

const MiB = 1024 * 1024;

/** One line: the peak's parts in MiB. */
export function describeBreakdown(b: MemoryBreakdown): string {
  const other = b.rssBytes - b.heapTotalBytes - b.externalBytes;
  const f = (n: number) => (n / MiB).toFixed(1);
  const spaces = [...b.spaces]
    .filter(([, v]) => v >= MiB)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${f(v)}`)
    .join(", ");
  return (
    `RSS ${f(b.rssBytes)} = V8 heap ${f(b.heapTotalBytes)} (used ${f(b.heapUsedBytes)}: ${spaces}) ` +
    `+ external (Buffers) ${f(b.externalBytes)} + the rest of the RSS ${f(other)}`
  );
}
