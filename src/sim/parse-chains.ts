/**
 * The two parts of the sim language that chain: connections
 * (`a -> b <-> c`) and actions (`action a pull b while action …`), read
 * from words and written back to words as git-annex 10.20250416 does
 * (Annex/Sim/File.hs).
 */
import {
  type Connections,
  REMOTE_ACTION_KINDS,
  type RemoteActionKind,
  type SimAction,
} from "./commands.js";
import { SimParseError } from "./errors.js";

/** git-annex's error for words that are no command. */
export function unparsable(words: readonly string[]): SimParseError {
  return new SimParseError(`Unable to parse sim command: "${words.join(" ")}"`);
}

function badConnect(reversedRest: readonly string[]): SimParseError {
  // git-annex reads the chain from its end and quotes what is left in that
  // reversed order ("connect a b c" is bad near "c b a").
  return new SimParseError(`Bad connect syntax near "${reversedRest.join(" ")}"`);
}

/** The last link of a chain, from its reversed words `right op left …`. */
function lastLink(rev: readonly string[]): Connections | null {
  const [right, op, left] = rev;
  if (right === undefined || left === undefined) return null;
  if (op === "->") return { kind: "->", repo: left, remote: right };
  if (op === "<-") return { kind: "<-", remote: left, repo: right };
  if (op === "<->") return { kind: "<->", repo1: left, repo2: right };
  return null;
}

/**
 * Reads the words after `connect`/`disconnect`.
 *
 * @throws SimParseError "Bad connect syntax near …"
 * @example
 * parseConnections(["a", "->", "b"]) // { kind: "->", repo: "a", remote: "b" }
 */
export function parseConnections(words: readonly string[]): Connections {
  const rev = [...words].reverse();
  let c = lastLink(rev);
  if (c === null) throw badConnect(rev);
  let i = 3;
  while (i < rev.length) {
    const op = rev[i];
    const name = rev[i + 1];
    if (name === undefined) throw badConnect(rev.slice(i));
    if (op === "->") c = { kind: "=>", repo: name, next: c };
    else if (op === "<-") c = { kind: "<=", remote: name, next: c };
    else if (op === "<->") c = { kind: "<=>", repo: name, next: c };
    else throw badConnect(rev.slice(i));
    i += 2;
  }
  return c;
}

/** The words of a connection chain, as `connect` takes them. */
export function formatConnections(c: Connections): string[] {
  switch (c.kind) {
    case "->":
      return [c.repo, "->", c.remote];
    case "<-":
      return [c.remote, "<-", c.repo];
    case "<->":
      return [c.repo1, "<->", c.repo2];
    case "=>":
      return [c.repo, "->", ...formatConnections(c.next)];
    case "<=":
      return [c.remote, "<-", ...formatConnections(c.next)];
    case "<=>":
      return [c.repo, "<->", ...formatConnections(c.next)];
  }
}

function isRemoteActionKind(word: string | undefined): word is RemoteActionKind {
  return (REMOTE_ACTION_KINDS as readonly (string | undefined)[]).includes(word);
}

/**
 * Reads `action REPO WHAT [REMOTE] [while action …]` from its words,
 * "action" included.
 *
 * @throws SimParseError "Unable to parse sim command: …", quoting the
 *   whole action, or only what follows a good action when that is wrong.
 */
export function parseSimAction(words: readonly string[]): SimAction {
  const [action, repo, what, remote] = words;
  if (action !== "action" || repo === undefined) throw unparsable(words);
  let first: SimAction;
  let rest: readonly string[];
  if (what === "dropunwantedfrom" && remote !== undefined) {
    first = { kind: "dropunwanted", repo, remote };
    rest = words.slice(4);
  } else if (what === "dropunwanted") {
    first = { kind: "dropunwanted", repo, remote: null };
    rest = words.slice(3);
  } else if (isRemoteActionKind(what) && remote !== undefined) {
    first = { kind: what, repo, remote };
    rest = words.slice(4);
  } else {
    throw unparsable(words);
  }
  if (rest.length === 0) return first;
  if (rest[0] !== "while") throw unparsable(rest);
  return { kind: "while", first, second: parseSimAction(rest.slice(1)) };
}

/** The words of an action, "action" first; `while` joins two actions' words. */
export function formatSimAction(a: SimAction): string[] {
  switch (a.kind) {
    case "while":
      return [...formatSimAction(a.first), "while", ...formatSimAction(a.second)];
    case "dropunwanted":
      return a.remote === null
        ? ["action", a.repo, "dropunwanted"]
        : ["action", a.repo, "dropunwantedfrom", a.remote];
    default:
      return ["action", a.repo, a.kind, a.remote];
  }
}
