/**
 * Reading annexgate's /metrics in tests: Prometheus's own checker
 * (promtool, installed by scripts/setup-promtool.sh) judges the format;
 * a small reader of the samples lets a test compare values.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Passes the exposition text to `promtool check metrics`. A text it cannot
 * parse fails; of its lint findings, only those about annexgate's own
 * metrics do (prom-client's standard Node metrics keep names promtool
 * lints, such as gauges ending in _total).
 */
export async function checkWithPromtool(text: string): Promise<void> {
  const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    out += d;
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c ?? -1));
    child.stdin.end(text);
  });
  assert.ok(code === 0 || code === 3, `promtool exited ${code}: ${out}`);
  assert.doesNotMatch(out, /error while linting|parsing error/, out);
  const ours = out.split("\n").filter((l) => l.startsWith("annexgate_"));
  assert.deepEqual(ours, [], `promtool's findings on annexgate's metrics:\n${out}`);
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of an exposition text (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>>,
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
