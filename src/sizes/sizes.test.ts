import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { readDouble, readInteger, roundHalfEven, showDouble } from "./haskell-number.js";
import {
  BadSizeError,
  COMMITTEE_UNITS,
  DATA_UNITS,
  parseSize,
  preciseSize,
  repoHasSpace,
  roughSize,
  STORAGE_UNITS,
  showPercentage,
} from "./index.js";

/*
 * Answers stock git-annex 10.20250416 gave for `git annex maxsize here SIZE`
 * followed by `git annex maxsize here --bytes` (null: "Unable to parse size").
 * They pin down GHC's number reading and rounding, which are easy to get
 * subtly wrong. test/interop/repo-sizes.test.ts asks git-annex live too.
 */
const OBSERVED: readonly [string, string | null][] = [
  ["100gb", "100000000000"],
  ["1.5 TiB", "1649267441664"],
  ["10 megabytes", "10000000"],
  ["0x10kb", "16000"],
  ["1e3kb", "1000000"],
  ["1e", "1000000000000000000"], // "e" is "eB", an exabyte
  ["1.kb", "1"], // "1" then ".kb": no letters right after, so bytes
  [" ( 5 ) kb", "5000"],
  ["((2))mb", "2000000"],
  ["(-5)", "-5"],
  ["2.5", "2"],
  ["3.5", "4"],
  ["0.5", "0"],
  ["5kbit", "625"],
  ["5 KIB", "5120"],
  ["1 ki", "1024"],
  ["5 B junk", "5"],
  ["5!kb", "5"],
  ["0o17", "15"],
  ["1.5e-2kb", "15"],
  ["1e-3kb", "1"],
  ["1 QB", "999999999999999879147136483328"],
  ["3 YB", "2999999999999999949668352"],
  ["7 ZiB", "8264141345021879123968"],
  ["0.1 qb", "99999999999999991433150857216"],
  ["2 yottabits", "249999999999999995805696"],
  ["0x1fffffffffffffffff", "590295810358705651712"],
  ["123456789012345678901234567890", "123456789012345677877719597056"],
  ["1e-400", "0"],
  ["Infinity", (2n ** 1024n).toString()],
  ["NaN", (-(2n ** 1024n + 2n ** 1023n)).toString()],
  [".5", null],
  ["5 gbs", null],
  ["12 x", null],
  ["0x", null],
  ["0xkb", null],
  ["5 NaN", null],
  ["Infinitykb", null],
];

describe("parseSize", () => {
  it("gives what git-annex gives", () => {
    for (const [input, want] of OBSERVED) {
      if (want === null) {
        assert.throws(() => parseSize(input), BadSizeError, input);
      } else {
        assert.equal(parseSize(input).toString(), want, input);
      }
    }
  });

  it("reads plain integers exactly", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), (n) => {
        assert.equal(parseSize(n.toString()), n);
      }),
    );
  });

  it("knows every unit by abbreviation, name and plural, in any case", () => {
    const small = DATA_UNITS.filter((u) => u.bytes < 2n ** 40n);
    fc.assert(
      fc.property(
        fc.constantFrom(...small),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom<"abbrev" | "name" | "plural">("abbrev", "name", "plural"),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.constantFrom("", " ", "  "),
        (unit, k, form, upper, space) => {
          const word =
            form === "abbrev" ? unit.abbrev : form === "name" ? unit.name : `${unit.name}s`;
          const cased = [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("");
          const got = parseSize(`${k}${space}${cased}`);
          // "kb" means kilobyte before it could mean kilobit, so bit units
          // only get their own value by their own spelling.
          assert.equal(got, BigInt(k) * unit.bytes, `${k}${space}${cased}`);
        },
      ),
    );
  });

  it("SI and IEC abbreviations differ: 1 kb is 1000 bytes, 1 KiB 1024", () => {
    assert.equal(parseSize("1 kb"), 1000n);
    assert.equal(parseSize("1 KB"), 1000n);
    assert.equal(parseSize("1 KiB"), 1024n);
    assert.equal(parseSize("1.5 TiB"), 3n * 2n ** 39n);
    assert.equal(parseSize("10 megabytes"), 10_000_000n);
    assert.equal(parseSize("10 mebibytes"), 10n * 2n ** 20n);
  });

  it("never fails except with BadSizeError", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => {
        try {
          assert.equal(typeof parseSize(s), "bigint");
        } catch (err) {
          assert.ok(err instanceof BadSizeError, String(err));
          assert.equal(err.code, "AG_BAD_SIZE");
          assert.equal(err.data.input, s);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("reads back what preciseSize shows, to double precision", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.boolean(), (n, short) => {
        for (const units of [STORAGE_UNITS, COMMITTEE_UNITS]) {
          const back = parseSize(preciseSize(n, { units, short }));
          const err = back > n ? back - n : n - back;
          assert.ok(err * 2n ** 50n <= n, `${n} -> ${preciseSize(n, { units, short })} -> ${back}`);
        }
      }),
    );
  });
});

describe("roughSize and preciseSize", () => {
  it("show sizes the way git annex info and maxsize do", () => {
    assert.equal(roughSize(3006n), "3.01 kilobytes");
    assert.equal(roughSize(3006n, { short: true }), "3.01 kB");
    assert.equal(roughSize(6n), "6 bytes");
    assert.equal(roughSize(1n), "1 byte");
    assert.equal(roughSize(0n, { short: true }), "0 B");
    assert.equal(roughSize(1000n), "1 kilobyte");
    assert.equal(roughSize(1500n, { short: true }, 0), "2 kB"); // ties to even
    assert.equal(roughSize(2500n, { short: true }, 0), "2 kB");
    assert.equal(roughSize(32n * 2n ** 20n, { units: COMMITTEE_UNITS }), "32 mebibytes");
    assert.equal(roughSize(-3006n, { short: true }), "-3.01 kB");
    assert.equal(preciseSize(1500n, { short: true }), "1.5 kB");
    assert.equal(preciseSize(1000n, { short: true }), "1.0 kB");
    assert.equal(preciseSize(10n ** 30n * 12345n, { short: true }), "12345.0 QB");
    assert.equal(preciseSize(10n ** 37n, { short: true }), "1.0e7 QB");
  });

  it("rough sizes pick the largest unit reached and at most two decimals", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 33n }), (n) => {
        const s = roughSize(n, { short: true });
        const m = /^(\d+)(?:\.(\d{1,2}))? (\S+)$/.exec(s);
        assert.ok(m !== null, s);
        const unit = STORAGE_UNITS.find((u) => u.abbrev === m[3]);
        assert.ok(unit !== undefined, s);
        assert.ok(n >= unit.bytes || unit.bytes === 1n, s);
        assert.ok(!(m[2] ?? "").endsWith("0"), s);
      }),
    );
  });

  it("showPercentage rounds like git-annex", () => {
    assert.equal(showPercentage(1500n, 6n), "0%");
    assert.equal(showPercentage(8n, 3n), "38%");
    assert.equal(showPercentage(8n, 3n, 1), "37.5%");
    assert.equal(showPercentage(0n, 3n), "0%");
  });
});

describe("GHC number helpers", () => {
  it("show a Double as GHC does", () => {
    const cases: [number, string][] = [
      [1, "1.0"],
      [0.1, "0.1"],
      [0.5, "0.5"],
      [0.05, "5.0e-2"],
      [1234567, "1234567.0"],
      [12345678, "1.2345678e7"],
      [1e7, "1.0e7"],
      [1.5, "1.5"],
      [0, "0.0"],
      [-2.25, "-2.25"],
    ];
    for (const [x, s] of cases) assert.equal(showDouble(x), s, String(x));
  });

  it("round halves to even", () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [
      0n,
      2n,
      2n,
      0n,
      -2n,
      2n,
      3n,
    ]);
  });

  it("reads integers as readish does", () => {
    assert.deepEqual(readInteger(" 12 junk"), { value: 12n, rest: " junk" });
    assert.deepEqual(readInteger("(-0x1F)"), { value: -31n, rest: "" });
    assert.deepEqual(readInteger("5e"), { value: 5n, rest: "e" });
    assert.deepEqual(readInteger("0o8"), { value: 0n, rest: "o8" });
    assert.equal(readInteger("1.5"), null);
    assert.equal(readInteger("1e3"), null);
    assert.equal(readInteger("x"), null);
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), (n) => {
        assert.deepEqual(readInteger(n.toString()), { value: n, rest: "" });
      }),
    );
  });

  it("reads the longest number, leaving the rest", () => {
    assert.deepEqual(readDouble("1e5kb"), { value: 1e5, rest: "kb" });
    assert.deepEqual(readDouble("1ekb"), { value: 1, rest: "ekb" });
    assert.deepEqual(readDouble("- 2x"), { value: -2, rest: "x" });
    assert.equal(readDouble("+2"), null);
    assert.equal(readDouble("(2"), null);
  });
});

describe("repoHasSpace", () => {
  it("answers as git-annex's repoHasSpace, in numbers and in bigints", () => {
    assert.equal(repoHasSpace(10, false, 90, 100), true);
    assert.equal(repoHasSpace(11, false, 90, 100), false);
    assert.equal(repoHasSpace(11, true, 100, 100), true, "a key already there takes no more room");
    assert.equal(repoHasSpace(0, true, 101, 100), false);
    assert.equal(repoHasSpace(10n, false, 90n, 100n), true);
    assert.equal(repoHasSpace(11n, false, 90n, 100n), false);
    assert.equal(repoHasSpace(11n, true, 100n, 100n), true);
  });
});
