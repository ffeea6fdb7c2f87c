/**
 * Writing sim commands back as a sim file, as git-annex 10.20250416's
 * `generateSimFile` does (what `git annex sim show` prints): each command
 * as its words joined by one space, one line each; sizes in SI units with
 * every digit and no space ("1.5MB").
 */
import { isHaskellSpace, preciseSize, STORAGE_UNITS } from "../sizes/index.js";
import type { SimCommand } from "./commands.js";
import { formatConnections, formatSimAction } from "./parse-chains.js";

/**
 * A size as a sim file holds it: `preciseSize storageUnits True` with its
 * white space taken out.
 *
 * @example
 * formatSimSize(1500n) // "1.5kB"
 * formatSimSize(0n)    // "0.0B"
 */
export function formatSimSize(bytes: bigint): string {
  return [...preciseSize(bytes, { units: STORAGE_UNITS, short: true })]
    .filter((c) => !isHaskellSpace(c))
    .join("");
}

/** The words of one command (a comment is its line as one word; a blank line one empty word). */
export function simCommandWords(c: SimCommand): string[] {
  switch (c.kind) {
    case "init":
    case "initremote":
      return [c.kind, c.repo];
    case "use":
      return ["use", c.repo, c.what];
    case "connect":
    case "disconnect":
      return [c.kind, ...formatConnections(c.connections)];
    case "addtree":
    case "wanted":
    case "required":
      return [c.kind, c.repo, c.expression];
    case "add":
      return ["add", c.file, formatSimSize(c.size), ...c.repos];
    case "addmulti":
      return [
        "addmulti",
        c.count.toString(),
        c.suffix,
        formatSimSize(c.minSize),
        formatSimSize(c.maxSize),
        ...c.repos,
      ];
    case "step":
    case "stepstable":
      return [c.kind, c.steps.toString()];
    case "action":
      return formatSimAction(c.action);
    case "seed":
      return ["seed", c.seed.toString()];
    case "present":
    case "notpresent":
      return [c.kind, c.repo, c.file];
    case "numcopies":
    case "mincopies":
      return [c.kind, c.copies.toString()];
    case "trustlevel":
      return ["trustlevel", c.repo, c.level];
    case "group":
    case "ungroup":
      return [c.kind, c.repo, c.group];
    case "metadata":
      return ["metadata", c.file, c.change];
    case "groupwanted":
      return ["groupwanted", c.group, c.expression];
    case "randomwanted":
    case "randomrequired":
      return [c.kind, c.repo, ...c.terms];
    case "randomgroupwanted":
      return ["randomgroupwanted", c.group, ...c.terms];
    case "maxsize":
      return ["maxsize", c.repo, formatSimSize(c.size)];
    case "rebalance":
      return ["rebalance", c.on ? "on" : "off"];
    case "clusternode":
      return ["clusternode", c.node, c.repo];
    case "visit":
      return ["visit", c.repo, ...c.command];
    case "comment":
      return [c.text];
    case "blank":
      return [""];
  }
}

/**
 * One command as its line, without the newline.
 *
 * @example
 * formatSimCommand({ kind: "maxsize", repo: "foo", size: 10_000_000n }) // "maxsize foo 10.0MB"
 */
export function formatSimCommand(c: SimCommand): string {
  return simCommandWords(c).join(" ");
}

/**
 * A sim file of the commands, every line ended by "\n" (git-annex's
 * `unlines`). `parseSimFile` reads it back to the same commands when they
 * were read from a sim file and their sizes are under 2^50 bytes; a larger
 * size is printed with a Double's digits, as git-annex prints it, and may
 * read back a few bytes off.
 */
export function formatSimFile(commands: readonly SimCommand[]): string {
  return commands.map((c) => `${formatSimCommand(c)}\n`).join("");
}
