/**
 * What a sim did, for people (`annexgate sim report`): whether it
 * stabilized and if not why, how full each repository got against its
 * maxsize, and what moved. A {@link SimRecorder} watches a running sim
 * (it is the sim's observer) and keeps, besides totals, a bounded series
 * of samples of every repository's fill: one every `stride` actions, the
 * stride doubling whenever the series grows past twice its bound, so a
 * sim of millions of actions costs a few hundred samples.
 *
 * Content means a repository's own records of itself, which is what it
 * holds in git-annex's sim; counts are of keys (a file of the sim is a key).
 */
import type { SimObserver } from "./observer.js";
import type { SimState } from "./state.js";

/** The fill of every repository (bytes, by repository id) after `action` actions. */
export interface FillSample {
  readonly action: number;
  readonly bytes: readonly number[];
  /** Transfers and drops since the previous sample. */
  transfers: number;
  drops: number;
}

export interface RepoSummary {
  readonly name: string;
  readonly keys: number;
  readonly bytes: number;
  /** The most it held at any point of the run (bytes). */
  readonly peakBytes: number;
  readonly maxSize: number | undefined;
}

export interface PairSummary {
  readonly from: string;
  readonly to: string;
  readonly keys: number;
  readonly bytes: number;
}

export interface SimReport {
  /** The last step command's outcome; undefined when no step ran. */
  readonly stable: boolean | undefined;
  /** Why the sim is or is not stable, in a sentence. */
  readonly why: string;
  readonly stepCommands: readonly { readonly stable: boolean; readonly steps: number }[];
  readonly actions: number;
  readonly transfers: { readonly keys: number; readonly bytes: number };
  readonly drops: { readonly keys: number; readonly bytes: number };
  readonly repos: readonly RepoSummary[];
  readonly pairs: readonly PairSummary[];
  /** Repositories that held more than their maxsize at some point. */
  readonly overMaxSize: readonly string[];
  /** numcopies at the end, and how many keys have fewer copies (by their holders' own records). */
  readonly numcopies: number;
  readonly belowNumcopies: number;
  readonly samples: readonly FillSample[];
  /** What the static analysis found in the expressions (sim/analysis.ts). */
  readonly expressionProblems: readonly string[];
}

type Pending =
  | { readonly kind: "transfer"; readonly from: number; readonly to: number; readonly key: number }
  | { readonly kind: "drop"; readonly from: number; readonly key: number };

export class SimRecorder implements SimObserver {
  readonly #st: SimState;
  readonly #maxSamples: number;
  readonly #keys: number[] = [];
  readonly #bytes: number[] = [];
  readonly #peak: number[] = [];
  readonly #pairs = new Map<string, { keys: number; bytes: number }>();
  /** "repo key" of each copy dropped in the run, and how often one came back. */
  readonly #dropped = new Set<string>();
  readonly #returned = new Map<string, number>();
  readonly #samples: FillSample[] = [];
  readonly #steps: { stable: boolean; steps: number }[] = [];
  #stride = 1;
  #actions = 0;
  #transfers = { keys: 0, bytes: 0 };
  #drops = { keys: 0, bytes: 0 };
  #bucket = { transfers: 0, drops: 0 };
  /** The last action, applied once the sim has not taken it back. */
  #pending: Pending | null = null;
  /** Called with the number of actions now and then (progress on a terminal). */
  readonly #progress: ((actions: number) => void) | undefined;

  constructor(
    state: SimState,
    opts: { readonly maxSamples?: number; readonly progress?: (actions: number) => void } = {},
  ) {
    this.#st = state;
    this.#maxSamples = Math.max(2, opts.maxSamples ?? 400);
    this.#progress = opts.progress;
  }

  transferred(from: number, to: number, key: number): void {
    this.#commit();
    this.#pending = { kind: "transfer", from, to, key };
  }

  dropped(from: number, key: number): void {
    this.#commit();
    this.#pending = { kind: "drop", from, key };
  }

  undo(): void {
    this.#pending = null;
  }

  added(repo: number, key: number): void {
    this.#commit();
    this.#change(repo, key, +1);
  }

  stepped(stable: boolean, steps: number): void {
    this.#commit();
    this.#steps.push({ stable, steps });
  }

  /** The report of everything seen so far, with the analysis's findings. */
  report(expressionProblems: readonly string[] = []): SimReport {
    this.#commit();
    const st = this.#st;
    const samples = [...this.#samples];
    const last = samples[samples.length - 1];
    if (last === undefined || last.action !== this.#actions) {
      samples.push({ action: this.#actions, bytes: [...this.#bytes], ...this.#bucket });
    }
    const repos = st.repos.map((r) => ({
      name: r.name,
      keys: this.#keys[r.id] ?? 0,
      bytes: this.#bytes[r.id] ?? 0,
      peakBytes: this.#peak[r.id] ?? 0,
      maxSize: st.maxSizes.get(r.id),
    }));
    const pairs = [...this.#pairs].map(([k, v]) => {
      const [from, to] = k.split(" ").map((id) => st.repo(Number(id)).name) as [string, string];
      return { from, to, ...v };
    });
    pairs.sort((a, b) => b.bytes - a.bytes || a.from.localeCompare(b.from));
    const lastStep = this.#steps[this.#steps.length - 1];
    return {
      stable: lastStep?.stable,
      why: this.#why(lastStep),
      stepCommands: [...this.#steps],
      actions: this.#actions,
      transfers: { ...this.#transfers },
      drops: { ...this.#drops },
      repos,
      pairs,
      overMaxSize: repos
        .filter((r) => r.maxSize !== undefined && r.peakBytes > r.maxSize)
        .map((r) => r.name),
      numcopies: st.numcopies,
      belowNumcopies: this.#belowNumcopies(),
      samples,
      expressionProblems,
    };
  }

  #why(lastStep: { stable: boolean; steps: number } | undefined): string {
    if (lastStep === undefined) return "no step command ran";
    if (lastStep.stable) {
      return `it stabilized after ${lastStep.steps} steps: no repository wants to get, send or drop anything more`;
    }
    let worst: [string, number] | undefined;
    for (const e of this.#returned) if (worst === undefined || e[1] > worst[1]) worst = e;
    if (worst === undefined) {
      return `it did not stabilize within ${lastStep.steps} steps, and nothing came back after a drop: it needs more steps`;
    }
    const [where, times] = worst;
    const [repo, key] = where.split(" ").map(Number) as [number, number];
    return (
      `it did not stabilize within ${lastStep.steps} steps: ${this.#returned.size} ` +
      `${this.#returned.size === 1 ? "copy was" : "copies were"} dropped and then got again ` +
      `(preferred content that changes its mind), e.g. ${this.#fileOf(key)} in ` +
      `${this.#st.repo(repo).name}, back ${times} ${times === 1 ? "time" : "times"}`
    );
  }

  /** Keys of the sim's files held by fewer than numcopies repositories. */
  #belowNumcopies(): number {
    const st = this.#st;
    const keys = new Set(st.files.values());
    let below = 0;
    for (const k of keys) {
      let copies = 0;
      for (const r of st.repos) if (st.has(r.id, r.id, k)) copies++;
      if (copies < st.numcopies) below++;
    }
    return below;
  }

  #fileOf(key: number): string {
    for (const [name, k] of this.#st.files) if (k === key) return name;
    return this.#st.keyTexts[key] ?? `key ${key}`;
  }

  #change(repo: number, key: number, sign: 1 | -1): number {
    const size = this.#st.keySizes[key] ?? 0;
    this.#keys[repo] = (this.#keys[repo] ?? 0) + sign;
    const bytes = (this.#bytes[repo] ?? 0) + sign * size;
    this.#bytes[repo] = bytes;
    if (bytes > (this.#peak[repo] ?? 0)) this.#peak[repo] = bytes;
    return size;
  }

  #commit(): void {
    const p = this.#pending;
    if (p === null) return;
    this.#pending = null;
    if (this.#samples.length === 0) {
      this.#samples.push({ action: 0, bytes: [...this.#bytes], transfers: 0, drops: 0 });
    }
    if (p.kind === "transfer") {
      const size = this.#change(p.to, p.key, +1);
      this.#transfers.keys += 1;
      this.#transfers.bytes += size;
      this.#bucket.transfers += 1;
      const pair = `${p.from} ${p.to}`;
      const sum = this.#pairs.get(pair) ?? { keys: 0, bytes: 0 };
      sum.keys += 1;
      sum.bytes += size;
      this.#pairs.set(pair, sum);
      const copy = `${p.to} ${p.key}`;
      if (this.#dropped.has(copy)) this.#returned.set(copy, (this.#returned.get(copy) ?? 0) + 1);
    } else {
      const size = this.#change(p.from, p.key, -1);
      this.#drops.keys += 1;
      this.#drops.bytes += size;
      this.#bucket.drops += 1;
      this.#dropped.add(`${p.from} ${p.key}`);
    }
    this.#actions += 1;
    if (this.#actions % this.#stride === 0) this.#sample();
    if (this.#actions % 65536 === 0) this.#progress?.(this.#actions);
  }

  #sample(): void {
    this.#samples.push({ action: this.#actions, bytes: [...this.#bytes], ...this.#bucket });
    this.#bucket = { transfers: 0, drops: 0 };
    if (this.#samples.length <= 2 * this.#maxSamples) return;
    // Every other sample goes; what it counted goes to the one after it.
    const kept: FillSample[] = [];
    let carry = { transfers: 0, drops: 0 };
    this.#samples.forEach((s, i) => {
      if (i % 2 === 1 && i !== this.#samples.length - 1) {
        carry = { transfers: carry.transfers + s.transfers, drops: carry.drops + s.drops };
        return;
      }
      s.transfers += carry.transfers;
      s.drops += carry.drops;
      carry = { transfers: 0, drops: 0 };
      kept.push(s);
    });
    this.#samples.splice(0, this.#samples.length, ...kept);
    this.#stride *= 2;
  }
}
