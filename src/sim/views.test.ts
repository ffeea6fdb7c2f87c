import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { ActionGroup } from "./actions.js";
import { Candidates } from "./step.js";
import { LocationViews } from "./views.js";

const SIZES = [10, 20, 30];

function views(n: number): LocationViews {
  const v = new LocationViews((k) => SIZES[k] ?? 0);
  for (let i = 0; i < n; i++) v.addView();
  v.ensureKeys(SIZES.length);
  return v;
}

describe("LocationViews", () => {
  it("keeps an equally old record (git-annex's insertWith keeps the old one on a tie)", () => {
    const v = views(1);
    v.setPresent(0, 0, 1, true, 5);
    v.setPresent(0, 0, 1, false, 5);
    assert.equal(v.has(0, 0, 1), true);
    // …but the live size moved both times, as rememberLiveSizeChanges does.
    assert.equal(v.view(0).liveSizes[0], 0);
    v.setPresent(0, 0, 1, false, 6);
    assert.equal(v.has(0, 0, 1), false);
  });

  it("merges the newer record of each cell, the source's on a tie, and recounts sizes", () => {
    const v = views(2);
    v.setPresent(0, 1, 0, true, 3);
    v.setPresent(1, 1, 0, false, 2);
    v.setPresent(1, 1, 2, true, 4);
    v.setPresent(0, 0, 1, true, 7);
    v.setPresent(1, 0, 1, false, 7);
    v.merge(1, 0);
    assert.deepEqual(v.holders(0, 0), [1]);
    assert.deepEqual(v.holders(0, 2), [1]);
    assert.deepEqual(v.holders(0, 1), []);
    assert.deepEqual([...v.view(0).liveSizes], [undefined, 40]);
  });

  it("takes back the writes since beginUndo", () => {
    const v = views(1);
    v.setPresent(0, 0, 0, true, 1);
    v.beginUndo();
    v.setPresent(0, 0, 1, true, 2);
    v.setPresent(0, 0, 0, false, 2);
    v.rollback();
    assert.deepEqual(v.holders(0, 0), [0]);
    assert.deepEqual(v.holders(0, 1), []);
    assert.equal(v.view(0).liveSizes[0], 10);
  });

  it("grows every column when keys are added", () => {
    const v = views(1);
    v.setPresent(0, 0, 2, true, 1);
    v.ensureKeys(5000);
    v.setPresent(0, 0, 4999, true, 1);
    assert.equal(v.has(0, 0, 2), true);
    assert.equal(v.has(0, 0, 4999), true);
  });
});

describe("LocationViews' records", () => {
  it("agree with a map of cells, past the slots a key keeps inline and back after undo", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(7),
            fc.nat(2),
            fc.boolean(),
            fc.integer({ min: 1, max: 9 }),
            fc.boolean(),
          ),
          { maxLength: 80 },
        ),
        (ops) => {
          const v = views(1);
          const model = new Map<string, number>();
          for (const [repo, key, present, clock, undo] of ops) {
            const saved = new Map(model);
            v.beginUndo();
            v.setPresent(0, repo, key, present, clock);
            const id = `${repo}/${key}`;
            const old = model.get(id) ?? 0;
            if (old === 0 || clock > Math.abs(old)) model.set(id, present ? clock : -clock);
            if (undo) {
              v.rollback();
              model.clear();
              for (const [k, c] of saved) model.set(k, c);
            } else v.endUndo();
          }
          for (let key = 0; key < 3; key++) {
            const want = [...model]
              .filter(([id, c]) => id.endsWith(`/${key}`) && c > 0)
              .map(([id]) => Number(id.split("/")[0]))
              .sort((a, b) => a - b);
            assert.deepEqual(v.holders(0, key), want);
          }
        },
      ),
    );
  });
});

describe("Candidates", () => {
  it("takes out the drawn remaining component, keeping the order of the rest", () => {
    const group = (n: number): ActionGroup => ({
      kind: "dropunwanted",
      repo: 0,
      from: n,
      fromName: String(n),
      remotes: new Set(),
      files: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, key: i })),
    });
    const groups = [group(3), group(0), group(2)];
    const c = new Candidates(groups);
    const order: string[] = [];
    const list = groups.flatMap((g) => g.files.map((_, i) => `${g.files.length}:${i}`));
    for (const index of [1, 0, 2, 1, 0]) {
      const [g, i] = c.take(index);
      order.push(`${g.files.length}:${i}`);
      assert.equal(order.at(-1), list.splice(index, 1)[0]);
    }
    assert.equal(c.remaining, 0);
  });

  it("agrees with splicing a list, for any sizes and draws", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 300 }),
        (sizes, draws) => {
          const groups = sizes.map(
            (n, g): ActionGroup => ({
              kind: "dropunwanted",
              repo: 0,
              from: g,
              fromName: String(g),
              remotes: new Set(),
              files: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, key: i })),
            }),
          );
          const list = groups.flatMap((g, n) => g.files.map((_, i) => `${n}:${i}`));
          const c = new Candidates(groups);
          for (const d of draws) {
            if (list.length === 0) break;
            const index = d % list.length;
            const [g, i] = c.take(index);
            assert.equal(`${groups.indexOf(g)}:${i}`, list.splice(index, 1)[0]);
            assert.equal(c.remaining, list.length);
          }
        },
      ),
    );
  });
});
