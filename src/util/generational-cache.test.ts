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
    // Budget 20: a generation turns old once it weighs 10.
    const cache = new GenerationalCache<string, Buffer>(20, (b) => b.length);
    assert.equal(cache.set("x", Buffer.alloc(8)).length, 8, "set returns the value");
    cache.set("x", Buffer.alloc(9)); // young {x} weighs 9 (counted twice: 17, full)
    cache.set("y", Buffer.alloc(1)); // young {x, y}: 10, full
    cache.set("z", Buffer.alloc(9)); // old {x, y}, young {z}
    cache.set("v", Buffer.alloc(1)); // young {z, v}: full
    // Counted twice, x would have turned old at y and been dropped at v.
    assert.equal(cache.get("x")?.length, 9); // old {z, v}, young {x}; y is gone
    assert.equal(cache.get("y"), undefined);
    cache.set("w", Buffer.alloc(11)); // young {x, w}: 20
    cache.set("u", Buffer.alloc(1)); // old {x, w}, young {u}; z and v are gone
    assert.equal(cache.get("z"), undefined);
    assert.equal(cache.get("w")?.length, 11);
  });
});
