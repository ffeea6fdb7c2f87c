import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BAD_LINES, GOOD_LINES } from "./corpus.fixture.js";
import {
  type Connections,
  firstConnection,
  leftSideOfConnection,
  parseSimFile,
  parseSimLine,
  parseSimWords,
  readTrueFalse,
  SimParseError,
  simLines,
  simWords,
} from "./index.js";

function parseError(f: () => unknown): SimParseError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SimParseError, `not a SimParseError: ${String(e)}`);
    return e;
  }
  assert.fail("no error");
}

describe("sim lines", () => {
  it("read every command as git-annex does", () => {
    for (const [line, command] of GOOD_LINES) {
      assert.deepEqual(parseSimLine(line), command, JSON.stringify(line));
    }
  });

  it("refuse malformed lines with git-annex's message", () => {
    for (const [line, message] of BAD_LINES) {
      const e = parseError(() => parseSimLine(line));
      assert.equal(e.message, message, JSON.stringify(line));
      assert.equal(e.code, "AG_SIM_PARSE");
      assert.equal(e.data.line, null);
    }
  });

  it("words of a command line are taken as given, with no comments or blanks", () => {
    assert.deepEqual(parseSimWords(["use", "r", "a  b"]), { kind: "use", repo: "r", what: "a  b" });
    assert.equal(parseError(() => parseSimWords([])).message, 'Unable to parse sim command: ""');
    assert.equal(
      parseError(() => parseSimWords(["#", "x"])).message,
      'Unable to parse sim command: "# x"',
    );
    // A name of an inherited object property is no command.
    assert.equal(
      parseError(() => parseSimWords(["constructor"])).message,
      'Unable to parse sim command: "constructor"',
    );
  });

  it("split words at Haskell's white space only", () => {
    assert.deepEqual(simWords(" a\tb\u000bc\u000cd\re\u00a0f\u2003g "), [
      "a",
      "b",
      "c",
      "d",
      "e",
      "f",
      "g",
    ]);
    // NEL, zero-width space and line separator are not white space to Haskell
    assert.deepEqual(simWords("a\u0085b\u200bc\u2028d"), ["a\u0085b\u200bc\u2028d"]);
  });
});

describe("sim files", () => {
  it("split lines as Haskell's lines does", () => {
    assert.deepEqual(simLines(""), []);
    assert.deepEqual(simLines("\n"), [""]);
    assert.deepEqual(simLines("a"), ["a"]);
    assert.deepEqual(simLines("a\n\nb\n"), ["a", "", "b"]);
    assert.deepEqual(simLines("a\r\nb"), ["a\r", "b"]);
  });

  it("read every line, comments and blank lines kept", () => {
    const text = "# sim\ninit foo\n\n-- note\r\nstep 3\r\n";
    assert.deepEqual(parseSimFile(text), [
      { kind: "comment", text: "# sim" },
      { kind: "init", repo: "foo" },
      { kind: "blank" },
      { kind: "comment", text: "-- note\r" },
      { kind: "step", steps: 3n },
    ]);
  });

  it("stop at the first bad line, and say which line it is", () => {
    const e = parseError(() => parseSimFile("init foo\n# fine\nstep x\nbogus\n"));
    assert.equal(e.message, 'Unable to parse step value "x"');
    assert.equal(e.data.line, 3);
  });
});

describe("sim values", () => {
  it("on/off as git's booleans", () => {
    const cases: [string, boolean | null][] = [
      ["on", true],
      ["YES", true],
      ["True", true],
      ["1", true],
      ["00", true],
      ["-", true],
      ["-12", true],
      ["off", false],
      ["No", false],
      ["FALSE", false],
      ["0", false],
      ["", false],
      ["onn", null],
      ["y", null],
      ["1.0", null],
      ["\u0130", null],
    ];
    for (const [text, value] of cases) assert.equal(readTrueFalse(text), value, text);
  });
});

describe("connections", () => {
  const chain = (line: string): Connections => {
    const c = parseSimLine(`connect ${line}`);
    if (c.kind !== "connect") assert.fail(`not a connect: ${line}`);
    return c.connections;
  };

  it("the left side of a chain is its first name", () => {
    for (const line of [
      "a -> b",
      "a <- b",
      "a <-> b",
      "a -> b <- c",
      "a <- b -> c",
      "a <-> b <-> c",
    ]) {
      assert.equal(leftSideOfConnection(chain(line)), "a", line);
    }
  });

  it("steps through a chain as git-annex's getConnection does", () => {
    const steps = (line: string): string[] => {
      const out: string[] = [];
      let c: Connections | null = chain(line);
      while (c !== null) {
        const s = firstConnection(c);
        out.push(`${s.repo}:${s.remote}`);
        c = s.rest;
      }
      return out;
    };
    assert.deepEqual(steps("a -> b"), ["a:b"]);
    assert.deepEqual(steps("a <- b"), ["b:a"]);
    assert.deepEqual(steps("a <-> b"), ["a:b", "b:a"]);
    assert.deepEqual(steps("a -> b -> c -> a"), ["a:b", "b:c", "c:a"]);
    assert.deepEqual(steps("a -> b <- c"), ["a:b", "c:b"]);
    // git-annex's own quirk: after "a <->" in a chain, "a ->" comes again
    assert.deepEqual(steps("a <-> b <-> c"), ["a:b", "a:b", "b:c", "c:b"]);
  });
});
