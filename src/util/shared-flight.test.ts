import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SharedFlight } from "./index.js";

describe("SharedFlight", () => {
  it("shares work in flight per key, and starts anew once it settled", async () => {
    const flights = new SharedFlight<string, number>();
    let starts = 0;
    let finish!: (n: number) => void;
    const work = () => {
      starts++;
      return new Promise<number>((r) => {
        finish = r;
      });
    };
    const a = flights.run("k", work);
    const b = flights.run("k", work);
    assert.equal(a, b);
    assert.equal(starts, 1);
    finish(7);
    assert.deepEqual(await Promise.all([a, b]), [7, 7]);
    const c = flights.run("k", work);
    assert.equal(starts, 2, "settled work is not reused");
    finish(8);
    assert.equal(await c, 8);
  });

  it("shares a failure too, then lets the next caller try again", async () => {
    const flights = new SharedFlight<string, number>();
    const failing = flights.run("k", () => Promise.reject(new Error("no")));
    const joined = flights.run("k", () => Promise.resolve(1));
    await assert.rejects(failing, /no/);
    await assert.rejects(joined, /no/);
    assert.equal(await flights.run("k", () => Promise.resolve(2)), 2);
  });
});
