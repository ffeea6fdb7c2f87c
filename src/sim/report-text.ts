/**
 * A sim report as text for a terminal: the verdict and why, what moved,
 * then one row per repository (keys, size, maxsize, peak) and one per
 * pair of repositories that content moved between.
 */
import { roughSize } from "../sizes/index.js";
import type { SimReport } from "./report.js";

const size = (bytes: number): string => roughSize(BigInt(Math.round(bytes)), { short: true });

function percent(part: number, whole: number): string {
  return `${Math.round((100 * part) / whole)}%`;
}

/** Columns padded to their widest cell; the first left-aligned, the rest right. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

export function formatReportText(r: SimReport): string {
  const verdict = r.stable === undefined ? "no step ran" : r.stable ? "stable" : "NOT stable";
  const lines = [
    `${verdict}: ${r.why}`,
    `${r.actions} actions: ${r.transfers.keys} transfers (${size(r.transfers.bytes)}), ` +
      `${r.drops.keys} drops (${size(r.drops.bytes)})`,
  ];
  if (r.overMaxSize.length > 0) lines.push(`over their maxsize: ${r.overMaxSize.join(", ")}`);
  for (const p of r.expressionProblems) lines.push(`expression: ${p}`);
  if (r.belowNumcopies > 0) {
    lines.push(`${r.belowNumcopies} keys have fewer than numcopies (${r.numcopies}) copies`);
  }
  lines.push("");
  lines.push(
    ...table([
      ["repository", "keys", "size", "maxsize", "full", "peak"],
      ...r.repos.map((p) => [
        p.name,
        String(p.keys),
        size(p.bytes),
        p.maxSize === undefined ? "-" : size(p.maxSize),
        p.maxSize === undefined || p.maxSize === 0 ? "-" : percent(p.bytes, p.maxSize),
        size(p.peakBytes),
      ]),
    ]),
  );
  if (r.pairs.length > 0) {
    lines.push("");
    lines.push(
      ...table([
        ["moved", "keys", "size"],
        ...r.pairs.map((p) => [`${p.from} -> ${p.to}`, String(p.keys), size(p.bytes)]),
      ]),
    );
  }
  return `${lines.join("\n")}\n`;
}
