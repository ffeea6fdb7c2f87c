/**
 * The p2phttp codec both ways: what the client side formats (URLs, request
 * paths, query values, unlock lines) the server side reads back unchanged,
 * and what the server side formats (JSON answers) the client side parses
 * back unchanged; malformed answers are a typed error, never anything else.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatKey } from "../keys/index.js";
import { keyArb } from "./arbitraries.test.js";
import {
  type ApiVersion,
  decodeB64Value,
  decodeIntegerValue,
  decodeKeyValue,
  decodeUuidValue,
  formatApiPath,
  formatApiQuery,
  formatP2pHttpUrl,
  HttpAnswerError,
  HttpUrlError,
  lockJson,
  OPERATION_VERSIONS,
  type Operation,
  parseLockJson,
  parseP2pHttpUrl,
  parsePresentJson,
  parsePutOffsetJson,
  parseRemovedJson,
  parseStoredJson,
  parseTimestampJson,
  parseUnlockJson,
  presentJson,
  putOffsetJson,
  removedJson,
  routeApiPath,
  storedJson,
  timestampJson,
  unlockJson,
} from "./index.js";

const versionArb = fc.constantFrom<ApiVersion>(0, 1, 2, 3, 4);
/** Any non-empty text, brackets and odd code points included (a UUID is just text to the API). */
const uuidArb = fc.oneof(
  fc.uuid(),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => `[${s}]`),
);
const uuidsArb = fc.array(uuidArb, { maxLength: 4 });
const countArb = fc.maxSafeNat();

describe("p2phttp URLs", () => {
  const hostArb = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9]{0,5}){0,2}$/),
    fc.ipV4(),
    fc.constantFrom("::1", "fe80::1", "2001:db8::8:800:200c:417a"),
  );
  const segmentArb = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
  const endpointArb = fc.record({
    secure: fc.boolean(),
    hostname: hostArb,
    port: fc.integer({ min: 1, max: 65535 }),
    prefix: fc
      .array(segmentArb, { maxLength: 3 })
      .map((segs) => `/${segs.map((s) => `${s}/`).join("")}git-annex/`),
  });

  it("parse reads back what format writes", () => {
    fc.assert(
      fc.property(endpointArb, (e) => {
        assert.deepEqual(parseP2pHttpUrl(formatP2pHttpUrl(e)), { ...e });
      }),
    );
  });

  it("takes the git-annex segment as optional and 9417 as the default port", () => {
    assert.deepEqual(parseP2pHttpUrl("annex+https://h/sub/dir"), {
      secure: true,
      hostname: "h",
      port: 9417,
      prefix: "/sub/dir/git-annex/",
    });
    assert.equal(parseP2pHttpUrl("http://[::1]:80/git-annex").hostname, "::1");
    // A scheme's default port, written out, is still the port meant.
    assert.equal(parseP2pHttpUrl("annex+http://h:80/").port, 80);
    assert.equal(parseP2pHttpUrl("annex+https://user:pw@h:443/x").port, 443);
    assert.equal(parseP2pHttpUrl("annex+https://h/x:80").port, 9417);
  });

  it("refuses anything but http(s) with a typed error", () => {
    for (const bad of ["annex+ftp://h/", "not a url", "", "annex+", "file:///x"]) {
      assert.throws(() => parseP2pHttpUrl(bad), HttpUrlError, bad);
    }
  });
});

describe("request paths and query values", () => {
  const opVersionArb = fc
    .constantFrom(...(Object.keys(OPERATION_VERSIONS) as Operation[]))
    .chain((operation) =>
      fc.record({
        operation: fc.constant(operation),
        version: fc.constantFrom(...OPERATION_VERSIONS[operation]),
      }),
    );

  it("routeApiPath and the value decoders read back what formatApiPath writes", () => {
    fc.assert(
      fc.property(opVersionArb, uuidArb, keyArb, ({ operation, version }, uuid, key) => {
        const path = formatApiPath("/sub/git-annex/", {
          uuid,
          version,
          operation,
          ...(operation === "key" ? { key } : {}),
        });
        assert.ok(path.startsWith("/sub/git-annex/"));
        const routed = routeApiPath(path.slice("/sub".length));
        assert.equal(routed.kind, "versioned");
        if (routed.kind !== "versioned") return;
        assert.equal(routed.operation, operation);
        assert.equal(routed.version, version);
        assert.equal(decodeUuidValue(routed.uuid, "capture serveruuid"), uuid);
        if (operation === "key") {
          const back = decodeKeyValue(routed.key ?? "", "capture key");
          assert.equal(formatKey(back), formatKey(key));
        }
      }),
    );
  });

  it("the server's decoders read back every query value formatApiQuery writes", () => {
    const queryArb = fc.record(
      {
        key: keyArb,
        clientUuid: uuidArb,
        bypass: uuidsArb,
        associatedFile: fc.string({ unit: "grapheme", maxLength: 30 }),
        offset: countArb,
        timestamp: countArb,
        lockId: uuidArb,
        dataPresent: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(versionArb, queryArb, (version, q) => {
        const params = new URLSearchParams(formatApiQuery(version, q));
        const read = <T>(name: string, decode: (text: string) => T): T | undefined => {
          const v = params.get(name);
          return v === null ? undefined : decode(v);
        };
        assert.equal(
          read("key", (t) => formatKey(decodeKeyValue(t, "key"))),
          q.key && formatKey(q.key),
        );
        assert.equal(
          read("clientuuid", (t) => decodeUuidValue(t, "clientuuid")),
          q.clientUuid,
        );
        assert.equal(
          read("associatedfile", (t) => Buffer.from(decodeB64Value(t)).toString("utf8")),
          q.associatedFile,
        );
        assert.equal(
          read("offset", (t) => decodeIntegerValue(t, "offset")),
          q.offset,
        );
        assert.equal(
          read("timestamp", (t) => decodeIntegerValue(t, "timestamp")),
          q.timestamp,
        );
        assert.equal(
          read("lockid", (t) => decodeUuidValue(t, "lockid")),
          q.lockId,
        );
        assert.equal(
          read("data-present", (t) => t === "true"),
          q.dataPresent,
        );
        // bypass exists from v2 on; older servers are not sent it.
        const bypass = params.getAll("bypass").map((b) => decodeUuidValue(b, "bypass"));
        assert.deepEqual(bypass, version >= 2 ? (q.bypass ?? []) : []);
      }),
    );
  });
});

describe("JSON answers", () => {
  it("the client parses back every answer the server formats", () => {
    fc.assert(
      fc.property(versionArb, fc.boolean(), uuidsArb, countArb, uuidArb, (v, ok, plus, n, id) => {
        const expectPlus = v >= 2 ? plus : [];
        assert.deepEqual(parsePresentJson(presentJson(ok)), { present: ok });
        assert.deepEqual(parseRemovedJson(removedJson(v, ok, plus)), {
          removed: ok,
          plusUuids: expectPlus,
        });
        assert.deepEqual(parseStoredJson(storedJson(v, ok, plus)), {
          stored: ok,
          plusUuids: expectPlus,
        });
        assert.deepEqual(parsePutOffsetJson(putOffsetJson(v, { alreadyHave: false, offset: n })), {
          alreadyHave: false,
          offset: n,
        });
        assert.deepEqual(
          parsePutOffsetJson(putOffsetJson(v, { alreadyHave: true, plusUuids: plus })),
          { alreadyHave: true, plusUuids: expectPlus },
        );
        assert.deepEqual(parseLockJson(lockJson(false)), { locked: false });
        assert.deepEqual(parseLockJson(lockJson(true, id)), { locked: true, lockId: id });
        assert.equal(parseTimestampJson(timestampJson(n)), n);
        assert.equal(parseUnlockJson(unlockJson(ok).trimEnd()), ok);
      }),
    );
  });

  it("wraps plus UUIDs that would not read back, as git-annex's B64UUID does", () => {
    assert.equal(storedJson(2, true, ["[x]"]), '{"plusuuids":["[W3hd]"],"stored":true}');
    assert.equal(storedJson(2, true, ["u1"]), '{"plusuuids":["u1"],"stored":true}');
  });

  it("refuses any malformed answer with HttpAnswerError and nothing else", () => {
    // Each is refused by the parser named with it.
    const fixed: Array<[(text: string) => unknown, string]> = [
      [parsePresentJson, ""],
      [parsePresentJson, "null"],
      [parseRemovedJson, "[]"],
      [parseStoredJson, "5"],
      [parsePresentJson, '{"present":"yes"}'],
      [parseRemovedJson, '{"removed":true,"plusuuids":"u"}'],
      [parseStoredJson, '{"stored":true,"plusuuids":[1]}'],
      [parseStoredJson, '{"stored":true,"plusuuids":["[!!]"]}'],
      [parsePutOffsetJson, '{"offset":-1}'],
      [parsePutOffsetJson, '{"offset":1.5}'],
      [parseLockJson, '{"locked":true}'],
      [parseLockJson, '{"locked":true,"lockid":""}'],
      [parseTimestampJson, '{"timestamp":1e300}'],
    ];
    for (const [parse, text] of fixed) assert.throws(() => parse(text), HttpAnswerError, text);
    const parsers = [...new Set(fixed.map(([p]) => p))];
    const anyText = fc.oneof(fc.string(), fc.json(), fc.constantFrom(...fixed.map(([, t]) => t)));
    fc.assert(
      fc.property(anyText, fc.constantFrom(...parsers), (text, parse) => {
        try {
          parse(text);
        } catch (e) {
          assert.ok(e instanceof HttpAnswerError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
