import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { branchPathOf, discardIncompleteAppend, journalFileName } from "./journal.js";
import { containsLines, unionMerge } from "./union.js";

describe("journal file names", () => {
  it("escape / and _ as git-annex does", () => {
    assert.equal(journalFileName("abc/def/SHA256E-s1--x_y.log"), "abc_def_SHA256E-s1--x__y.log");
    assert.equal(journalFileName("uuid.log"), "uuid.log");
    assert.equal(branchPathOf("abc_def_SHA256E-s1--x__y.log"), "abc/def/SHA256E-s1--x_y.log");
  });

  it("round-trip for paths without a segment that starts with _", () => {
    const segment = fc
      .string({ unit: fc.constantFrom("a", "_", ".", "é"), minLength: 1 })
      .filter((s) => !s.startsWith("_"));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const p = segments.join("/");
        assert.equal(branchPathOf(journalFileName(p)), p);
      }),
    );
    // git-annex's own escaping cannot tell these apart
    assert.equal(branchPathOf(journalFileName("a/_b")), "a_/b");
  });

  it("drop an incomplete last line", () => {
    assert.equal(discardIncompleteAppend(Buffer.from("a\nb")).toString(), "a\n");
    assert.equal(discardIncompleteAppend(Buffer.from("ab")).toString(), "");
    assert.equal(discardIncompleteAppend(Buffer.from("a\n")).toString(), "a\n");
  });
});

describe("union merge", () => {
  it("takes the sorted unique lines, reusing a version that already is that", () => {
    assert.equal(unionMerge(["b\na\n", "c\na\n"]), "a\nb\nc\n");
    assert.equal(unionMerge(["a\nb\n", "b\n"]), "a\nb\n");
    assert.equal(unionMerge(["", ""]), "");
    assert.ok(containsLines("a\nb\n", "b\n"));
    assert.ok(!containsLines("a\n", "b\n"));
  });

  it("contains every line of every version", () => {
    const text = fc
      .array(fc.constantFrom("x", "y", "z", ""), { maxLength: 5 })
      .map((l) => l.map((s) => `${s}\n`).join(""));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), (versions) => {
        const m = unionMerge(versions);
        for (const v of versions) assert.ok(containsLines(m, v));
      }),
    );
  });
});
