/**
 * The terms of the preferred content language and their parsing
 * (Annex/FileMatcher.hs token tables, Limit.hs): each word of an
 * expression is a syntax word, a simple term ("present") or a term with a
 * value ("copies=2"). Error messages are git-annex's.
 */
import { readTrustLevel, type TrustLevel } from "../branch/index.js";
import { readishInt } from "../sizes/index.js";
import { BadSizeError, parseSize } from "./deps.js";
import { showString } from "./haskell-show.js";
import { generate, type Matcher, operations, syntaxToken, type Token } from "./matcher.js";

/** Which copies `copies=` counts. */
export type CopiesFilter =
  | { readonly kind: "any" }
  | { readonly kind: "trust"; readonly level: TrustLevel; readonly orMore: boolean }
  | { readonly kind: "group"; readonly group: string };

export type MetaDataOp = "=" | "<" | "<=" | ">" | ">=";

export type Term =
  | {
      readonly kind:
        | "anything"
        | "nothing"
        | "unused"
        | "present"
        | "securehash"
        | "inpreferreddir";
    }
  | { readonly kind: "include" | "exclude" | "mimetype" | "mimeencoding"; readonly glob: string }
  | { readonly kind: "largerthan" | "smallerthan"; readonly size: number; readonly text: string }
  | {
      readonly kind: "copies";
      readonly n: number;
      readonly filter: CopiesFilter;
      readonly text: string;
    }
  | { readonly kind: "lackingcopies"; readonly n: number; readonly approx: boolean }
  | { readonly kind: "inbackend"; readonly backend: string }
  | {
      readonly kind: "metadata";
      readonly field: string;
      readonly op: MetaDataOp;
      readonly value: string;
      readonly text: string;
    }
  | { readonly kind: "inallgroup" | "onlyingroup"; readonly group: string }
  | {
      /** fullybalanced= / fullysizebalanced=, and the core of balanced= / sizebalanced=. */
      readonly kind: "fullybalanced";
      readonly name: string;
      readonly bySize: boolean;
      readonly group: string;
      readonly n: number;
      readonly text: string;
    }
  | {
      /** balanced= / sizebalanced=: present, or (not copies and fully balanced). */
      readonly kind: "balanced";
      readonly name: string;
      readonly fully: Term & { readonly kind: "fullybalanced" };
      readonly copies: Term & { readonly kind: "copies" };
      readonly text: string;
    }
  | {
      readonly kind: "call";
      readonly name: "standard" | "groupwanted";
      readonly matcher: Matcher<Term>;
    };

/** A parse of an expression: the matcher, or git-annex's error for each bad word. */
export type Parsed =
  | { readonly ok: true; readonly matcher: Matcher<Term> }
  | { readonly ok: false; readonly errors: string[] };

/** What "standard" and "groupwanted" stand for where the expression is parsed. */
export interface ParseContext {
  readonly standard: () => Parsed;
  readonly groupwanted: () => Parsed;
}

const MATCH_ALL: Parsed = { ok: true, matcher: { kind: "any" } };

/** The context of `git annex matchexpression` and of checking an expression: both match anything. */
export const MATCH_ALL_CONTEXT: ParseContext = {
  standard: () => MATCH_ALL,
  groupwanted: () => MATCH_ALL,
};

type TermResult = Term | string;

function splitc(s: string, c: string): string[] {
  return s.split(c);
}

function parseCopies(want: string): TermResult {
  const parts = splitc(want, ":");
  let filter: CopiesFilter;
  let num: string;
  if (parts.length === 2) {
    const [v = "", n = ""] = parts;
    num = n;
    // A group named like a trust level is read as the trust level, as git-annex does.
    const plus = v.endsWith("+");
    const level = readTrustLevel(plus ? v.slice(0, -1) : v);
    filter = level !== null ? { kind: "trust", level, orMore: plus } : { kind: "group", group: v };
  } else if (parts.length === 1) {
    num = parts[0] ?? "";
    filter = { kind: "any" };
  } else return "bad value for copies";
  const n = readishInt(num);
  if (n === null) return "bad number for copies";
  return { kind: "copies", n, filter, text: want };
}

function parseFully(name: string, bySize: boolean, want: string): TermResult {
  const parts = splitc(want, ":");
  let n = 1;
  if (parts.length === 2) {
    const r = readishInt(parts[1] ?? "");
    if (r === null) return `bad number for ${name}`;
    n = r;
  } else if (parts.length !== 1) return `bad value for ${name}`;
  return { kind: "fullybalanced", name, bySize, group: parts[0] ?? "", n, text: want };
}

function parseBalanced(name: string, bySize: boolean, want: string): TermResult {
  const fully = parseFully(name, bySize, want);
  if (typeof fully === "string") return fully;
  const copies = parseCopies(want.includes(":") ? want : `${want}:1`);
  if (typeof copies === "string") return copies;
  return {
    kind: "balanced",
    name,
    fully: fully as Term & { kind: "fullybalanced" },
    copies: copies as Term & { kind: "copies" },
    text: want,
  };
}

const LEGAL_FIELD = /^[\p{L}\p{N}][\p{L}\p{N}_.-]*$/u;

function parseMetaData(s: string): TermResult {
  const at = s.search(/[=<>]/);
  const field = at < 0 ? s : s.slice(0, at);
  const opv = at < 0 ? "" : s.slice(at);
  if (!LEGAL_FIELD.test(field)) return `Illegal metadata field name, "${field}"`;
  let op: MetaDataOp = "=";
  let value = "";
  for (const o of ["=", "<=", "<", ">=", ">"] as const) {
    if (opv.startsWith(o)) {
      op = o;
      value = opv.slice(o.length);
      break;
    }
  }
  return { kind: "metadata", field, op, value, text: s };
}

function sizeTerm(kind: "largerthan" | "smallerthan", s: string): TermResult {
  try {
    return { kind, size: Number(parseSize(s)), text: s };
  } catch (e) {
    if (e instanceof BadSizeError) return "bad size";
    throw e;
  }
}

function call(name: "standard" | "groupwanted", p: Parsed): TermResult {
  return p.ok ? { kind: "call", name, matcher: p.matcher } : p.errors.join(" ");
}

type Table = {
  simple: Record<string, () => TermResult>;
  value: Record<string, (v: string) => TermResult>;
};

function commonTable(): Table {
  return {
    simple: {
      anything: () => ({ kind: "anything" }),
      nothing: () => ({ kind: "nothing" }),
      unused: () => ({ kind: "unused" }),
    },
    value: {
      include: (glob) => ({ kind: "include", glob }),
      exclude: (glob) => ({ kind: "exclude", glob }),
      largerthan: (v) => sizeTerm("largerthan", v),
      smallerthan: (v) => sizeTerm("smallerthan", v),
    },
  };
}

function preferredTable(ctx: ParseContext): Table {
  const common = commonTable();
  return {
    simple: {
      standard: () => call("standard", ctx.standard()),
      groupwanted: () => call("groupwanted", ctx.groupwanted()),
      inpreferreddir: () => ({ kind: "inpreferreddir" }),
      present: () => ({ kind: "present" }),
      securehash: () => ({ kind: "securehash" }),
      ...common.simple,
    },
    value: {
      copies: parseCopies,
      lackingcopies: (v) => {
        const n = readishInt(v);
        return n === null
          ? "bad value for number of lacking copies"
          : { kind: "lackingcopies", n, approx: false };
      },
      approxlackingcopies: (v) => {
        const n = readishInt(v);
        return n === null
          ? "bad value for number of lacking copies"
          : { kind: "lackingcopies", n, approx: true };
      },
      inbackend: (backend) => ({ kind: "inbackend", backend }),
      metadata: parseMetaData,
      inallgroup: (group) => ({ kind: "inallgroup", group }),
      onlyingroup: (group) => ({ kind: "onlyingroup", group }),
      balanced: (v) => parseBalanced("balanced", false, v),
      fullybalanced: (v) => parseFully("fullybalanced", false, v),
      sizebalanced: (v) => parseBalanced("sizebalanced", true, v),
      fullysizebalanced: (v) => parseFully("fullysizebalanced", true, v),
      ...common.value,
    },
  };
}

function largeFilesTable(): Table {
  const common = commonTable();
  return {
    simple: common.simple,
    value: {
      ...common.value,
      mimetype: (glob) => ({ kind: "mimetype", glob }),
      mimeencoding: (glob) => ({ kind: "mimeencoding", glob }),
    },
  };
}

const SPACE = /\s+/u;

/** git-annex's tokenizer: words split at white space, and "(" and ")" always words of their own. */
export function tokenize(expr: string): string[] {
  return expr
    .split(SPACE)
    .flatMap((w) => w.split(/([()])/))
    .filter((w) => w !== "");
}

function parseWord(table: Table, word: string): Token<Term> | string {
  const syntax = syntaxToken<Term>(word);
  if (syntax !== null) return syntax;
  const simple = Object.hasOwn(table.simple, word) ? table.simple[word] : undefined;
  const eq = word.indexOf("=");
  const k = eq < 0 ? word : word.slice(0, eq);
  const v = eq < 0 ? "" : word.slice(eq + 1);
  const valued = Object.hasOwn(table.value, k) ? table.value[k] : undefined;
  const r =
    simple !== undefined ? simple() : valued !== undefined ? valued(v) : `near ${showString(word)}`;
  return typeof r === "string" ? r : { kind: "op", op: r };
}

function parseWith(table: Table, expr: string): Parsed {
  const tokens: Token<Term>[] = [];
  const errors: string[] = [];
  for (const w of tokenize(expr)) {
    const t = parseWord(table, w);
    if (typeof t === "string") errors.push(t);
    else tokens.push(t);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, matcher: generate(tokens) };
}

/** Parses a preferred content expression; "standard" and "groupwanted" mean what `ctx` says. */
export function parsePreferredContent(expr: string, ctx: ParseContext = MATCH_ALL_CONTEXT): Parsed {
  return parseWith(preferredTable(ctx), expr);
}

/** Parses an annex.largefiles expression (`matchexpression --largefiles`). */
export function parseLargeFiles(expr: string): Parsed {
  return parseWith(largeFilesTable(), expr);
}

/**
 * git-annex's check of an expression before storing it (`git annex wanted
 * R EXPR`): null when it parses, else the error text.
 */
export function checkPreferredContentExpression(expr: string): string | null {
  const p = parsePreferredContent(expr);
  return p.ok ? null : p.errors.map((e) => `Parse failure: ${e}`).join(" ");
}

/** Whether negating a term makes content flow back and forth (Limit.hs `matchNegationUnstable`). */
export function negationUnstable(t: Term): boolean {
  switch (t.kind) {
    case "present":
    case "balanced":
      return true;
    case "call":
      return operations(t.matcher).some(negationUnstable);
    default:
      return false;
  }
}

/** How git-annex names a term in its explanations ("copies=2", "present"). */
export function describeTerm(t: Term): string {
  switch (t.kind) {
    case "include":
    case "exclude":
    case "mimetype":
    case "mimeencoding":
      return `${t.kind}=${t.glob}`;
    case "largerthan":
    case "smallerthan":
    case "copies":
    case "metadata":
      return `${t.kind}=${t.text}`;
    case "lackingcopies":
      return t.approx ? "approxlackingcopies" : "lackingcopies";
    case "inbackend":
      return `inbackend=${t.backend}`;
    case "inallgroup":
    case "onlyingroup":
      return `${t.kind}=${t.group}`;
    case "fullybalanced":
    case "balanced":
      return `${t.name}=${t.text}`;
    case "call":
      return t.name;
    default:
      return t.kind;
  }
}
