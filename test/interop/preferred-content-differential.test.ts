/**
 * Differential test of the preferred content language: generated
 * expressions (fast-check, seeded) over repository states built with stock
 * git-annex commands (groups, trust, numcopies, metadata, location logs,
 * real annexed and unused content), each answered by stock
 * `git annex matchexpression` and by `annexgate matchexpression --batch`.
 * The last states also set maxsize.log on some repositories, with content
 * on them, and ask balanced=/sizebalanced=/fullybalanced= about every key
 * (repository sizes weighed as git-annex weighs them).
 * Every answer (exit 0, 1 or 42) must agree. A divergence is shrunk to a
 * smallest expression that still diverges and reported; such cases are
 * kept in REGRESSIONS below.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type { Question } from "../../src/cli/matchexpression.js";
import { gitAnnexRepo, makeTempDir, removeDir, run, runOutcome } from "../helpers/index.js";
import { prng } from "../helpers/prng.js";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.js");
const SEED = 20250416;
const STATES = 3;
/** Of the STATES, how many (the last ones) also set maximum sizes. */
const SIZED_STATES = 1;
const PER_STATE = 160;
const LARGEFILES_PER_STATE = 20;
/** Maximum sizes around the sizes of the keys (6 to 3000 bytes) and of the repositories. */
const MAXSIZES = ["0", "1", "1000", "2500", "3100", "5000", "8kB", "1MB"];
const BALANCED_KINDS = ["balanced", "fullybalanced", "sizebalanced", "fullysizebalanced"];

// Expressions that once diverged (or nearly did); always checked in every state.
const REGRESSIONS: readonly string[] = [
  "not present",
  "not balanced=g1",
  "not fullybalanced=g1",
  "not (present or anything)",
  "or anything",
  "anything or",
  "( ( present )",
  "present )",
  "not not present",
  "a not b",
  "copies=trusted:1 copies=trusted+:1",
  "copies=1x",
  "copies=0x2",
  "copies=2.5",
  "metadata=n>=9.5",
  "metadata=N<10",
  "metadata=tag=A",
  "metadata=tag-lastchanged=*",
  "inpreferreddir",
  "inallgroup=nosuchgroup",
  "onlyingroup=nosuchgroup",
  "smallerthan=1.5kB",
  "largerthan=5.",
  "balanced=g1:2 or sizebalanced=g2",
  "lackingcopies=1 approxlackingcopies=-1",
  // Diverged: no implicit "and" inside parentheses (a group continues the term before it).
  "( nothing ( nothing or anything ) )",
  "( include=public/* ( smallerthan=1kb or smallerthan=1MB",
  "( present not ( copies=1 or anything ) )",
];

async function exitCode(cmd: string, args: readonly string[], cwd: string): Promise<number> {
  return (await runOutcome(cmd, args, { cwd })).code;
}

function stockArgs(q: Question): string[] {
  const args = ["annex", "matchexpression", q.expr];
  if (q.file !== undefined) args.push(`--file=${q.file}`);
  if (q.key !== undefined) args.push(`--key=${q.key}`);
  if (q.size !== undefined) args.push(`--size=${q.size}`);
  if (q.largefiles === true) args.push("--largefiles");
  if (q.mimetype !== undefined) args.push(`--mimetype=${q.mimetype}`);
  if (q.mimeencoding !== undefined) args.push(`--mimeencoding=${q.mimeencoding}`);
  return args;
}

async function stockAnswers(repo: string, qs: readonly Question[]): Promise<number[]> {
  const out: number[] = new Array(qs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < qs.length) {
      const i = next++;
      out[i] = await exitCode("git", stockArgs(qs[i] as Question), repo);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return out;
}

function annexgateAnswers(repo: string, qs: readonly Question[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "matchexpression", "--batch"], { cwd: repo });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const lines = stdout.split("\n").filter((l) => l !== "");
      if (code !== 0 || lines.length !== qs.length) {
        reject(new Error(`annexgate matchexpression --batch exited ${code}: ${stderr}`));
      } else resolve(lines.map(Number));
    });
    child.stdin.end(qs.map((q) => `${JSON.stringify(q)}\n`).join(""));
  });
}

// ---- generated expressions --------------------------------------------------

const GROUPS = ["g1", "g2", "client", "archive", "backup", "trusted", "nosuchgroup"];
const GLOBS = [
  "*",
  "*.txt",
  "a*",
  "*/archive/*",
  "archive/*",
  "?.bin",
  "[ab]*",
  "[!a]*",
  "public/*",
  "dir/*",
  "*/*",
];
const FIELDS = ["tag", "n", "Tag", "author", "nosuch"];
const META_VALUES = ["a", "b*", "*", "10", "9", "2.5", "x", "A", ""];
const SIZES = ["0", "10", "100", "1kb", "2KiB", "1.5kB", "5000", "1MB", "3bytes", "10kilobytes"];
const TRUSTS = [
  "trusted",
  "semitrusted",
  "untrusted",
  "dead",
  "trusted+",
  "untrusted+",
  "semitrusted+",
];
const BACKENDS = ["SHA256E", "SHA256", "WORM", "MD5", "SHA1", "URL", "BLAKE2B256E"];
const BAD = [
  "foo",
  "copies=x",
  "copies=a:b:c",
  "metadata=-x=1",
  "balanced=g1:x",
  "largerthan=zz",
  "url=x",
  "present=1",
  "lackingcopies=y",
];

const small = fc.integer({ min: -1, max: 4 });

/** include=/exclude= and smallerthan=/largerthan=, in both languages. */
const globTerm = fc
  .tuple(fc.constantFrom("include", "exclude"), fc.constantFrom(...GLOBS))
  .map(([k, g]) => `${k}=${g}`);
const sizeTerm = fc
  .tuple(fc.constantFrom("smallerthan", "largerthan"), fc.constantFrom(...SIZES))
  .map(([k, s]) => `${k}=${s}`);

const term: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "anything",
    "nothing",
    "present",
    "securehash",
    "inpreferreddir",
    "unused",
    "standard",
    "groupwanted",
  ),
  globTerm,
  small.map((n) => `copies=${n}`),
  fc.tuple(fc.constantFrom(...TRUSTS, ...GROUPS), small).map(([t, n]) => `copies=${t}:${n}`),
  fc
    .tuple(fc.constantFrom("lackingcopies", "approxlackingcopies"), small)
    .map(([k, n]) => `${k}=${n}`),
  fc.constantFrom(...BACKENDS).map((b) => `inbackend=${b}`),
  fc
    .tuple(fc.constantFrom("inallgroup", "onlyingroup"), fc.constantFrom(...GROUPS))
    .map(([k, g]) => `${k}=${g}`),
  sizeTerm,
  fc
    .tuple(
      fc.constantFrom(...FIELDS),
      fc.constantFrom("=", "<", "<=", ">", ">="),
      fc.constantFrom(...META_VALUES),
    )
    .map(([f, o, v]) => `metadata=${f}${o}${v}`),
  fc
    .tuple(
      fc.constantFrom("balanced", "fullybalanced", "sizebalanced", "fullysizebalanced"),
      fc.constantFrom(...GROUPS),
      fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    )
    .map(([k, g, n]) => `${k}=${g}${n === undefined ? "" : `:${n}`}`),
  fc.constantFrom(...BAD),
);

/** annex.largefiles terms (`matchexpression --largefiles`), plus some it refuses. */
const largeFilesTerm: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("anything", "nothing", "unused", "present", "copies=1"),
  globTerm,
  sizeTerm,
  fc
    .tuple(
      fc.constantFrom("mimetype", "mimeencoding"),
      fc.constantFrom("text/*", "*/plain", "binary", "us-ascii", "*"),
    )
    .map(([k, g]) => `${k}=${g}`),
);

/** An expression tree rendered to text; kept as a tree so a divergence can be shrunk. */
type Expr =
  | { t: "term"; s: string }
  | { t: "not"; a: Expr }
  | { t: "and" | "or" | "juxt"; a: Expr; b: Expr }
  | { t: "paren"; a: Expr };

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    term.map((s): Expr => ({ t: "term", s })),
    tie("expr").map((a): Expr => ({ t: "not", a })),
    tie("expr").map((a): Expr => ({ t: "paren", a })),
    fc
      .tuple(
        fc.constantFrom("and", "or", "juxt") as fc.Arbitrary<"and" | "or" | "juxt">,
        tie("expr"),
        tie("expr"),
      )
      .map(([t, a, b]): Expr => ({ t, a, b })),
  ),
}));

function render(e: Expr): string {
  switch (e.t) {
    case "term":
      return e.s;
    case "not":
      return `not ${render(e.a)}`;
    case "paren":
      return `(${render(e.a)})`;
    case "juxt":
      return `${render(e.a)} ${render(e.b)}`;
    default:
      return `${render(e.a)} ${e.t} ${render(e.b)}`;
  }
}

/** Smaller expressions to try in place of `e`. */
function shrinkings(e: Expr): Expr[] {
  switch (e.t) {
    case "term":
      return [];
    case "not":
    case "paren":
      return [e.a, ...shrinkings(e.a).map((a) => ({ ...e, a }))];
    default:
      return [
        e.a,
        e.b,
        ...shrinkings(e.a).map((a) => ({ ...e, a })),
        ...shrinkings(e.b).map((b) => ({ ...e, b })),
      ];
  }
}

// ---- repository states --------------------------------------------------------

let tmp: string;
let repo: string;
let here: string;
const remotes: string[] = [];
let keys: string[] = [];

async function annex(...args: string[]): Promise<void> {
  await run("git", ["annex", ...args], { cwd: repo });
}

before(async () => {
  tmp = await makeTempDir("annexgate-pcdiff-");
  repo = await gitAnnexRepo(join(tmp, "here"), "here");
  here = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
  for (let i = 1; i <= 4; i++) {
    const dir = join(tmp, `d${i}`);
    await mkdir(dir);
    await annex("initremote", `r${i}`, "type=directory", `directory=${dir}`, "encryption=none");
    remotes.push((await run("git", ["config", `remote.r${i}.annex-uuid`], { cwd: repo })).trim());
  }
  // Real content: two files present here, one made unused.
  await mkdir(join(repo, "dir", "archive"), { recursive: true });
  await writeFile(join(repo, "a.txt"), "hello\n");
  await writeFile(join(repo, "dir", "archive", "b.bin"), "x".repeat(3000));
  await writeFile(join(repo, "gone.txt"), "soon unused\n");
  await annex("add", "a.txt", "dir", "gone.txt");
  await run("git", ["commit", "-qm", "add"], { cwd: repo });
  const real = [];
  for (const f of ["a.txt", "dir/archive/b.bin", "gone.txt"]) {
    real.push((await run("git", ["annex", "lookupkey", f], { cwd: repo })).trim());
  }
  await run("git", ["rm", "-q", "gone.txt"], { cwd: repo });
  await run("git", ["commit", "-qm", "rm"], { cwd: repo });
  await annex("unused");
  keys = [
    ...real,
    "WORM-s100-m1700000000--w.txt",
    "MD5-s2000--0123456789abcdef0123456789abcdef",
    "SHA1--0123456789abcdef0123456789abcdef01234567",
    "URL--http&c%%example.com%x",
    "SHA256E-s1500--e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.bin",
  ];
});

after(async () => {
  if (tmp !== undefined) await removeDir(tmp);
});

/** Rebuilds the varying state with stock commands, chosen by `rand`. */
async function buildState(rand: () => number): Promise<void> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const all = [here, ...remotes];
  for (const u of all) {
    const groups = ["g1", "g2", "client", "archive", "backup", "trusted"].filter(
      () => rand() < 0.3,
    );
    // `ungroup` of every group, then the chosen ones.
    for (const g of ["g1", "g2", "client", "archive", "backup", "trusted"])
      await annex("ungroup", u === here ? "here" : `r${remotes.indexOf(u) + 1}`, g).catch(
        () => undefined,
      );
    for (const g of groups)
      await annex("group", u === here ? "here" : `r${remotes.indexOf(u) + 1}`, g);
  }
  for (let i = 0; i < remotes.length; i++) {
    const level = pick(["trust", "untrust", "semitrust", "semitrust", "dead"]);
    await annex(level, "--force", `r${i + 1}`);
  }
  await annex("numcopies", String(1 + Math.floor(rand() * 3)));
  for (const k of keys) {
    for (const u of all) {
      if (rand() < 0.4) await annex("setpresentkey", k, u, rand() < 0.7 ? "1" : "0");
    }
    if (rand() < 0.5) {
      await annex(
        "metadata",
        "--key",
        k,
        "-s",
        `tag=${pick(["a", "b", "bb", "A"])}`,
        "-s",
        `n=${pick(["1", "9", "10", "2.5", "x"])}`,
      );
    }
  }
}

/**
 * Sets maxsize.log for most repositories (a few left without one), and
 * puts this repository in g1 so that balanced placement can pick it.
 */
async function setMaxSizes(rand: () => number): Promise<void> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  for (const name of ["here", "r1", "r2", "r3", "r4"]) {
    if (rand() < 0.85) await annex("maxsize", name, pick(MAXSIZES));
  }
  await annex("group", "here", "g1");
}

/** Every balanced term, for every key: what the sizes decide. */
function balancedQuestions(): { q: Question }[] {
  const out: { q: Question }[] = [];
  for (const kind of BALANCED_KINDS) {
    for (const g of ["g1", "g2"]) {
      for (const n of ["", ":2", ":3"]) {
        for (const key of keys) out.push({ q: { expr: `${kind}=${g}${n}`, file: "a.txt", key } });
      }
    }
  }
  return out;
}

function questions(seed: number): { q: Question; e?: Expr }[] {
  const files = [
    undefined,
    "a.txt",
    "dir/archive/b.bin",
    "public/y",
    "x/public/z.txt",
    "archive/q",
    "b",
    "a/b/c.txt",
    "public/sub/f",
  ];
  const sizes = [undefined, "0", "10", "2kB", "1500", "5000"];
  const arb = fc.record({
    e: expr,
    file: fc.constantFrom(...files),
    key: fc.constantFrom(undefined, ...keys),
    size: fc.constantFrom(...sizes),
  });
  const generated = fc.sample(arb, { seed, numRuns: PER_STATE }).map(({ e, file, key, size }) => ({
    e,
    q: {
      expr: render(e),
      ...(file === undefined ? {} : { file }),
      ...(key === undefined ? {} : { key }),
      ...(size === undefined ? {} : { size }),
    },
  }));
  const largeFiles = fc
    .sample(
      fc.record({
        terms: fc.array(
          fc.tuple(fc.constantFrom("", "and ", "or ", "not ", "( "), largeFilesTerm),
          { minLength: 1, maxLength: 4 },
        ),
        file: fc.constantFrom(...files),
        size: fc.constantFrom(...sizes),
        mimetype: fc.constantFrom(undefined, "text/plain", "application/octet-stream"),
        mimeencoding: fc.constantFrom(undefined, "us-ascii", "binary"),
      }),
      { seed: seed + 1, numRuns: LARGEFILES_PER_STATE },
    )
    .map(({ terms, file, size, mimetype, mimeencoding }) => ({
      q: {
        expr: terms.map(([c, t]) => `${c}${t}`).join(" "),
        largefiles: true,
        ...(file === undefined ? {} : { file }),
        ...(size === undefined ? {} : { size }),
        ...(mimetype === undefined ? {} : { mimetype }),
        ...(mimeencoding === undefined ? {} : { mimeencoding }),
      },
    }));
  const regressions = REGRESSIONS.map((x, i) => ({
    q: { expr: x, file: "a.txt", key: keys[i % keys.length] as string },
  }));
  return [...regressions, ...generated, ...largeFiles];
}

async function divergesOn(q: Question): Promise<boolean> {
  const [s] = await stockAnswers(repo, [q]);
  const [a] = await annexgateAnswers(repo, [q]);
  return s !== a;
}

/** Shrinks a diverging generated expression (bounded): the smallest subtree that still diverges. */
async function shrink(q: Question, e: Expr): Promise<string> {
  let best = e;
  for (let round = 0; round < 40; round++) {
    let improved = false;
    for (const c of shrinkings(best)) {
      if (await divergesOn({ ...q, expr: render(c) })) {
        best = c;
        improved = true;
        break;
      }
    }
    if (!improved) break;
  }
  return render(best);
}

// ---- glob-heavy questions ----------------------------------------------------

const GLOB_CHARS = ["a", "b", "x", "/", ".", "*", "?", "[", "]", "!", "-", "\\", "^", ":", "J"];
const GLOB_FILE_CHARS = ["a", "b", "x", "/", ".", "\n", "[", "]", "\\", "-", "*", "J"];
/** Values of a metadata field only these questions use (matched case-insensitively). */
const GLOB_META_VALUES = ["Photo.JPG", "a/b", "[x]", "ÉTÉ", "b-a"];

/** Random globs (brackets, ranges, escapes, stray "]") against random paths, some with newlines. */
function globQuestions(metaKey: string): Question[] {
  const text = (chars: string[], min: number, max: number) =>
    fc.array(fc.constantFrom(...chars), { minLength: min, maxLength: max }).map((a) => a.join(""));
  const include = fc
    .sample(
      fc.record({
        k: fc.constantFrom("include", "exclude"),
        g: text(GLOB_CHARS, 1, 8),
        file: text(GLOB_FILE_CHARS, 1, 10),
      }),
      { seed: SEED + 7, numRuns: 160 },
    )
    .map(({ k, g, file }): Question => ({ expr: `${k}=${g}`, file }));
  const meta = fc
    .sample(fc.tuple(text(["a", "B", "*", "?", "[", "]", "!", ".", "P", "é", "/"], 1, 6)), {
      seed: SEED + 8,
      numRuns: 40,
    })
    .map(([g]): Question => ({ expr: `metadata=globfield=${g}`, file: "a.txt", key: metaKey }));
  const fixed = ["photos/*/*.jpg", "*.jpg", "a?c", "a[!b]c", "[]a]", "[[:alpha:]]", "[z-a]"].map(
    (g): Question => ({ expr: `include=${g}`, file: "photos/x\nphotos/a/b.jpg\na\nc" }),
  );
  return [...fixed, ...include, ...meta];
}

describe("preferred content: globs agree with git annex matchexpression", {
  timeout: 600_000,
}, () => {
  it("random globs against random paths and metadata values", async () => {
    const metaKey = keys[0] as string;
    await annex(
      "metadata",
      "--key",
      metaKey,
      ...GLOB_META_VALUES.flatMap((v) => ["-s", `globfield+=${v}`]),
    );
    const qs = globQuestions(metaKey);
    const [stock, ours] = await Promise.all([stockAnswers(repo, qs), annexgateAnswers(repo, qs)]);
    const divergences = qs.flatMap((q, i) =>
      stock[i] === ours[i] ? [] : [`${JSON.stringify(q)} stock=${stock[i]} annexgate=${ours[i]}`],
    );
    assert.deepEqual(divergences, [], `divergences:\n${divergences.join("\n")}`);
    const matched = stock.filter((c) => c === 0).length;
    assert.ok(
      matched >= qs.length / 8 && matched <= (qs.length * 7) / 8,
      `${matched} of ${qs.length} matched`,
    );
  });
});

describe("preferred content: annexgate matchexpression agrees with git annex matchexpression", {
  timeout: 600_000,
}, () => {
  it(`${STATES} states x (${PER_STATE} generated + ${LARGEFILES_PER_STATE} largefiles + ${REGRESSIONS.length} regression) questions, ${SIZED_STATES} with maxsizes`, async () => {
    const rand = fc.sample(fc.integer(), { seed: SEED, numRuns: STATES });
    let total = 0;
    const counts = new Map<number, number>();
    const divergences: string[] = [];
    for (let s = 0; s < STATES; s++) {
      const seed = (rand[s] ?? s) >>> 0;
      const rng = prng(seed);
      await buildState(rng);
      const sized = s >= STATES - SIZED_STATES;
      if (sized) await setMaxSizes(rng);
      const items: { q: Question; e?: Expr }[] = sized
        ? [...questions(seed), ...balancedQuestions()]
        : questions(seed);
      const t0 = Date.now();
      const qs = items.map((x) => x.q);
      const [stock, ours] = await Promise.all([stockAnswers(repo, qs), annexgateAnswers(repo, qs)]);
      total += qs.length;
      process.stdout.write(`# state ${s}: ${qs.length} questions, ${Date.now() - t0} ms\n`);
      for (const c of stock) counts.set(c, (counts.get(c) ?? 0) + 1);
      for (let i = 0; i < qs.length; i++) {
        if (stock[i] !== ours[i]) {
          const q = qs[i] as Question;
          divergences.push(
            `state ${s}: ${JSON.stringify(q)} stock=${stock[i]} annexgate=${ours[i]}`,
          );
        }
      }
      if (divergences.length > 0) {
        // Shrink the first generated divergence of this state for the report.
        const first = items.find((x, i) => x.e !== undefined && stock[i] !== ours[i]);
        if (first?.e !== undefined) divergences.push(`  shrunk: ${await shrink(first.q, first.e)}`);
        break;
      }
    }
    assert.deepEqual(divergences, [], `divergences:\n${divergences.join("\n")}`);
    assert.ok(total >= 800, `only ${total} questions`);
    // The questions must exercise matching, not just parse errors.
    const summary = JSON.stringify(Object.fromEntries(counts));
    for (const code of [0, 1, 42]) {
      assert.ok((counts.get(code) ?? 0) >= total / 8, `too few answers ${code}: ${summary}`);
    }
    process.stdout.write(`# answers by exit code: ${summary}\n`);
  });
});
