import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clockFromSeconds } from "./clock.js";
import type { LoggedMetaData } from "./metadata.js";
import { parseMetaDataLog } from "./metadata.js";
import {
  formatMetaDataLog,
  loggedMetaData,
  sameExactly,
  sameValues,
  serializeMetaData,
  simplifyMetaDataLog,
  unionMetaData,
} from "./metadata-write.js";

const meta = (fields: Record<string, Record<string, boolean>>): LoggedMetaData =>
  new Map(
    Object.entries(fields).map(([name, values]) => [
      name.toLowerCase(),
      { name, values: new Map(Object.entries(values)) },
    ]),
  );

describe("metadata logs, written", () => {
  it("serializes fields and values in byte order, base64 where git-annex uses it", () => {
    const m = meta({ tag: { b: true, a: false }, Author: { "!x": true, "two words": true } });
    assert.equal(serializeMetaData(m), "Author +!IXg= +!dHdvIHdvcmRz tag -a +b");
  });

  it("union: the newer name and set flag win; equality ignores the flag unless exact", () => {
    const u = unionMetaData(meta({ author: { alice: true } }), meta({ Author: { alice: false } }));
    assert.equal(serializeMetaData(u), "Author -alice");
    assert.ok(sameValues(u, meta({ author: { alice: true } })));
    assert.ok(!sameExactly(u, meta({ author: { alice: true } })));
  });

  it("simplifies as git-annex's simplifyLog: an older line keeps only what newer ones lack", () => {
    const entries = [
      { clock: clockFromSeconds(100), meta: meta({ foo: { x: true }, bar: { y: true } }) },
      { clock: clockFromSeconds(200), meta: meta({ foo: { x: false } }) },
      { clock: clockFromSeconds(300), meta: meta({ baz: { w: true } }) },
    ];
    // Nothing gets shorter: the log is kept as it is.
    assert.equal(simplifyMetaDataLog(entries), entries);
    const whole = [...entries, { clock: clockFromSeconds(400), meta: meta({ foo: { x: true } }) }];
    assert.equal(
      formatMetaDataLog(simplifyMetaDataLog(whole)),
      "100s bar +y\n300s baz +w\n400s foo +x\n",
    );
    const text = formatMetaDataLog(whole);
    assert.equal(serializeMetaData(loggedMetaData(parseMetaDataLog(text))), "bar +y baz +w foo +x");
  });
});
