/**
 * The sim language, annexgate's parser against stock `git annex sim`: a
 * corpus of malformed lines is refused with the same message by both (the
 * differential), every good line of the corpus is accepted by both, and
 * what stock's `sim show` prints of a sim it ran is what annexgate prints
 * of the same file, and reads back to itself.
 *
 * Stock reports a bad sim file from `git annex sim start FILE`: it parses
 * the whole file before doing anything, and on the first bad line prints
 * "git-annex: MESSAGE" (control characters taken out) on stderr and exits
 * 1, leaving no sim started; there is no line number. So each bad line
 * costs one stock run, and the good lines ride along in front of it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BAD_LINES, GOOD_LINES } from "../../src/sim/corpus.fixture.js";
import {
  formatSimFile,
  parseSimFile,
  parseSimWords,
  type SimCommand,
  SimParseError,
} from "../../src/sim/index.js";
import { forEachBounded } from "../../src/util/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex } from "../helpers/index.js";

let tmp: string;
let repo: string;

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `git annex sim ARGS…` in the scratch repository, in a UTF-8 locale (sim files are UTF-8 text). */
function stockSim(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["annex", "sim", ...args],
      { cwd: repo, env: { ...process.env, LC_ALL: "C.UTF-8" }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout, stderr });
      },
    );
  });
}

/** What stock said it gave up with: the last "git-annex: " line of stderr, or null. */
function stockError(o: Outcome): string | null {
  const lines = o.stderr.split("\n").filter((l) => l.startsWith("git-annex: "));
  const last = lines[lines.length - 1];
  return last === undefined ? null : last.slice("git-annex: ".length);
}

/** git-annex's `safeOutput`: what is left of a message on the terminal (C0 controls but tab and newline, and DEL, taken out). */
function safeOutput(s: string): string {
  return [...s]
    .filter((c) => {
      const n = c.codePointAt(0) ?? 0;
      return c === "\n" || c === "\t" || (n > 31 && n !== 127);
    })
    .join("");
}

/** annexgate's message for a file, or null when it reads. */
function annexgateError(text: string): { message: string; line: number | null } | null {
  try {
    parseSimFile(text);
    return null;
  } catch (e) {
    if (!(e instanceof SimParseError)) throw e;
    return { message: e.message, line: e.data.line };
  }
}

const GOOD_TEXT = GOOD_LINES.map(([line]) => `${line}\n`).join("");

before(async () => {
  await requireGitAnnex();
  tmp = await makeTempDir("annexgate-simlang-");
  repo = await gitAnnexRepo(join(tmp, "repo"), "simlang");
});

after(async () => {
  if (repo !== undefined) await stockSim("end");
  if (tmp !== undefined) await removeDir(tmp);
});

describe("sim language, annexgate and stock git-annex", { timeout: 600_000 }, () => {
  it("stock refuses each malformed line with annexgate's message", async () => {
    // Every good line goes first: had stock refused one, its message would
    // show up here in place of the bad line's.
    const files = await Promise.all(
      BAD_LINES.map(async ([line], i) => {
        const file = join(tmp, `bad${i}.sim`);
        await writeFile(file, `${GOOD_TEXT}${line}\n`);
        return file;
      }),
    );
    const outcomes = await forEachBounded(files, 2, (file) => stockSim("start", file));
    const mismatches: string[] = [];
    for (const [i, [line, expected]] of BAD_LINES.entries()) {
      const o = outcomes[i];
      const stock =
        o instanceof Error ? o.message : stockError(o ?? { code: 0, stdout: "", stderr: "" });
      const ours = annexgateError(`${GOOD_TEXT}${line}\n`);
      assert.equal(ours?.line, GOOD_LINES.length + 1, JSON.stringify(line));
      if (stock !== safeOutput(ours?.message ?? "") || stock !== safeOutput(expected)) {
        mismatches.push(
          `${JSON.stringify(line)}: stock ${JSON.stringify(stock)}, annexgate ${JSON.stringify(ours?.message)}`,
        );
      }
      if (o !== undefined && !(o instanceof Error)) assert.equal(o.code, 1, JSON.stringify(line));
    }
    assert.deepEqual(mismatches, []);
  });

  it("stock reads command words as annexgate does, before it looks for a sim", async () => {
    // With no sim started, words that parse get stock's "no sim" error
    // instead of a parse error; "step 1" shows what that error is.
    const noSim = stockError(await stockSim("step", "1"));
    assert.ok(noSim !== null && !noSim.startsWith("Unable to parse"), String(noSim));
    const cases: string[][] = [
      [],
      ["init"],
      ["bogus", "a"],
      ["use"],
      ["connect", "a", "b"],
      ["step", "1.5"],
      ["rebalance", "maybe"],
      ["action", "a", "pull", "b", "while"],
      ["init", "a b", "c"],
      ["add", "f", "1 0", "a"],
      ["use", "r", "two  spaces"],
      ["#", "not", "a", "comment"],
    ];
    for (const words of cases) {
      const o = await stockSim(...words);
      let ours: string | null = null;
      try {
        parseSimWords(words);
      } catch (e) {
        if (!(e instanceof SimParseError)) throw e;
        ours = safeOutput(e.message);
      }
      assert.equal(o.code, 1, JSON.stringify(words));
      assert.equal(stockError(o), ours ?? noSim, JSON.stringify(words));
    }
  });
});

/**
 * A sim of cheap commands: every kind that stock's `sim show` echoes,
 * with sizes and numbers written in forms that print differently.
 */
const SHOWN_SIM = [
  "seed 42",
  "# repositories",
  "-- and their connections",
  "",
  "init foo",
  "init  bar",
  "initremote baz",
  "connect foo <-> bar",
  "connect foo -> baz <- bar",
  "disconnect bar -> baz",
  "numcopies 2",
  "mincopies (1)",
  "trustlevel baz untrusted",
  "group foo client",
  "group bar archive",
  "ungroup bar archive",
  "groupwanted archive not copies=archive:2",
  "wanted foo standard",
  "required bar include=*",
  "wanted baz include=*.mp3  or  largerthan=1mb",
  "randomwanted bar include=*.x exclude=*.y",
  "maxsize foo 1000QB",
  "maxsize bar 1.5TiB",
  "maxsize baz 12345678901234567890",
  "add bigfile 100gb bar",
  "add f1 1.5 foo",
  "add f2 0x10kb foo bar",
  "addmulti 3 .x 1kib 1.5mb foo",
  "metadata bigfile year=2025",
  "rebalance yes",
  "rebalance 0",
  "clusternode node1 bar",
  "addtree foo include=*.mp3",
  "action foo gitpush bar",
  "action foo dropunwanted while action bar getwanted foo",
].join("\n");

describe("sim show, annexgate and stock git-annex", { timeout: 600_000 }, () => {
  it("prints a sim as stock's sim show does, and reads stock's log back to itself", async () => {
    const file = join(tmp, "shown.sim");
    await writeFile(file, `${SHOWN_SIM}\n`);
    const started = await stockSim("start", file);
    assert.equal(started.code, 0, started.stderr);
    const shown = await stockSim("show");
    assert.equal(shown.code, 0, shown.stderr);
    await stockSim("end");

    // Stock's log reads back as itself through annexgate.
    const log: SimCommand[] = parseSimFile(shown.stdout);
    assert.equal(formatSimFile(log), shown.stdout);
    // What annexgate prints of the file is the log, less the outcomes stock recorded.
    const ours = formatSimFile(parseSimFile(SHOWN_SIM)).split("\n");
    const stockLines = log
      .filter((c) => c.kind !== "present" && c.kind !== "notpresent")
      .map((c) => formatSimFile([c]).slice(0, -1));
    assert.deepEqual(stockLines, ours.slice(0, -1));
  });
});
