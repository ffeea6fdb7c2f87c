import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type OptionTable, optionsHelp, parseOptions } from "./options.js";

const TABLE = {
  jobs: { type: "string", short: "J", value: "N", help: "transfers at once" },
  dir: { type: "string", multiple: true, help: "a folder" },
  quiet: { type: "boolean", help: "say less" },
  "a-very-long-flag-name": {
    type: "string",
    value: "SECONDS",
    help: "words enough to run past one line of the help, so that they are wrapped under the flag column",
  },
} as const satisfies OptionTable;

describe("command-line options from one table", () => {
  it("parses what the table says, short flags and repeats included", () => {
    const { values, positionals } = parseOptions(
      ["-J", "4", "--dir", "a", "--dir=b", "--quiet", "x"],
      TABLE,
      true,
    );
    assert.deepEqual({ ...values }, { jobs: "4", dir: ["a", "b"], quiet: true });
    assert.deepEqual(positionals, ["x"]);
  });

  it("refuses a flag the table lacks, a missing value, and positionals when none are taken", () => {
    assert.throws(() => parseOptions(["--jbos", "4"], TABLE, true), {
      code: "ERR_PARSE_ARGS_UNKNOWN_OPTION",
    });
    assert.throws(() => parseOptions(["--jobs"], TABLE, true), {
      code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
    });
    assert.throws(() => parseOptions(["x"], TABLE, false), {
      code: "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL",
    });
  });

  it("writes one entry per flag, values named, text wrapped under its column", () => {
    const lines = optionsHelp(TABLE).split("\n");
    const entry = (flag: string, text: string) => `  ${flag}`.padEnd(28) + text;
    assert.equal(lines[0], entry("--jobs N, -J N", "transfers at once"));
    assert.equal(lines[1], entry("--dir VALUE", "a folder (may be repeated)"));
    assert.equal(lines[2], entry("--quiet", "say less"));
    // A flag too long for its column gets a line of its own.
    assert.equal(lines[3], "  --a-very-long-flag-name SECONDS");
    const rest = lines.slice(4);
    assert.ok(rest.length >= 2, "wrapped");
    for (const l of rest) {
      assert.match(l, /^ {28}\S/);
      assert.ok(l.length <= 79, l);
    }
    assert.equal(rest.map((l) => l.trim()).join(" "), TABLE["a-very-long-flag-name"].help);
  });
});
