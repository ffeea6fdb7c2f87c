/**
 * Whether each repository behind the gateway answers, for the readiness
 * check: a probe is one checkpresent of a key nobody stores (it reaches an
 * S3 bucket, an ssh login, a node's HTTP server, a directory), bounded in
 * time, its answer kept for a while so that a readiness check polled
 * every second costs the nodes nothing much, and at most one probe per
 * node in flight however many checks ask (a probe that timed out is
 * still in flight until its call to the node ends). Probes are node calls
 * like any other: they count in the node metrics.
 */
import { parseKey } from "../keys/index.js";
import type { Peer } from "../peers/index.js";
import { errorText } from "../util/index.js";

/** The empty file's key: asked about, never stored by the probe. */
const PROBE_KEY = parseKey(
  "SHA256E-s0--e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
);

export interface NodeReachability {
  readonly uuid: string;
  readonly name: string;
  readonly reachable: boolean;
  /** Why not, in a line (no stack). */
  readonly error?: string;
  /** When the answer was had (ms since the epoch). */
  readonly checkedAt: number;
  /** How long the probe took (ms). */
  readonly ms: number;
}

export interface NodeProbesOptions {
  /** How long an answer is reused (ms, default 10 s). */
  readonly cacheMs?: number;
  /** How long a probe may take before the node counts as unreachable (ms, default 5 s). */
  readonly timeoutMs?: number;
}

interface Entry {
  answer: NodeReachability | null;
  probing: Promise<NodeReachability> | null;
  /** The node call of the last probe, until it settles (it may outlive its timeout). */
  call: Promise<unknown> | null;
}

export class NodeProbes {
  readonly #entries = new Map<string, Entry>();
  readonly #cacheMs: number;
  readonly #timeoutMs: number;

  constructor(opts: NodeProbesOptions = {}) {
    this.#cacheMs = opts.cacheMs ?? 10_000;
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
  }

  /** The node's reachability: a fresh enough answer, else a probe (shared with concurrent askers). */
  reachability(node: { name: string; uuid: string }, peer: Peer): Promise<NodeReachability> {
    let entry = this.#entries.get(node.uuid);
    if (entry === undefined) {
      entry = { answer: null, probing: null, call: null };
      this.#entries.set(node.uuid, entry);
    }
    const held = entry.answer;
    if (held !== null && Date.now() - held.checkedAt < this.#cacheMs) return Promise.resolve(held);
    // A probe that timed out may still hold a request to the node (until
    // the node's own stall timeout): no second one beside it.
    if (held !== null && entry.call !== null && entry.probing === null) {
      return Promise.resolve(held);
    }
    const e = entry;
    e.probing ??= this.#probe(node, peer, e).then((answer) => {
      e.answer = answer;
      e.probing = null;
      return answer;
    });
    return e.probing;
  }

  /** Forget nodes no longer behind the gateway. */
  retainOnly(uuids: ReadonlySet<string>): void {
    for (const uuid of this.#entries.keys()) if (!uuids.has(uuid)) this.#entries.delete(uuid);
  }

  async #probe(
    node: { name: string; uuid: string },
    peer: Peer,
    entry: Entry,
  ): Promise<NodeReachability> {
    const started = performance.now();
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    // Bounded even if a peer does not heed the signal.
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no answer in time")), this.#timeoutMs);
    });
    const done = (reachable: boolean, error?: string): NodeReachability => ({
      uuid: node.uuid,
      name: node.name,
      reachable,
      ...(error !== undefined ? { error } : {}),
      checkedAt: Date.now(),
      ms: Math.round(performance.now() - started),
    });
    const call = peer.checkPresent(PROBE_KEY, { signal });
    entry.call = call;
    const settled = () => {
      if (entry.call === call) entry.call = null;
    };
    call.then(settled, settled);
    try {
      await Promise.race([call, timedOut]);
      return done(true);
    } catch (e) {
      return done(false, errorText(e));
    } finally {
      clearTimeout(timer);
    }
  }
}
