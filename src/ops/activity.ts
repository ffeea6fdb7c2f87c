/**
 * What the dashboard shows of the recent past: requests per second over
 * the last minutes, and each node's latest failures. Fed by the same
 * observers as the metrics; bounded (a ring of seconds, a few failures per
 * node), so a long-running server keeps no more than a page's worth.
 */
import {
  isFailure,
  type NodeLabel,
  type NodeObserver,
  type NodeOperation,
  type NodeOutcome,
} from "../proxy/index.js";
import type { HttpObserver, RequestOutcome } from "../server/index.js";

/** Seconds of request rates kept. */
export const RATE_SECONDS = 300;
/** Failures kept per node. */
export const ERRORS_PER_NODE = 8;

export interface NodeFailure {
  /** When (ms since the epoch). */
  readonly at: number;
  readonly operation: NodeOperation;
  readonly outcome: NodeOutcome;
}

export class Activity implements HttpObserver, NodeObserver {
  /** Requests ended in each of the last RATE_SECONDS seconds, by the second they ended in. */
  readonly #counts = new Float64Array(RATE_SECONDS);
  readonly #seconds = new Float64Array(RATE_SECONDS);
  readonly #failures = new Map<string, NodeFailure[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  requestEnded(_o: RequestOutcome): void {
    const second = Math.floor(this.#now() / 1000);
    const i = second % RATE_SECONDS;
    if (this.#seconds[i] !== second) {
      this.#seconds[i] = second;
      this.#counts[i] = 0;
    }
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
  }

  nodeCall(node: NodeLabel, op: NodeOperation, outcome: NodeOutcome, _seconds: number): void {
    if (!isFailure(outcome)) return;
    const list = this.#failures.get(node.uuid) ?? [];
    list.push({ at: this.#now(), operation: op, outcome });
    if (list.length > ERRORS_PER_NODE) list.shift();
    this.#failures.set(node.uuid, list);
  }

  nodeBytes(): void {}
  fanOut(): void {}

  /** Requests per second for each of the last `n` whole seconds, oldest first. */
  rates(n = 120): { readonly second: number; readonly requests: number }[] {
    const now = Math.floor(this.#now() / 1000);
    const out: { second: number; requests: number }[] = [];
    for (let s = now - Math.min(n, RATE_SECONDS - 1); s < now; s++) {
      const i = s % RATE_SECONDS;
      out.push({ second: s, requests: this.#seconds[i] === s ? (this.#counts[i] ?? 0) : 0 });
    }
    return out;
  }

  /** A node's latest failures, newest last. */
  failures(uuid: string): readonly NodeFailure[] {
    return this.#failures.get(uuid) ?? [];
  }
}

/** Tells each of several observers (the metrics and the dashboard's activity). */
export class AllObservers implements HttpObserver, NodeObserver {
  readonly #all: readonly (HttpObserver & NodeObserver)[];

  constructor(all: readonly (HttpObserver & NodeObserver)[]) {
    this.#all = all;
  }

  /** Each observer in turn; one that fails neither stops the others nor the request. */
  #each(f: (x: HttpObserver & NodeObserver) => void): void {
    for (const x of this.#all) {
      try {
        f(x);
      } catch {
        // metrics are not worth a failed request
      }
    }
  }

  requestEnded(o: RequestOutcome): void {
    this.#each((x) => x.requestEnded(o));
  }
  nodeCall(node: NodeLabel, op: NodeOperation, outcome: NodeOutcome, seconds: number): void {
    this.#each((x) => x.nodeCall(node, op, outcome, seconds));
  }
  nodeBytes(node: NodeLabel, direction: "in" | "out", bytes: number): void {
    this.#each((x) => x.nodeBytes(node, direction, bytes));
  }
  fanOut(cluster: string, seconds: number, receivers: number, stored: number): void {
    this.#each((x) => x.fanOut(cluster, seconds, receivers, stored));
  }
}
