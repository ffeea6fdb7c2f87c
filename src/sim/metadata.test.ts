import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serializeMetaData } from "../branch/index.js";
import { SimError } from "./errors.js";
import { parseModMeta, SimMetaData } from "./metadata.js";

const logged = (m: SimMetaData, key: number) => serializeMetaData(m.of(key) ?? new Map());

describe("sim metadata", () => {
  it("parses changes as parseModMeta, refusing illegal field names", () => {
    assert.deepEqual(parseModMeta("tag+=a=b"), { op: "add", field: "tag", value: "a=b" });
    assert.deepEqual(parseModMeta("tag"), { op: "set", field: "tag", value: "" });
    assert.throws(() => parseModMeta("-x=1"), SimError);
  });

  it("remembers unset values, as Sim.hs addmeta (unionMetaData of the old and modMeta)", () => {
    const m = new SimMetaData();
    m.change(0, parseModMeta("tag=a"));
    m.change(0, parseModMeta("tag=b"));
    m.change(0, parseModMeta("tag=c"));
    assert.equal(logged(m, 0), "tag -a -b +c");
    m.change(0, parseModMeta("tag?=d"));
    m.change(0, parseModMeta("Tag-=c"));
    assert.equal(logged(m, 0), "Tag -a -b -c");
  });

  it("a clone takes a change only when the values differ, ignoring set and unset", () => {
    const m = new SimMetaData();
    m.addRepo();
    m.change(0, parseModMeta("tag=keep"));
    m.updateRepos();
    m.change(0, parseModMeta("tag-=keep"));
    m.updateRepos();
    assert.deepEqual([...(m.currentHeld(0, 0)?.fields.get("tag")?.values ?? [])], ["keep"]);
    // A repository added later gets its clone made with the metadata as it is.
    m.addRepo();
    m.updateRepos();
    assert.equal(m.currentHeld(1, 0)?.fields.size, 0);
    assert.equal(serializeMetaData(m.heldBy(1).get(0)?.logged ?? new Map()), "tag -keep");
  });
});
