/**
 * The gateway's Prometheus metrics, on prom-client: what the server and
 * the proxy layer tell as it happens (requests, node calls, bytes, fan-out)
 * and what is read when scraped (transfer slots, locks, live repository
 * sizes, the branch's commit lag), with Node's own process metrics and
 * event-loop lag. One registry per server, so two in one process (tests)
 * count apart.
 *
 * Every label value comes from a closed set or from the operator's own
 * configuration (remote names, UUIDs), never from a client's request.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import {
  isFailure,
  type NodeLabel,
  type NodeObserver,
  type NodeOperation,
  type NodeOutcome,
} from "../proxy/index.js";
import type { HttpObserver, RequestOutcome, ServerStats } from "../server/index.js";
import type { OpsSources } from "./sources.js";

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

export class GatewayMetrics implements HttpObserver, NodeObserver {
  readonly registry = new Registry();
  readonly #requests: Counter<"endpoint" | "version" | "status" | "target">;
  readonly #requestSeconds: Histogram<"endpoint">;
  readonly #wireBytes: Counter<"direction">;
  readonly #contentBytes: Counter<"direction">;
  readonly #nodeCalls: Counter<"node" | "uuid" | "operation" | "outcome">;
  readonly #nodeSeconds: Histogram<"node" | "uuid" | "operation">;
  readonly #nodeErrors: Counter<"node" | "uuid" | "kind">;
  readonly #nodeBytes: Counter<"node" | "uuid" | "direction">;
  readonly #fanOutSeconds: Histogram<"cluster">;
  readonly #fanOutNodes: Counter<"cluster" | "outcome">;
  readonly #refreshSizes: () => Promise<void>;
  readonly #setServerGauges: (s: ServerStats) => void;
  readonly #sources: OpsSources;
  /** Each request's series, by "endpoint version status target" (closed sets: a few dozen). */
  readonly #requestSeries = new Map<
    string,
    { count: ReturnType<Counter["labels"]>; seconds: ReturnType<Histogram["labels"]> }
  >();
  readonly #wireIn: ReturnType<Counter["labels"]>;
  readonly #wireOut: ReturnType<Counter["labels"]>;

  constructor(sources: OpsSources) {
    this.#sources = sources;
    const registers = [this.registry];
    this.#requests = new Counter({
      name: "annexgate_http_requests_total",
      help: "p2phttp requests ended, by endpoint, API version, status (0: no answer) and what they reached",
      labelNames: ["endpoint", "version", "status", "target"],
      registers,
    });
    this.#requestSeconds = new Histogram({
      name: "annexgate_http_request_duration_seconds",
      help: "How long requests took, from their first byte to their end",
      labelNames: ["endpoint"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#wireBytes = new Counter({
      name: "annexgate_http_bytes_total",
      help: "Bytes read from (in) and written to (out) clients' connections, headers included",
      labelNames: ["direction"],
      registers,
    });
    this.#contentBytes = new Counter({
      name: "annexgate_content_bytes_total",
      help: "Content of finished transfers: stored from uploads (in), sent by downloads (out)",
      labelNames: ["direction"],
      registers,
    });
    this.#nodeCalls = new Counter({
      name: "annexgate_node_requests_total",
      help: "Calls to repositories behind the gateway, by operation and outcome",
      labelNames: ["node", "uuid", "operation", "outcome"],
      registers,
    });
    this.#nodeSeconds = new Histogram({
      name: "annexgate_node_request_duration_seconds",
      help: "How long calls to repositories behind the gateway took (a download: until its data ended)",
      labelNames: ["node", "uuid", "operation"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#nodeErrors = new Counter({
      name: "annexgate_node_errors_total",
      help: "Failed calls to repositories behind the gateway, by kind (unreachable, refused, protocol, verification_failed, error)",
      labelNames: ["node", "uuid", "kind"],
      registers,
    });
    this.#nodeBytes = new Counter({
      name: "annexgate_node_bytes_total",
      help: "Content moved to (out: uploads stored) and from (in: downloads finished) repositories behind the gateway",
      labelNames: ["node", "uuid", "direction"],
      registers,
    });
    this.#fanOutSeconds = new Histogram({
      name: "annexgate_cluster_fanout_duration_seconds",
      help: "How long an upload to a cluster took to reach all the nodes it went to",
      labelNames: ["cluster"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#fanOutNodes = new Counter({
      name: "annexgate_cluster_fanout_node_stores_total",
      help: "Per node an upload to a cluster went to: stored, or not",
      labelNames: ["cluster", "outcome"],
      registers,
    });
    this.#wireIn = this.#wireBytes.labels("in");
    this.#wireOut = this.#wireBytes.labels("out");
    this.#setServerGauges = serverGauges(this.registry);
    this.#refreshSizes = repositoryGauges(this.registry, sources);
    collectDefaultMetrics({ register: this.registry });
  }

  requestEnded(o: RequestOutcome): void {
    // Once per request: the labelled series are looked up by one string
    // key, not by prom-client's hashing of a label object each time.
    const key = `${o.endpoint} ${o.version} ${o.status} ${o.target}`;
    let series = this.#requestSeries.get(key);
    if (series === undefined) {
      series = {
        count: this.#requests.labels(o.endpoint, o.version, String(o.status), o.target),
        seconds: this.#requestSeconds.labels(o.endpoint),
      };
      this.#requestSeries.set(key, series);
    }
    series.count.inc();
    series.seconds.observe(o.seconds);
    if (o.bytesIn > 0) this.#wireIn.inc(o.bytesIn);
    if (o.bytesOut > 0) this.#wireOut.inc(o.bytesOut);
    if (o.stored > 0) this.#contentBytes.inc({ direction: "in" }, o.stored);
    if (o.sent > 0) this.#contentBytes.inc({ direction: "out" }, o.sent);
  }

  nodeCall(node: NodeLabel, op: NodeOperation, outcome: NodeOutcome, seconds: number): void {
    this.#nodeCalls.inc({ node: node.name, uuid: node.uuid, operation: op, outcome });
    this.#nodeSeconds.observe({ node: node.name, uuid: node.uuid, operation: op }, seconds);
    if (isFailure(outcome)) {
      this.#nodeErrors.inc({ node: node.name, uuid: node.uuid, kind: outcome });
    }
  }

  nodeBytes(node: NodeLabel, direction: "in" | "out", bytes: number): void {
    if (bytes > 0) this.#nodeBytes.inc({ node: node.name, uuid: node.uuid, direction }, bytes);
  }

  fanOut(cluster: string, seconds: number, receivers: number, stored: number): void {
    this.#fanOutSeconds.observe({ cluster }, seconds);
    if (stored > 0) this.#fanOutNodes.inc({ cluster, outcome: "stored" }, stored);
    if (receivers > stored)
      this.#fanOutNodes.inc({ cluster, outcome: "failed" }, receivers - stored);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    this.#setServerGauges(this.#sources.stats());
    await this.#refreshSizes();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * What the server holds, set from one reading of its stats before each
 * scrape (a reading lists the process's open files: once, not per gauge).
 */
function serverGauges(registry: Registry): (s: ServerStats) => void {
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });
  const set: [Gauge, (s: ServerStats) => number][] = [
    [gauge("annexgate_requests_in_progress", "Requests being served now"), (s) => s.requests],
    [
      gauge(
        "annexgate_transfers_in_flight",
        "Transfers (downloads and uploads) holding a --jobs slot now",
      ),
      (s) => s.transferSlots,
    ],
    [
      gauge("annexgate_transfers_waiting", "Transfers waiting for a --jobs slot"),
      (s) => s.queuedTransfers,
    ],
    [
      gauge("annexgate_transfer_slots", "Transfer slots there are (--jobs)"),
      (s) => s.transferSlotsTotal,
    ],
    [
      gauge(
        "annexgate_content_locks_held",
        "Content locks held for clients (lockcontent), kept alive or not",
      ),
      (s) => s.heldLocks,
    ],
    [
      gauge(
        "annexgate_object_locks_held",
        "Objects locked in the repositories served here (content being sent, stored or dropped)",
      ),
      (s) => s.contentLocks,
    ],
  ];
  return (s) => {
    for (const [g, read] of set) g.set(read(s));
  };
}

/**
 * Each repository's live size and maxsize, and each served branch's commit
 * lag. The sizes come from one overview per gateway, so they are filled by
 * the returned function before each scrape (prom-client collects every
 * gauge at once).
 */
function repositoryGauges(registry: Registry, sources: OpsSources): () => Promise<void> {
  const labelNames = ["gateway", "node", "uuid"] as const;
  const size = new Gauge({
    name: "annexgate_repository_size_bytes",
    help: "Bytes each repository behind a gateway holds, stores in flight included",
    labelNames,
    registers: [registry],
  });
  const max = new Gauge({
    name: "annexgate_repository_maxsize_bytes",
    help: "maxsize of each repository behind a gateway that has one",
    labelNames,
    registers: [registry],
  });
  const storing = new Gauge({
    name: "annexgate_repository_storing_bytes",
    help: "Bytes being stored into each repository behind a gateway now",
    labelNames,
    registers: [registry],
  });
  new Gauge({
    name: "annexgate_branch_uncommitted_seconds",
    help: "How long the oldest change to each served repository's git-annex branch has waited for its commit",
    labelNames: ["repository"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { repo } of sources.served()) {
        this.set({ repository: repo.uuid }, repo.branch.uncommittedSeconds());
      }
    },
  });
  return async () => {
    const overviews = await Promise.all(
      sources.served().flatMap(({ gateway }) => (gateway ? [gateway.overview()] : [])),
    );
    size.reset();
    max.reset();
    storing.reset();
    for (const o of overviews) {
      for (const n of o.nodes) {
        const l = { gateway: o.uuid, node: n.name, uuid: n.uuid };
        size.set(l, Number(n.size));
        if (n.maxSize !== null) max.set(l, Number(n.maxSize));
        storing.set(l, Number(n.storing));
      }
    }
  };
}
