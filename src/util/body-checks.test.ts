import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LastChunk, LengthBudget } from "./index.js";

describe("LastChunk", () => {
  it("gives back every chunk but the last, in order, and keeps the last", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 5 }), { maxLength: 10 }), (arrays) => {
        const chunks = arrays.map((a) => Buffer.from(a));
        const last = new LastChunk();
        const passed = chunks.map((c) => last.hold(c)).filter((c) => c !== null);
        assert.deepEqual(passed, chunks.slice(0, -1));
        assert.equal(last.take(), chunks.length > 0 ? chunks.at(-1) : null);
        assert.equal(last.take(), null, "taken once");
      }),
    );
  });
});

describe("LengthBudget", () => {
  it("passes exactly the promised bytes and says whether the data was short, exact or long", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 40 }),
        fc.array(fc.uint8Array({ maxLength: 9 }), { maxLength: 8 }),
        (length, arrays) => {
          const chunks = arrays.map((a) => Buffer.from(a));
          const budget = new LengthBudget(length);
          const passed = Buffer.concat(chunks.map((c) => budget.take(c)));
          const all = Buffer.concat(chunks);
          assert.deepEqual(passed, all.subarray(0, length));
          assert.equal(budget.passed, Math.min(length, all.length));
          const want = all.length > length ? "long" : all.length === length ? "exact" : "short";
          assert.equal(budget.outcome, want);
          assert.equal(budget.long, want === "long");
        },
      ),
    );
  });

  it("marks the data long at the first byte past the length, even in a chunk of its own", () => {
    const budget = new LengthBudget(2);
    assert.equal(budget.take(Buffer.from("ab")).toString(), "ab");
    assert.equal(budget.take(Buffer.alloc(0)).length, 0);
    assert.equal(budget.long, false);
    assert.equal(budget.take(Buffer.from("c")).length, 0);
    assert.equal(budget.outcome, "long");
  });
});
