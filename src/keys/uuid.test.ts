import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BadUuidError, genClusterUuid, genUuid, isClusterUuid, parseUuid } from "./index.js";

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("UUIDs", () => {
  it("genUuid makes lower-case random v4 UUIDs", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const u = genUuid();
      assert.match(u, V4);
      assert.equal(isClusterUuid(u), false);
      seen.add(u);
    }
    assert.equal(seen.size, 100);
  });

  it("genClusterUuid marks the UUID as git-annex does", () => {
    for (let i = 0; i < 100; i++) {
      const u = genClusterUuid();
      assert.match(u, /^ac[0-9a-f]{6}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(isClusterUuid(u), true);
      assert.equal(parseUuid(u), u);
    }
  });

  it("isClusterUuid is git-annex's test: 'ac' prefix and '8' at index 14", () => {
    const cases: [string, boolean][] = [
      ["ac000000-0000-8000-0000-000000000000", true],
      ["ac0000000000008", true],
      ["ac000000-0000-4000-8000-000000000000", false],
      ["AC000000-0000-8000-0000-000000000000", false],
      ["ab000000-0000-8000-0000-000000000000", false],
      ["ac", false],
      ["", false],
    ];
    for (const [u, cluster] of cases) assert.equal(isClusterUuid(u), cluster, u);
  });

  it("parseUuid keeps any other non-empty text unchanged", () => {
    for (const u of [
      "00000000-0000-0000-0000-000000000001",
      "1F0E4A9C-3B7D-4E2A-9C1D-5E6F7A8B9C0D",
      "web",
      "ünïcode",
    ]) {
      assert.equal(parseUuid(u), u);
    }
  });

  for (const bad of [
    "",
    " ",
    "a b",
    "a\tb",
    "a\nb",
    "a\rb",
    "a\0b",
    "a/b",
    "x\u00a0y",
    "a\x7f",
    "\ud800",
  ]) {
    it(`parseUuid refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parseUuid(bad),
        (e: unknown) =>
          e instanceof BadUuidError && e.code === "AG_BAD_UUID" && e.data.input === bad,
      );
    });
  }

  it("parseUuid either returns its input or throws BadUuidError (property)", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          return parseUuid(s) === s;
        } catch (e) {
          return e instanceof BadUuidError;
        }
      }),
    );
  });
});
