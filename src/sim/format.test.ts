import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { GOOD_LINES } from "./corpus.fixture.js";
import {
  type Connections,
  formatSimCommand,
  formatSimFile,
  formatSimSize,
  parseSimFile,
  parseSimLine,
  REMOTE_ACTION_KINDS,
  type SimAction,
  type SimCommand,
  SimParseError,
} from "./index.js";

/** Characters words are made of: plain, sim syntax, and some that only look like white space. */
const WORD_CHARS = [
  ..."abcXYZ019_.=*:/()'\"",
  "-",
  ">",
  "<",
  "#",
  "é",
  "\u0085",
  "\u200b",
  "\u2028",
  "🎉",
];
const word = fc.string({ unit: fc.constantFrom(...WORD_CHARS), minLength: 1, maxLength: 6 });
const words = fc.array(word, { maxLength: 4 });
const text = words.map((ws) => ws.join(" "));
const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
// Below 2^50 bytes a size prints with enough digits to read back exactly.
const size = fc.oneof(fc.bigInt(-(2n ** 50n), 2n ** 50n), fc.bigInt(0n, 5000n));

const connections: fc.Arbitrary<Connections> = fc.letrec<{ c: Connections }>((tie) => ({
  c: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ kind: fc.constant("->" as const), repo: word, remote: word }),
    fc.record({ kind: fc.constant("<-" as const), remote: word, repo: word }),
    fc.record({ kind: fc.constant("<->" as const), repo1: word, repo2: word }),
    fc.record({ kind: fc.constant("=>" as const), repo: word, next: tie("c") }),
    fc.record({ kind: fc.constant("<=" as const), remote: word, next: tie("c") }),
    fc.record({ kind: fc.constant("<=>" as const), repo: word, next: tie("c") }),
  ),
})).c;

/** A single action; `while` chains nest to the right, as parsing builds them. */
const oneAction: fc.Arbitrary<SimAction> = fc.oneof(
  fc.record({ kind: fc.constantFrom(...REMOTE_ACTION_KINDS), repo: word, remote: word }),
  fc.record({ kind: fc.constant("dropunwanted" as const), repo: word, remote: fc.option(word) }),
);
const action: fc.Arbitrary<SimAction> = fc
  .array(oneAction, { minLength: 1, maxLength: 4 })
  .map((as) => as.reduceRight((second, first) => ({ kind: "while", first, second })));

const k = <K extends string>(kind: K) => fc.constant(kind);

/** Every command, with arguments of any form a sim file can hold. */
const command: fc.Arbitrary<SimCommand> = fc.oneof(
  fc.record({ kind: fc.constantFrom("init" as const, "initremote" as const), repo: word }),
  fc.record({ kind: k("use"), repo: word, what: text }),
  fc.record({ kind: fc.constantFrom("connect" as const, "disconnect" as const), connections }),
  fc.record({
    kind: fc.constantFrom("addtree" as const, "wanted" as const, "required" as const),
    repo: word,
    expression: text,
  }),
  fc.record({ kind: k("add"), file: word, size, repos: words }),
  fc.record({
    kind: k("addmulti"),
    count: int64,
    suffix: word,
    minSize: size,
    maxSize: size,
    repos: words,
  }),
  fc.record({ kind: fc.constantFrom("step" as const, "stepstable" as const), steps: int64 }),
  fc.record({ kind: k("action"), action }),
  fc.record({ kind: k("seed"), seed: int64 }),
  fc.record({
    kind: fc.constantFrom("present" as const, "notpresent" as const),
    repo: word,
    file: word,
  }),
  fc.record({ kind: fc.constantFrom("numcopies" as const, "mincopies" as const), copies: int64 }),
  fc.record({
    kind: k("trustlevel"),
    repo: word,
    level: fc.constantFrom(
      "trusted" as const,
      "semitrusted" as const,
      "untrusted" as const,
      "dead" as const,
    ),
  }),
  fc.record({
    kind: fc.constantFrom("group" as const, "ungroup" as const),
    repo: word,
    group: word,
  }),
  fc.record({ kind: k("metadata"), file: word, change: word }),
  fc.record({ kind: k("groupwanted"), group: word, expression: text }),
  fc.record({
    kind: fc.constantFrom("randomwanted" as const, "randomrequired" as const),
    repo: word,
    terms: words,
  }),
  fc.record({ kind: k("randomgroupwanted"), group: word, terms: words }),
  fc.record({ kind: k("maxsize"), repo: word, size }),
  fc.record({ kind: k("rebalance"), on: fc.boolean() }),
  fc.record({ kind: k("clusternode"), node: word, repo: word }),
  fc.record({ kind: k("visit"), repo: word, command: words }),
  fc.record({
    kind: k("comment"),
    text: fc
      .tuple(fc.constantFrom("#", "--"), fc.string({ maxLength: 12 }))
      .map(([lead, rest]) => lead + rest.replaceAll("\n", " ")),
  }),
  fc.record({ kind: k("blank") }),
);

/** The value with plain objects (fast-check's records have no prototype; strict deepEqual looks). */
const plain = <T>(v: T): T => structuredClone(v);

describe("sim format", () => {
  it("every command reads back from its line as itself", () => {
    fc.assert(
      fc.property(command, (c) => {
        assert.deepEqual(parseSimLine(formatSimCommand(c)), plain(c));
      }),
      { numRuns: 2000 },
    );
  });

  it("a file of commands reads back as the same commands", () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 20 }), (cs) => {
        assert.deepEqual(parseSimFile(formatSimFile(cs)), plain(cs));
      }),
    );
  });

  it("every corpus line prints as git-annex prints it, and that reads back the same", () => {
    for (const [line, c] of GOOD_LINES) {
      const printed = formatSimCommand(c);
      assert.deepEqual(parseSimLine(printed), c, JSON.stringify(line));
      assert.equal(formatSimCommand(parseSimLine(printed)), printed);
    }
  });

  it("prints the normal form of a line: one space between words, sizes in SI units", () => {
    const cases: [string, string][] = [
      ["\tinit   foo ", "init foo"],
      ["use myrepo", "use myrepo "],
      ["add f 1.5TiB a  b", "add f 1.649267441664TB a b"],
      ["add f 0x10kb", "add f 16.0kB"],
      ["addmulti 010 .x 1kib 1mb a", "addmulti 10 .x 1.024kB 1.0MB a"],
      ["maxsize foo 5 ", "maxsize foo 5.0B"],
      ["maxsize foo (-5)kb", "maxsize foo -5.0kB"],
      ["maxsize foo 1QB", "maxsize foo 1000.0RB"], // 10^30 as a Double is a little less
      ["maxsize foo 12345678901234567890", "maxsize foo 12.345678901234567EB"],
      ["maxsize foo 1e400", "maxsize foo InfinityQB"],
      ["rebalance yes", "rebalance on"],
      ["rebalance 0", "rebalance off"],
      ["step (-0x10)", "step -16"],
      ["connect a<->b <-> c", "connect a<->b <-> c"],
      ["connect a <-> b -> c <- d", "connect a <-> b -> c <- d"],
      [
        "action a dropunwanted   while action b sync c",
        "action a dropunwanted while action b sync c",
      ],
      ["  ", ""],
      ["# kept  as\twritten ", "# kept  as\twritten "],
    ];
    for (const [line, printed] of cases) {
      assert.equal(formatSimCommand(parseSimLine(line)), printed, JSON.stringify(line));
    }
  });

  it("sizes print as git-annex's preciseSize without its space", () => {
    assert.equal(formatSimSize(0n), "0.0B");
    assert.equal(formatSimSize(999n), "999.0B");
    assert.equal(formatSimSize(1000n), "1.0kB");
    assert.equal(formatSimSize(1500n), "1.5kB");
    assert.equal(formatSimSize(100_000_000_000n), "100.0GB");
    assert.equal(formatSimSize(-2500n), "-2.5kB");
    assert.equal(formatSimSize(10n ** 33n), "1000.0000000000001QB");
  });

  it("a size printed from infinity does not read back, as in git-annex", () => {
    const big = parseSimLine("maxsize foo 1e400");
    assert.equal(big.kind === "maxsize" && big.size, 2n ** 1024n);
    assert.throws(
      () => parseSimLine(formatSimCommand(big)),
      (e) => e instanceof SimParseError && e.message === 'Unable to parse maxsize "InfinityQB"',
    );
  });

  it("reading any line either succeeds or fails with a SimParseError", () => {
    const anyLine = fc.oneof(
      fc.string(),
      fc
        .array(fc.oneof(word, fc.constantFrom("action", "while", "connect", "->", "<-", "<->")), {
          maxLength: 8,
        })
        .map((ws) => ws.join(" ")),
    );
    fc.assert(
      fc.property(anyLine, (line) => {
        try {
          const c = parseSimLine(line);
          assert.deepEqual(parseSimLine(formatSimCommand(c)), c);
        } catch (e) {
          assert.ok(e instanceof SimParseError, String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
