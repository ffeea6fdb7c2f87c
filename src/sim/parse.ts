/**
 * Reading sim files and sim commands exactly as git-annex 10.20250416
 * does (Annex/Sim/File.hs): lines split at "\n" only; a line starting
 * with "#" or "--" is a comment and one of nothing but white space is
 * blank; any other line is split into words at Haskell's white space and
 * read by its first word. Each command takes exactly its words; sizes,
 * numbers, trust levels and on/off read as git-annex reads them; a bad
 * line gets git-annex's message.
 */
import { readTrustLevel } from "../branch/index.js";
import {
  BadSizeError,
  DATA_UNITS,
  isHaskellSpace,
  parseSize,
  readWholeInteger,
} from "../sizes/index.js";
import type { Int64, SimCommand } from "./commands.js";
import { SimParseError } from "./errors.js";
import { parseConnections, parseSimAction, unparsable } from "./parse-chains.js";

/** Haskell's `words`: the runs of non-white-space characters. */
export function simWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  for (const c of line) {
    if (isHaskellSpace(c)) {
      if (word !== "") words.push(word);
      word = "";
    } else {
      word += c;
    }
  }
  if (word !== "") words.push(word);
  return words;
}

/** `readSize dataUnits`, or null where git-annex gets Nothing. */
function readSize(text: string): bigint | null {
  try {
    return parseSize(text, DATA_UNITS);
  } catch (e) {
    if (e instanceof BadSizeError) return null;
    throw e;
  }
}

/** `readMaybe :: Maybe Int`: a whole integer, wrapped to 64 bits as GHC's Int reads it. */
function readInt(text: string): Int64 | null {
  const n = readWholeInteger(text);
  return n === null ? null : BigInt.asIntN(64, n);
}

/** git's boolean words (git-annex's `isTrueFalse`): any all-digits-and-dashes word is true. */
export function readTrueFalse(text: string): boolean | null {
  // git-annex lowercases byte by byte, so only ASCII letters change case
  const s = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (s === "yes" || s === "on" || s === "true" || s === "1") return true;
  if (s === "no" || s === "off" || s === "false" || s === "0" || s === "") return false;
  if (/^[0-9-]*$/.test(s)) return true;
  return null;
}

function sizeOr(text: string, message: string): bigint {
  const n = readSize(text);
  if (n === null) throw new SimParseError(`${message} "${text}"`);
  return n;
}

function intOr(text: string, what: string): Int64 {
  const n = readInt(text);
  if (n === null) throw new SimParseError(`Unable to parse ${what} "${text}"`);
  return n;
}

/** Reads the arguments of one command; null when there are too many or too few. */
type Reader = (args: readonly string[]) => SimCommand | null;

/** Exactly n arguments, or null (git-annex then says it cannot parse the command). */
function exactly(n: number, args: readonly string[], read: () => SimCommand): SimCommand | null {
  return args.length === n ? read() : null;
}

/** At least n arguments, or null. */
function atLeast(n: number, args: readonly string[], read: () => SimCommand): SimCommand | null {
  return args.length >= n ? read() : null;
}

const at = (a: readonly string[], i: number): string => a[i] ?? "";

/** Commands whose arguments are names and text taken as written. */
const NAME_READERS: Readonly<Record<string, Reader>> = {
  init: (a) => exactly(1, a, () => ({ kind: "init", repo: at(a, 0) })),
  initremote: (a) => exactly(1, a, () => ({ kind: "initremote", repo: at(a, 0) })),
  use: (a) => atLeast(1, a, () => ({ kind: "use", repo: at(a, 0), what: a.slice(1).join(" ") })),
  addtree: (a) =>
    atLeast(1, a, () => ({ kind: "addtree", repo: at(a, 0), expression: a.slice(1).join(" ") })),
  present: (a) => exactly(2, a, () => ({ kind: "present", repo: at(a, 0), file: at(a, 1) })),
  notpresent: (a) => exactly(2, a, () => ({ kind: "notpresent", repo: at(a, 0), file: at(a, 1) })),
  group: (a) => exactly(2, a, () => ({ kind: "group", repo: at(a, 0), group: at(a, 1) })),
  ungroup: (a) => exactly(2, a, () => ({ kind: "ungroup", repo: at(a, 0), group: at(a, 1) })),
  metadata: (a) => exactly(2, a, () => ({ kind: "metadata", file: at(a, 0), change: at(a, 1) })),
  wanted: (a) =>
    atLeast(1, a, () => ({ kind: "wanted", repo: at(a, 0), expression: a.slice(1).join(" ") })),
  required: (a) =>
    atLeast(1, a, () => ({ kind: "required", repo: at(a, 0), expression: a.slice(1).join(" ") })),
  groupwanted: (a) =>
    atLeast(1, a, () => ({
      kind: "groupwanted",
      group: at(a, 0),
      expression: a.slice(1).join(" "),
    })),
  randomwanted: (a) =>
    atLeast(1, a, () => ({ kind: "randomwanted", repo: at(a, 0), terms: a.slice(1) })),
  randomrequired: (a) =>
    atLeast(1, a, () => ({ kind: "randomrequired", repo: at(a, 0), terms: a.slice(1) })),
  randomgroupwanted: (a) =>
    atLeast(1, a, () => ({ kind: "randomgroupwanted", group: at(a, 0), terms: a.slice(1) })),
  clusternode: (a) =>
    exactly(2, a, () => ({ kind: "clusternode", node: at(a, 0), repo: at(a, 1) })),
  visit: (a) => atLeast(1, a, () => ({ kind: "visit", repo: at(a, 0), command: a.slice(1) })),
  connect: (a) => ({ kind: "connect", connections: parseConnections(a) }),
  disconnect: (a) => ({ kind: "disconnect", connections: parseConnections(a) }),
};

/** Commands with a number, size, trust level or switch to read. */
const VALUE_READERS: Readonly<Record<string, Reader>> = {
  add: (a) =>
    atLeast(2, a, () => ({
      kind: "add",
      file: at(a, 0),
      size: sizeOr(at(a, 1), "Unable to parse file size"),
      repos: a.slice(2),
    })),
  // git-annex reads the sizes before the count, so a bad size is reported first
  addmulti: (a) =>
    atLeast(4, a, () => {
      const minSize = sizeOr(at(a, 2), "Unable to parse file size");
      const maxSize = sizeOr(at(a, 3), "Unable to parse file size");
      const count = intOr(at(a, 0), "number");
      return { kind: "addmulti", count, suffix: at(a, 1), minSize, maxSize, repos: a.slice(4) };
    }),
  step: (a) => exactly(1, a, () => ({ kind: "step", steps: intOr(at(a, 0), "step value") })),
  stepstable: (a) =>
    exactly(1, a, () => ({ kind: "stepstable", steps: intOr(at(a, 0), "step value") })),
  seed: (a) => exactly(1, a, () => ({ kind: "seed", seed: intOr(at(a, 0), "seed value") })),
  numcopies: (a) =>
    exactly(1, a, () => ({ kind: "numcopies", copies: intOr(at(a, 0), "numcopies value") })),
  mincopies: (a) =>
    exactly(1, a, () => ({ kind: "mincopies", copies: intOr(at(a, 0), "mincopies value") })),
  trustlevel: (a) =>
    exactly(2, a, () => {
      const level = readTrustLevel(at(a, 1));
      if (level === null) throw new SimParseError(`Unknown trust level "${at(a, 1)}".`);
      return { kind: "trustlevel", repo: at(a, 0), level };
    }),
  maxsize: (a) =>
    exactly(2, a, () => ({
      kind: "maxsize",
      repo: at(a, 0),
      size: sizeOr(at(a, 1), "Unable to parse maxsize"),
    })),
  rebalance: (a) =>
    exactly(1, a, () => {
      const on = readTrueFalse(at(a, 0));
      if (on === null) throw new SimParseError(`Unable to parse rebalance value "${at(a, 0)}"`);
      return { kind: "rebalance", on };
    }),
};

/**
 * Reads one command from its words, as `git annex sim WORD…` takes them
 * (git-annex's `parseSimCommand`). Comments and blank lines are no
 * commands here: they exist only in files.
 *
 * @throws SimParseError with git-annex's message.
 * @example
 * parseSimWords(["step", "10"]) // { kind: "step", steps: 10n }
 */
export function parseSimWords(words: readonly string[]): SimCommand {
  const [first, ...args] = words;
  if (first === "action") return { kind: "action", action: parseSimAction(words) };
  const reader =
    first === undefined
      ? undefined
      : Object.hasOwn(NAME_READERS, first)
        ? NAME_READERS[first]
        : Object.hasOwn(VALUE_READERS, first)
          ? VALUE_READERS[first]
          : undefined;
  const command = reader?.(args) ?? null;
  if (command === null) throw unparsable(words);
  return command;
}

/**
 * Reads one line of a sim file (git-annex's `parseSimFileLine`). A
 * comment must start the line: " # x" is read as a command, and fails.
 *
 * @throws SimParseError with git-annex's message (`data.line` null).
 * @example
 * parseSimLine("-- a comment") // { kind: "comment", text: "-- a comment" }
 * parseSimLine("\t")           // { kind: "blank" }
 */
export function parseSimLine(line: string): SimCommand {
  if (line.startsWith("#") || line.startsWith("--")) return { kind: "comment", text: line };
  const words = simWords(line);
  if (words.length === 0) return { kind: "blank" };
  return parseSimWords(words);
}

/** Haskell's `lines`: split at "\n"; a final "\n" ends the last line rather than starting one. */
export function simLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (text.endsWith("\n")) lines.pop();
  return lines;
}

/**
 * Reads a whole sim file (git-annex's `parseSimFile`): every line, or the
 * first bad line's error.
 *
 * @throws SimParseError with git-annex's message and `data.line`, the
 *   1-based number of the first line that does not parse.
 */
export function parseSimFile(text: string): SimCommand[] {
  return simLines(text).map((line, i) => {
    try {
      return parseSimLine(line);
    } catch (e) {
      if (e instanceof SimParseError) throw e.atLine(i + 1);
      throw e;
    }
  });
}
