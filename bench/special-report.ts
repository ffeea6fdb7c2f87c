/**
 * bench/special.ts's rows and results, and the report it prints: per
 * remote, annexgate beside stock with their ratio.
 */
import {
  fixed,
  formatSize,
  MiB,
  printTable,
  ratio,
  type ServerKind,
  SMALL_SIZE,
} from "./common.js";

/**
 * One special remote to measure; a row is one line. `fields` are stock
 * `initremote` fields besides the type's own (directory=, or the S3
 * server's host, port, bucket …); a field named here wins over those.
 */
export interface RemoteRow {
  /** The remote's name on the gateway (the client sees origin-NAME). */
  readonly name: string;
  /** What the report calls it. */
  readonly label: string;
  readonly type: "directory" | "S3";
  readonly fields: readonly string[];
}

/** What one server did with one remote; undefined where a step failed. */
export interface RemoteResult {
  putMiBs?: number;
  getMiBs?: number;
  resumeSeconds?: number;
  /** Bytes read from the remote by the resumed get (S3: sent by S3; directory: read by the gateway). */
  resumeRemoteBytes?: number;
  putFilesPerS?: number;
  getFilesPerS?: number;
  peakRssMiB?: number;
  peakTempBytes?: number;
  errors: string[];
}

/** The sizes and settings every server is measured with. */
export interface ReportInputs {
  readonly bigSize: number;
  readonly nSmall: number;
  readonly jobs: number;
  readonly rows: readonly RemoteRow[];
}

type Measure = (r: RemoteResult | undefined) => number | undefined;

function remoteTable(
  inputs: ReportInputs,
  row: RemoteRow,
  a: RemoteResult | undefined,
  s: RemoteResult | undefined,
): void {
  const big = formatSize(inputs.bigSize);
  const small = `${inputs.nSmall} x ${formatSize(SMALL_SIZE)} -J8`;
  const line = (name: string, f: Measure, digits = 1) => [
    name,
    fixed(f(a), digits),
    fixed(f(s), digits),
    ratio(f(a), f(s)),
  ];
  const mib = (n: number | undefined) => (n === undefined ? undefined : n / MiB);
  // S3: counted on the wire. A directory has no wire, so what the gateway's
  // processes read(2) stands for it (stock's includes re-reading its temp file).
  const remoteRead = row.type === "S3" ? "bytes S3 sent" : "bytes the gateway read(2)";
  console.log(
    `\n-- ${row.label} (${row.type}${row.fields.length ? `, ${row.fields.join(" ")}` : ""}) --`,
  );
  printTable(
    ["measure", "annexgate", "stock", "annexgate/stock"],
    [
      line(`put ${big} (MiB/s, higher is better)`, (r) => r?.putMiBs),
      line(`get ${big} (MiB/s, higher is better)`, (r) => r?.getMiBs),
      line("resumed get of the last 10 % (s, lower is better)", (r) => r?.resumeSeconds, 2),
      line(`resumed get: ${remoteRead} (MiB)`, (r) => mib(r?.resumeRemoteBytes)),
      line(`put ${small} (files/s)`, (r) => r?.putFilesPerS),
      line(`get ${small} (files/s)`, (r) => r?.getFilesPerS),
      line("gateway peak RSS, process tree (MiB)", (r) => r?.peakRssMiB),
      line("gateway peak temp disk, annex/tmp + othertmp (MiB)", (r) => mib(r?.peakTempBytes)),
    ],
  );
}

/** Prints one table per remote, then every error. */
export function printSpecialReport(
  inputs: ReportInputs,
  results: ReadonlyMap<ServerKind, ReadonlyMap<string, RemoteResult>>,
): void {
  console.log(
    `\n== special remotes behind the gateway: stock client over annex+http, big file ${formatSize(inputs.bigSize)}, ` +
      `${inputs.nSmall} x ${formatSize(SMALL_SIZE)} files with -J8, server --jobs ${inputs.jobs}; ` +
      "S3 is s3rver on loopback ==",
  );
  for (const row of inputs.rows) {
    remoteTable(
      inputs,
      row,
      results.get("annexgate")?.get(row.name),
      results.get("stock")?.get(row.name),
    );
  }
  for (const [kind, byRemote] of results) {
    for (const [name, r] of byRemote)
      for (const e of r.errors) console.log(`${kind} ${name} error: ${e}`);
  }
}
