/**
 * `annexgate matchexpression EXPR [--file F] [--key K] [--size S]
 * [--largefiles] [--mimetype M] [--mimeencoding E]`: does the expression
 * match, for the repository here? Exit 0 when it does, 1 when it does not,
 * 42 when the expression does not parse or needs data not given, as
 * `git annex matchexpression`.
 *
 * `--batch` (annexgate's own) reads one JSON object per line,
 * {"expr", "file"?, "key"?, "size"?, "largefiles"?, "mimetype"?,
 * "mimeencoding"?}, and writes one line per question: the exit code the
 * single form would give.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Git } from "../git/index.js";
import { type Key, objectPath, parseKey } from "../keys/index.js";
import { buildPolicySnapshot, snapshotSizes, weighsSizes } from "../policy/index.js";
import {
  BadGlobError,
  type KeyState,
  loadKeyState,
  type MatchInput,
  matches,
  NotEnoughDataError,
  type Parsed,
  Policy,
  type PolicySnapshot,
  parseLargeFiles,
  parsePreferredContent,
} from "../preferred-content/index.js";
import { BadSizeError, parseSize } from "../sizes/index.js";
import { type Here, NO_UUID_NEEDED, withRepository } from "./command.js";
import { type OptionTable, parseOptions } from "./options.js";
import { UsageError } from "./usage.js";

/** One `--batch` question: a JSON line of this shape. */
export interface Question {
  readonly expr: string;
  readonly file?: string;
  readonly key?: string;
  readonly size?: string;
  readonly largefiles?: boolean;
  readonly mimetype?: string;
  readonly mimeencoding?: string;
}

/** How many batch questions are in flight at once. */
const BATCH_WINDOW = 64;

const parseCache = new Map<string, Parsed>();

/** Batches usually repeat one expression: parse each once (bounded). */
function parseCached(expr: string, largefiles: boolean): Parsed {
  const id = `${largefiles ? "L" : "P"}${expr}`;
  let p = parseCache.get(id);
  if (p === undefined) {
    if (parseCache.size > 1000) parseCache.clear();
    p = largefiles ? parseLargeFiles(expr) : parsePreferredContent(expr);
    parseCache.set(id, p);
  }
  return p;
}

interface Answer {
  readonly code: 0 | 1 | 42;
  readonly message?: string;
}

class Repository {
  #sized: Promise<Policy> | undefined;

  constructor(
    readonly here: Here,
    readonly snapshot: PolicySnapshot,
    readonly policy: Policy,
  ) {}

  get git(): Git {
    return this.here.git;
  }

  get uuid(): string {
    return this.here.uuid;
  }

  static async open(here: Here): Promise<Repository> {
    // The same snapshot the gateway builds (trust overrides, unused keys, clusters).
    const snapshot = await buildPolicySnapshot(here);
    return new Repository(here, snapshot, new Policy(snapshot));
  }

  /**
   * The policy to answer `expr` with: with maxsize.log and repository
   * sizes when the expression, or an expression it may call
   * (groupwanted, standard, the repository's own), weighs sizes; they are
   * read once, and only then, as git-annex reads them only then.
   */
  policyFor(expr: string): Promise<Policy> {
    const s = this.snapshot;
    if (!weighsSizes(s, [expr])) return Promise.resolve(this.policy);
    this.#sized ??= snapshotSizes(this.git, this.here.branch).then(
      (sizes) => new Policy({ ...s, ...sizes }),
    );
    return this.#sized;
  }

  /**
   * Whether the content is in this repository's object store (git-annex
   * inAnnex). Synchronous: a promise-based access that fails (the usual
   * answer, absent) cost more than the rest of a question.
   */
  hasContent(key: Key): boolean {
    const objects = join(this.git.gitDir, "annex", "objects");
    return (["mixed", "lower"] as const).some((layout) =>
      existsSync(join(objects, objectPath(key, layout))),
    );
  }

  async keyState(key: Key): Promise<KeyState> {
    return loadKeyState(this.here.branch, key, this.hasContent(key));
  }
}

async function answer(repo: Repository, q: Question): Promise<Answer> {
  let key: Key | undefined;
  if (q.key !== undefined) {
    try {
      key = parseKey(q.key);
    } catch {
      throw new UsageError(`option --key: bad key ${q.key}`);
    }
  }
  let size: number | undefined;
  if (q.size !== undefined) {
    try {
      size = Number(parseSize(q.size));
    } catch (e) {
      if (e instanceof BadSizeError) throw new UsageError(`option --size: parse error`);
      throw e;
    }
  }
  // As git-annex: a key's size is the size to match when the key has one.
  if (key?.size !== undefined) size = key.size;
  const parsed = parseCached(q.expr, q.largefiles === true);
  if (!parsed.ok) {
    return {
      code: 42,
      message: `bad expression: ${parsed.errors.map((e) => `Parse failure: ${e}`).join(" ")}`,
    };
  }
  const input: MatchInput = {
    mode: "user",
    ...(q.file === undefined ? {} : { file: q.file }),
    ...(key === undefined ? {} : { key }),
    ...(size === undefined ? {} : { size }),
    ...(q.mimetype === undefined ? {} : { mimeType: q.mimetype }),
    ...(q.mimeencoding === undefined ? {} : { mimeEncoding: q.mimeencoding }),
  };
  try {
    const state = key === undefined ? undefined : await repo.keyState(key);
    const policy = await repo.policyFor(q.expr);
    const ok = matches(policy, parsed.matcher, input, {
      repo: repo.uuid,
      ...(state === undefined ? {} : { state }),
    });
    return { code: ok ? 0 : 1 };
  } catch (e) {
    if (e instanceof NotEnoughDataError) return { code: 42, message: e.message };
    // git-annex gives up on the expression (exit 1) when a glob makes no regex.
    if (e instanceof BadGlobError) return { code: 1, message: e.message };
    throw e;
  }
}

/**
 * Answer lines gathered and written once per turn of the event loop (or
 * per 64 KiB): one write per answer was a tenth of a batch's time.
 */
class BatchedOutput {
  #text = "";
  #scheduled = false;

  write(line: string): void {
    this.#text += line;
    if (this.#text.length >= 65536) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.#text === "") return;
    process.stdout.write(this.#text);
    this.#text = "";
  }
}

function questionFromJson(line: string): Question {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new UsageError(`--batch: not a JSON line: ${line}`);
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== "object" || o === null || typeof o.expr !== "string") {
    throw new UsageError(`--batch: each line needs an "expr" string: ${line}`);
  }
  const str = (k: string): string | undefined => {
    const x = o[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== "string") throw new UsageError(`--batch: "${k}" must be a string`);
    return x;
  };
  const q: Record<string, unknown> = { expr: o.expr, largefiles: o.largefiles === true };
  for (const k of ["file", "key", "size", "mimetype", "mimeencoding"]) {
    const x = str(k);
    if (x !== undefined) q[k] = x;
  }
  return q as unknown as Question;
}

export const MATCHEXPRESSION_OPTIONS = {
  file: { type: "string", value: "FILE", help: "the file the question is about" },
  key: { type: "string", value: "KEY", help: "the key the question is about" },
  size: { type: "string", value: "SIZE", help: "the size of the content" },
  mimetype: { type: "string", value: "TYPE", help: "the content's MIME type" },
  mimeencoding: { type: "string", value: "ENCODING", help: "the content's MIME encoding" },
  largefiles: { type: "boolean", help: "EXPR is an annex.largefiles expression" },
  batch: {
    type: "boolean",
    help: "read one JSON question a line on stdin, answer each on stdout",
  },
} as const satisfies OptionTable;

export async function matchexpressionCommand(argv: readonly string[]): Promise<number> {
  const { positionals, values } = parseOptions(argv, MATCHEXPRESSION_OPTIONS, true);
  if (values.batch === true) {
    if (positionals.length > 0) throw new UsageError("matchexpression --batch takes no EXPRESSION");
    return withRepository(async (here) => {
      const repo = await Repository.open(here);
      const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      // Questions are answered concurrently (their branch reads pipeline
      // through one cat-file), each answer written as soon as it and
      // those before it are known, so a caller may ask one line at a time.
      const out = new BatchedOutput();
      const inflight: Promise<void>[] = [];
      let previous: Promise<void> = Promise.resolve();
      for await (const line of lines) {
        if (line.trim() === "") continue;
        const answered = Promise.resolve()
          .then(() => answer(repo, questionFromJson(line)))
          .catch((e: unknown): Answer => {
            if (!(e instanceof UsageError)) throw e;
            return { code: 1, message: e.message };
          });
        const written = Promise.all([previous, answered]).then(([, a]) => out.write(`${a.code}\n`));
        // A question that failed (not a usage error) ends the batch at once:
        // the answers after it could never be written.
        written.catch(() => lines.close());
        previous = written;
        inflight.push(written);
        if (inflight.length >= BATCH_WINDOW) await inflight.shift();
      }
      await previous;
      out.flush();
      return 0;
    }, NO_UUID_NEEDED);
  }
  if (positionals.length !== 1) throw new UsageError("matchexpression takes one EXPRESSION");
  const expr = positionals[0] as string;
  return withRepository(async (here) => {
    const a = await answer(await Repository.open(here), {
      expr,
      ...(values.file === undefined ? {} : { file: values.file }),
      ...(values.key === undefined ? {} : { key: values.key }),
      ...(values.size === undefined ? {} : { size: values.size }),
      ...(values.mimetype === undefined ? {} : { mimetype: values.mimetype }),
      ...(values.mimeencoding === undefined ? {} : { mimeencoding: values.mimeencoding }),
      largefiles: values.largefiles === true,
    });
    if (a.message !== undefined) process.stderr.write(`${a.message}\n`);
    return a.code;
  }, NO_UUID_NEEDED);
}
