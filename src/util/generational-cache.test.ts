import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GenerationalCache } from "./index.js";

describe("GenerationalCache", () => {
  it("keeps what is used within its budget and drops the oldest generation", () => {
    // Budget 4: a generation turns old once it weighs 2.
    const cache = new GenerationalCache<string, string>(4, () => 1);
    cache.set("a", "A");
    cache.set("b", "B");
    cache.set("c", "C"); // a and b are now the old generation
    assert.equal(cache.get("a"), "A", "found in the old generation, moved to the young");
    cache.set("d", "D"); // young {c, a} turns old; b is dropped
    assert.equal(cache.get("b"), undefined);
    assert.deepEqual(
      ["a", "c", "d"].map((k) => cache.get(k)),
      ["A", "C", "D"],
    );
  });

  it("weighs values, and a replaced value's weight is not counted twice", () => {
    const cache = new GenerationalCache<string, Buffer>(20, (b) => b.length);
    assert.equal(cache.set("x", Buffer.alloc(8)).length, 8, "set returns the value");
    cache.set("x", Buffer.alloc(9)); // 9, not 17: still one generation
    cache.set("y", Buffer.alloc(1)); // 10: the generation is full now
    assert.equal(cache.get("x")?.length, 9);
    cache.set("z", Buffer.alloc(1)); // a new generation; x and y are old
    assert.equal(cache.get("y")?.length, 1);
    cache.set("w", Buffer.alloc(11)); // young {z, y, w} is over budget / 2
    cache.set("v", Buffer.alloc(1)); // so it turns old, and x is gone
    assert.equal(cache.get("x"), undefined);
    assert.equal(cache.get("w")?.length, 11);
  });
});
