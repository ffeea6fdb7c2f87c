import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readishInt, readWholeInteger } from "./index.js";

describe("readWholeInteger", () => {
  it("reads what Haskell's readMaybe reads as an Integer", () => {
    const cases: [string, bigint][] = [
      ["0", 0n],
      ["007", 7n],
      [" 7", 7n],
      ["7\n", 7n],
      ["(7)", 7n],
      ["( ( 7 ) )", 7n],
      ["-7", -7n],
      ["- 7", -7n],
      ["(-7)", -7n],
      ["-0", 0n],
      ["0x1F", 31n],
      ["0X1f", 31n],
      ["0o17", 15n],
      ["-0x10", -16n],
      ["99999999999999999999999", 99999999999999999999999n],
    ];
    for (const [text, want] of cases) assert.equal(readWholeInteger(text), want, text);
  });

  it("refuses what it does not", () => {
    for (const text of [
      "",
      " ",
      "x",
      "+7",
      "--7",
      "-(7)",
      "(7",
      "7)",
      "((7)",
      "7.0",
      "1e2",
      "1_0",
      "0b11",
      "0x",
      "0xg",
      "7a",
      "0o8",
      "\u0667",
    ]) {
      assert.equal(readWholeInteger(text), null, JSON.stringify(text));
    }
  });
});

describe("readishInt", () => {
  it("reads the number at the front as git-annex's readish at Int does", () => {
    assert.equal(readishInt("2"), 2);
    assert.equal(readishInt("2abc"), 2);
    assert.equal(readishInt("-1"), -1);
    assert.equal(readishInt("0x10"), 16);
    assert.equal(readishInt("2.5"), null);
    assert.equal(readishInt("2e3"), null);
    assert.equal(readishInt("2."), 2);
    assert.equal(readishInt(""), null);
    assert.equal(readishInt("+2"), null);
  });

  it("takes white space and parentheses as Haskell's reads does, and wraps at 64 bits", () => {
    assert.equal(readishInt(" 2"), 2);
    assert.equal(readishInt("(3)x"), 3);
    assert.equal(readishInt("- 4"), -4);
    assert.equal(readishInt("0o17"), 15);
    assert.equal(readishInt("18446744073709551617"), 1);
  });
});
