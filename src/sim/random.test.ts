import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatUuid, uuidV5 } from "./identity.js";
import {
  randomBool,
  randomIndex,
  randomInt,
  randomRInt,
  randomRInteger,
  randomWords,
  StdGen,
  simRandom,
} from "./random.js";

/** BigInt reference of splitmix64's step, to check the 32-bit-halves arithmetic against. */
function referenceNext(seed: bigint, gamma: bigint): [bigint, bigint] {
  const m = (1n << 64n) - 1n;
  const s = (seed + gamma) & m;
  let z = s;
  z = ((z ^ (z >> 33n)) * 0xff51afd7ed558ccdn) & m;
  z = ((z ^ (z >> 33n)) * 0xc4ceb9fe1a85ec53n) & m;
  return [z ^ (z >> 33n), s];
}

describe("StdGen (random-1.2.1.1 over splitmix-0.1.0.4)", () => {
  // Values from random-1.2.1.1's own documentation (doctests of System.Random).
  it("draws the Ints that `buildRandoms (:) random (mkStdGen 137)` documents", () => {
    const g = StdGen.make(137n);
    assert.deepEqual(
      [randomInt(g), randomInt(g), randomInt(g), randomInt(g)],
      [7879794327570578227n, 6883935014316540929n, -1519291874655152001n, 2353271688382626589n],
    );
  });

  it("leaves the generator where `uniform (mkStdGen 137) :: Bool` documents", () => {
    const g = StdGen.make(137n);
    assert.equal(randomBool(g), true);
    assert.deepEqual(g.state, { seed: 11285859549637045894n, gamma: 7641485672361121627n });
  });

  it("draws the dice rolls `uniformRM (1, 6)` documents, and uniformR (1, 4) = 4", () => {
    const g = StdGen.make(137n);
    const rolls = Array.from({ length: 10 }, () => randomRInt(g, 1n, 6n));
    assert.deepEqual(rolls, [4n, 2n, 6n, 1n, 6n, 6n, 5n, 1n, 1n, 5n]);
    assert.equal(randomRInt(StdGen.make(137n), 1n, 4n), 4n);
  });

  it("agrees with a BigInt splitmix64 for any seed", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (seed) => {
        const g = StdGen.make(seed);
        let { seed: s, gamma } = g.state;
        for (let i = 0; i < 5; i++) {
          const [word, next] = referenceNext(s, gamma);
          s = next;
          assert.equal(g.nextWord64(), word);
        }
        assert.equal(gamma % 2n, 1n);
      }),
    );
  });

  it("draws nothing for an empty range, and stays within any range", () => {
    const g = StdGen.make(5n);
    const before = g.state;
    assert.equal(randomRInt(g, 7n, 7n), 7n);
    assert.equal(randomRInteger(g, 9n, 9n), 9n);
    assert.equal(randomIndex(g, 1), 0);
    assert.deepEqual(g.state, before);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 70n }),
        fc.bigInt({ min: 0n, max: 1n << 70n }),
        (a, b) => {
          const v = randomRInteger(StdGen.make(a ^ b), a, b);
          const [lo, hi] = a < b ? [a, b] : [b, a];
          assert.ok(v >= lo && v <= hi);
        },
      ),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.bigInt(), (n, seed) => {
        const g1 = StdGen.make(seed);
        const g2 = StdGen.make(seed);
        assert.equal(BigInt(randomIndex(g1, n)), randomRInt(g2, 0n, BigInt(n - 1)));
      }),
    );
  });

  it("simRandom draws the next seed as an Int after the draw", () => {
    const [v, next] = simRandom(137n, randomBool);
    assert.equal(v, true);
    const g = StdGen.make(137n);
    randomBool(g);
    assert.equal(next, randomInt(g));
  });

  it("randomWords lists the last byte drawn first", () => {
    const g = StdGen.make(1n);
    const firsts = [g.nextWord64() & 0xffn, g.nextWord64() & 0xffn, g.nextWord64() & 0xffn];
    const w = randomWords(StdGen.make(1n), 3);
    assert.deepEqual([...w].map(BigInt), [...firsts].reverse());
  });
});

describe("uuidV5", () => {
  it("gives RFC 4122's name-based UUID (python.org in the DNS namespace)", () => {
    const dns = Buffer.from("6ba7b8109dad11d180b400c04fd430c8", "hex");
    assert.equal(
      formatUuid(uuidV5(dns, Buffer.from("python.org"))),
      "886313e1-3b8a-5372-9b90-0c9aee199e5d",
    );
  });
});
