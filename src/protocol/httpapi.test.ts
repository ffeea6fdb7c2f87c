import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatKey } from "../keys/index.js";
import {
  type ApiVersion,
  decodeB64Value,
  decodeKeyValue,
  decodeUuidValue,
  encodeB64Value,
  HttpApiError,
  hasPlus,
  lockJson,
  OPERATION_CLASS,
  OPERATION_VERSIONS,
  type Operation,
  parseApiQuery,
  presentJson,
  putOffsetJson,
  removedJson,
  routeApiPath,
  sortedJson,
  storedJson,
  timestampJson,
} from "./index.js";

const UUID = "91d9029b-8afa-4f88-bd4e-ec54c8143bc7";
const KEY = "SHA256E-s5--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824.txt";
const ALL_VERSIONS: readonly ApiVersion[] = [0, 1, 2, 3, 4];
const OPERATIONS = Object.keys(OPERATION_VERSIONS) as Operation[];

/**
 * git-annex's rule (P2P/Http/Types.hs encodeB64Text), restated: bytes go in
 * the clear when they are valid UTF-8 and not both opened by "[" and closed
 * by "]"; otherwise base64url of them, padded, in brackets.
 */
function wrappedByGitAnnex(bytes: Buffer): boolean {
  let valid = true;
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    valid = false;
  }
  return !valid || (bytes[0] === 0x5b && bytes[bytes.length - 1] === 0x5d);
}

function assertApiError(fn: () => unknown, status: number, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HttpApiError, `not an HttpApiError: ${String(e)}`);
    assert.equal(e.status, status);
    assert.equal(e.code, "AG_HTTP_API");
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe("base64url values", () => {
  const brackety = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => Buffer.from(s)),
    fc.string({ unit: "binary", maxLength: 20 }).map((s) => Buffer.from(`[${s}]`)),
    fc
      .uint8Array({ maxLength: 20 })
      .map((a) => Buffer.concat([Buffer.from("["), a, Buffer.from("]")])),
    fc.constantFrom(
      Buffer.from(""),
      Buffer.from("["),
      Buffer.from("]"),
      Buffer.from("[]"),
      Buffer.from("]["),
      Buffer.from("[x"),
      Buffer.from("x]"),
      Buffer.from([0xff]),
      Buffer.from([0xc0, 0x80]), // overlong NUL
      Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
      Buffer.from([0xef, 0xbb, 0xbf, 0x41]), // BOM, valid UTF-8
    ),
  );

  it("round-trips any bytes", () => {
    fc.assert(
      fc.property(brackety, (bytes) => {
        const text = encodeB64Value(bytes);
        assert.deepEqual(Buffer.from(decodeB64Value(text)), bytes);
        // And through a URL, as a query parameter value.
        const url = new URL(`http://x/?v=${encodeURIComponent(text)}`);
        assert.deepEqual(Buffer.from(decodeB64Value(url.searchParams.get("v") ?? "")), bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("wraps exactly what git-annex wraps, padded as git-annex pads", () => {
    fc.assert(
      fc.property(brackety, (bytes) => {
        const text = encodeB64Value(bytes);
        if (wrappedByGitAnnex(bytes)) {
          // sandi's Base64Url, which git-annex uses: url alphabet, "=" padding.
          const b64 = bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
          assert.equal(text, `[${b64}]`);
        } else {
          assert.equal(text, bytes.toString("utf8"));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("encodes strings as their UTF-8", () => {
    assert.equal(encodeB64Value("plain"), "plain");
    assert.equal(encodeB64Value(KEY), KEY);
    assert.equal(encodeB64Value("ü"), "ü");
    assert.equal(encodeB64Value("[x]"), "[W3hd]");
    assert.equal(encodeB64Value("[]"), "[W10=]");
    assert.equal(encodeB64Value(""), "");
  });

  it("decodes padded base64url in brackets, and plain text as UTF-8", () => {
    assert.deepEqual(Buffer.from(decodeB64Value("[W3hd]")), Buffer.from("[x]"));
    assert.deepEqual(Buffer.from(decodeB64Value("[W10=]")), Buffer.from("[]"));
    assert.deepEqual(Buffer.from(decodeB64Value("[_-8=]")), Buffer.from([0xff, 0xef]));
    assert.deepEqual(Buffer.from(decodeB64Value("[]")), Buffer.alloc(0));
    assert.deepEqual(Buffer.from(decodeB64Value("[")), Buffer.from("["));
    assert.deepEqual(Buffer.from(decodeB64Value("]")), Buffer.from("]"));
    assert.deepEqual(Buffer.from(decodeB64Value("[x")), Buffer.from("[x"));
    assert.deepEqual(Buffer.from(decodeB64Value("ü")), Buffer.from("ü"));
    assert.deepEqual(Buffer.from(decodeB64Value("")), Buffer.alloc(0));
  });

  it("refuses malformed base64 in brackets with 400, as git-annex does", () => {
    // Each of these got "unable to base64 decode [] wrapped value" from
    // `git annex p2phttp` 10.20250416.
    for (const bad of [
      "[!!!]",
      "[a]",
      "[ab]", // unpadded
      "[abc]", // unpadded
      "[ab=]",
      "[abcd=]",
      "[abcd==]",
      "[=]",
      "[==]",
      "[====]",
      "[a+b/]", // standard, not url, alphabet
      "[ab c]",
      "[abc!]",
      "[ab=c]",
      "[abcd=abc]",
    ]) {
      assertApiError(() => decodeB64Value(bad), 400, /unable to base64 decode/);
    }
  });

  it("refuses any bracketed text outside the base64url alphabet", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }).filter((s) => /[^A-Za-z0-9_=-]/.test(s)),
        (inner) => {
          assertApiError(() => decodeB64Value(`[${inner}]`), 400);
        },
      ),
    );
  });
});

describe("routeApiPath", () => {
  const path = (...segs: string[]) => `/git-annex/${segs.join("/")}`;

  for (const op of OPERATIONS) {
    for (const v of ALL_VERSIONS) {
      const served = OPERATION_VERSIONS[op].includes(v);
      const segs = op === "key" ? [UUID, `v${v}`, "key", KEY] : [UUID, `v${v}`, op];
      it(`${served ? "routes" : "refuses"} v${v} ${op}`, () => {
        if (served) {
          assert.deepEqual(
            routeApiPath(path(...segs)),
            op === "key"
              ? { kind: "versioned", uuid: UUID, version: v, operation: op, key: KEY }
              : { kind: "versioned", uuid: UUID, version: v, operation: op },
          );
        } else {
          assertApiError(() => routeApiPath(path(...segs)), 400, /^bad version$/);
        }
      });
    }
  }

  it("serves the versions git-annex's P2PHttpAPI lists", () => {
    assert.deepEqual(OPERATION_VERSIONS, {
      key: [0, 1, 2, 3, 4],
      checkpresent: [0, 1, 2, 3, 4],
      lockcontent: [0, 1, 2, 3, 4],
      keeplocked: [0, 1, 2, 3, 4],
      remove: [0, 1, 2, 3, 4],
      "remove-before": [3, 4],
      gettimestamp: [3, 4],
      put: [0, 1, 2, 3, 4],
      putoffset: [1, 2, 3, 4],
    });
  });

  it("classes each operation's action", () => {
    assert.deepEqual(OPERATION_CLASS, {
      key: "read",
      checkpresent: "read",
      gettimestamp: "read",
      put: "write",
      putoffset: "write",
      remove: "remove",
      "remove-before": "remove",
      lockcontent: "lock",
      keeplocked: "lock",
    });
  });

  it("refuses every version text but v0..v4 exactly with 400 bad version", () => {
    for (const v of ["v5", "v9", "v10", "v04", "v00", "V4", "v", "4", "v-1", "v4.0", " v4", "v٤"]) {
      for (const op of OPERATIONS) {
        const segs = op === "key" ? [UUID, v, "key", KEY] : [UUID, v, op];
        assertApiError(() => routeApiPath(path(...segs)), 400, /^bad version$/);
      }
    }
  });

  it("routes the unversioned key path", () => {
    assert.deepEqual(routeApiPath(path(UUID, "key", KEY)), {
      kind: "generic-key",
      uuid: UUID,
      key: KEY,
    });
  });

  it("returns captures still encoded, after percent-decoding", () => {
    const wrapped = encodeB64Value(Buffer.from([0xff]));
    assert.deepEqual(
      routeApiPath(path(encodeURIComponent(wrapped), "v4", "key", encodeURIComponent("a b"))),
      { kind: "versioned", uuid: wrapped, version: 4, operation: "key", key: "a b" },
    );
  });

  it("answers 404 for unknown operations and wrong segment counts", () => {
    for (const p of [
      "/",
      "",
      "/git-annex",
      "/git-annex/",
      path(UUID),
      path(UUID, "v4"),
      path(UUID, "v4", "nosuch"),
      path(UUID, "v9", "nosuch"),
      path(UUID, "v4", "checkpresent", "extra"),
      path(UUID, "v4", "checkpresent", "", ""),
      path(UUID, "v4", "key"),
      path(UUID, "v4", "key", KEY, "extra"),
      path(UUID, "key"),
      path(UUID, "key", KEY, "extra"),
      path("", UUID, "v4", "checkpresent"),
      path(UUID, "", "v4", "checkpresent"),
      `/other/${UUID}/v4/checkpresent`,
      `/git-annex2/${UUID}/v4/checkpresent`,
      `git-annex/${UUID}/v4/checkpresent`,
    ]) {
      assertApiError(() => routeApiPath(p), 404);
    }
  });

  it("ignores one trailing slash, as servant does", () => {
    // `git annex p2phttp` answers POST /git-annex/U/v4/checkpresent/ like
    // the path without the slash, and GET …/key/K/ like …/key/K.
    assert.deepEqual(routeApiPath(`${path(UUID, "v4", "checkpresent")}/`), {
      kind: "versioned",
      uuid: UUID,
      version: 4,
      operation: "checkpresent",
    });
    assert.deepEqual(routeApiPath(`${path(UUID, "key", KEY)}/`), {
      kind: "generic-key",
      uuid: UUID,
      key: KEY,
    });
    assertApiError(() => routeApiPath(`${path(UUID, "v4", "checkpresent")}//`), 404);
    assertApiError(() => routeApiPath(`${path(UUID, "v4", "key")}/`), 404);
    assertApiError(() => routeApiPath(`${path(UUID, "key")}/`), 404);
  });

  it("decodes percent escapes leniently, as warp does, but keeps bytes that are not UTF-8", () => {
    // A "%" without two hex digits stays. Where warp makes U+FFFD of bytes
    // that are not UTF-8, they are kept (as lone surrogates) so that the
    // value decoders can refuse them rather than read another key.
    assert.deepEqual(routeApiPath(path("%E0%A4%A", "v4", "checkpresent")), {
      kind: "versioned",
      uuid: "\uDCE0\uDCA4%A",
      version: 4,
      operation: "checkpresent",
    });
    assert.deepEqual(routeApiPath(path(UUID, "key", "WORM--a%zb%25c%ff")), {
      kind: "generic-key",
      uuid: UUID,
      key: "WORM--a%zb%c\uDCFF",
    });
    assertApiError(
      () => decodeKeyValue("WORM--a%zb%c\uDCFF", "capture key"),
      400,
      /not valid UTF-8/,
    );
    assert.equal(decodeUuidValue("\uDCE0\uDCA4%A", "capture serveruuid"), "\uFFFD%A");
  });

  it("parseApiQuery keeps every value's bytes, where URLSearchParams would not", () => {
    const q = parseApiQuery("key=WORM--a%FFb&key=x&bypass=a+b&bypass=c%2Fd&flag&=v");
    assert.deepEqual(q.get("key"), ["WORM--a\uDCFFb", "x"]);
    assert.deepEqual(q.get("bypass"), ["a b", "c/d"]);
    assert.deepEqual(q.get("flag"), [""]);
    assert.deepEqual(q.get(""), ["v"]);
    assertApiError(
      () => decodeKeyValue(q.get("key")?.[0] ?? "", "query parameter key"),
      400,
      /^Error parsing query parameter key failed: key is not valid UTF-8$/,
    );
    // The same bytes base64-wrapped (as git-annex sends a key that is not UTF-8): refused too.
    const wrapped = "[V09STS0t_w==]"; // "WORM--" and 0xFF
    assertApiError(() => decodeKeyValue(wrapped, "query parameter key"), 400, /not valid UTF-8/);
    assert.equal(
      formatKey(decodeKeyValue("WORM--sub/f.txt", "query parameter key")),
      "WORM--sub/f.txt",
    );
  });

  it("never throws anything but HttpApiError 400/404", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom(
              UUID,
              "v0",
              "v3",
              "v4",
              "v7",
              "key",
              KEY,
              "",
              "%",
              "%zz",
              ...OPERATIONS,
            ),
            fc.string({ maxLength: 6 }),
          ),
          { maxLength: 6 },
        ),
        (segs) => {
          try {
            routeApiPath(`/git-annex/${segs.join("/")}`);
          } catch (e) {
            assert.ok(e instanceof HttpApiError);
            assert.ok(e.status === 400 || e.status === 404);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("JSON results", () => {
  const PLUS = ["aaaa-1", "bbbb-2"];

  it("sortedJson orders fields by name, recursively only at the top", () => {
    assert.equal(sortedJson({ b: 1, a: 2, c: { z: 1, y: 2 } }), '{"a":2,"b":1,"c":{"z":1,"y":2}}');
  });

  it("carries plusuuids from v2 on", () => {
    assert.deepEqual(
      ALL_VERSIONS.map((v) => hasPlus(v)),
      [false, false, true, true, true],
    );
  });

  for (const v of ALL_VERSIONS) {
    it(`has git-annex's shapes at v${v}`, () => {
      // [what annexgate writes, git-annex's JSON from v2 on, and before v2]
      const cases: [string, string, string][] = [
        [
          removedJson(v, true, PLUS),
          '{"plusuuids":["aaaa-1","bbbb-2"],"removed":true}',
          '{"removed":true}',
        ],
        [removedJson(v, false, []), '{"plusuuids":[],"removed":false}', '{"removed":false}'],
        [
          storedJson(v, true, PLUS),
          '{"plusuuids":["aaaa-1","bbbb-2"],"stored":true}',
          '{"stored":true}',
        ],
        [storedJson(v, false, []), '{"plusuuids":[],"stored":false}', '{"stored":false}'],
        [
          putOffsetJson(v, { alreadyHave: true, plusUuids: PLUS }),
          '{"alreadyhave":true,"plusuuids":["aaaa-1","bbbb-2"]}',
          '{"alreadyhave":true}',
        ],
        [
          putOffsetJson(v, { alreadyHave: false, offset: 1234 }),
          '{"offset":1234}',
          '{"offset":1234}',
        ],
      ];
      for (const [written, fromV2, beforeV2] of cases) {
        assert.equal(written, v >= 2 ? fromV2 : beforeV2);
      }
    });
  }

  it("has the version-independent shapes", () => {
    assert.equal(presentJson(true), '{"present":true}');
    assert.equal(presentJson(false), '{"present":false}');
    // "locked" sorts before "lockid" ("e" < "i").
    assert.equal(lockJson(true, UUID), `{"locked":true,"lockid":"${UUID}"}`);
    assert.equal(lockJson(false), '{"locked":false}');
    assert.equal(timestampJson(98765), '{"timestamp":98765}');
  });

  it("emits fields in sorted order for any values", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL_VERSIONS),
        fc.boolean(),
        fc.array(fc.uuid()),
        (v, b, uuids) => {
          for (const json of [removedJson(v, b, uuids), storedJson(v, b, uuids)]) {
            const keys = Object.keys(JSON.parse(json) as object);
            assert.deepEqual(keys, [...keys].sort());
            assert.equal(keys.includes("plusuuids"), v >= 2);
          }
        },
      ),
    );
  });
});
