import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatKey, parseKey } from "../keys/index.js";
import { ARBITRARIES, assertUsableAsErrorReply, keyArb, messageArb } from "./arbitraries.test.js";
import {
  decodeAssociatedFile,
  encodeAssociatedFile,
  formatMessage,
  MAX_PROTOCOL_VERSION,
  type Message,
  negotiateVersion,
  ProtocolError,
  parseMessage,
} from "./index.js";

const K100 = "SHA256E-s100--09ecb6ebc8bcefc733f6f2ec44f791abeed6a99edf0cc31519637898aebd52d8.txt";
const K6 = "SHA256E-s6--5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03.txt";
const SERVER = "6b0b97b9-aa6c-4472-a2b1-164085a4042f";

/**
 * Lines exactly as stock git-annex 10.20250416 wrote them, captured from
 * `git annex copy/get/drop --debug` against `git-annex-shell p2pstdio` (the
 * client's remote a stand-in ssh to localhost) and from driving
 * `git-annex-shell p2pstdio` by hand; the file was "sub dir/my file 50%.txt".
 * Each is parsed, and formatting the result gives the same line back.
 */
const REAL_TRAFFIC: readonly [string, Message][] = [
  [`AUTH-SUCCESS ${SERVER}`, { type: "AUTH-SUCCESS", uuid: SERVER }],
  ["VERSION 4", { type: "VERSION", version: 4 }],
  [`CHECKPRESENT ${K100}`, { type: "CHECKPRESENT", key: parseKey(K100) }],
  ["FAILURE", { type: "FAILURE" }],
  [
    `PUT sub%dir/my%file%50%%.txt ${K100}`,
    { type: "PUT", associatedFile: "sub_dir/my_file_50%.txt", key: parseKey(K100) },
  ],
  ["PUT-FROM 0", { type: "PUT-FROM", offset: 0 }],
  ["DATA 100", { type: "DATA", length: 100 }],
  ["VALID", { type: "VALID" }],
  ["SUCCESS", { type: "SUCCESS" }],
  [`REMOVE ${K6}`, { type: "REMOVE", key: parseKey(K6) }],
  [`LOCKCONTENT ${K100}`, { type: "LOCKCONTENT", key: parseKey(K100) }],
  ["UNLOCKCONTENT", { type: "UNLOCKCONTENT" }],
  [
    `GET 0 sub%dir/my%file%50%%.txt ${K100}`,
    { type: "GET", offset: 0, associatedFile: "sub_dir/my_file_50%.txt", key: parseKey(K100) },
  ],
  ["TIMESTAMP 4414", { type: "TIMESTAMP", timestamp: 4414 }],
  ["DATA 6", { type: "DATA", length: 6 }],
  ["ERROR unknown command", { type: "ERROR", message: "unknown command" }],
];

/**
 * Lines as git-annex's formatMessage writes the messages the capture above did
 * not exercise (P2P/Protocol.hs: `unwords` of the fields; Utility/SimpleProtocol.hs).
 */
const GIT_ANNEX_FORMS: readonly [string, Message][] = [
  [
    "AUTH 11111111-2222-3333-4444-555555555555 abc123",
    {
      type: "AUTH",
      uuid: "11111111-2222-3333-4444-555555555555",
      token: "abc123",
    },
  ],
  ["AUTH-FAILURE", { type: "AUTH-FAILURE" }],
  [
    "BYPASS ac000000-0000-8000-0000-000000000001 ac000000-0000-8000-0000-000000000002",
    {
      type: "BYPASS",
      uuids: ["ac000000-0000-8000-0000-000000000001", "ac000000-0000-8000-0000-000000000002"],
    },
  ],
  ["BYPASS", { type: "BYPASS", uuids: [] }],
  [`REMOVE-BEFORE 4714 ${K6}`, { type: "REMOVE-BEFORE", timestamp: 4714, key: parseKey(K6) }],
  ["GETTIMESTAMP", { type: "GETTIMESTAMP" }],
  [`GET 12  ${K6}`, { type: "GET", offset: 12, associatedFile: null, key: parseKey(K6) }],
  [`PUT  ${K6}`, { type: "PUT", associatedFile: null, key: parseKey(K6) }],
  ["ALREADY-HAVE", { type: "ALREADY-HAVE" }],
  [`ALREADY-HAVE-PLUS ${SERVER}`, { type: "ALREADY-HAVE-PLUS", uuids: [SERVER] }],
  ["DATA-PRESENT", { type: "DATA-PRESENT" }],
  ["INVALID", { type: "INVALID" }],
  [`SUCCESS-PLUS ${SERVER} 1 2`, { type: "SUCCESS-PLUS", uuids: [SERVER, "1", "2"] }],
  ["SUCCESS-PLUS", { type: "SUCCESS-PLUS", uuids: [] }],
  [`FAILURE-PLUS ${SERVER}`, { type: "FAILURE-PLUS", uuids: [SERVER] }],
  ["CONNECT git-upload-pack", { type: "CONNECT", service: "git-upload-pack" }],
  ["CONNECT git-receive-pack", { type: "CONNECT", service: "git-receive-pack" }],
  ["CONNECTDONE 0", { type: "CONNECTDONE", exitCode: 0 }],
  ["CONNECTDONE 128", { type: "CONNECTDONE", exitCode: 128 }],
  ["CONNECTDONE -9", { type: "CONNECTDONE", exitCode: -9 }],
  ["NOTIFYCHANGE", { type: "NOTIFYCHANGE" }],
  [
    "CHANGED refs/heads/master refs/heads/git-annex",
    {
      type: "CHANGED",
      refs: "refs/heads/master refs/heads/git-annex",
    },
  ],
  ["CHANGED ", { type: "CHANGED", refs: "" }],
  ["ERROR ", { type: "ERROR", message: "" }],
  [
    "ERROR this repository is read-only; write access denied",
    {
      type: "ERROR",
      message: "this repository is read-only; write access denied",
    },
  ],
  [
    "CHECKPRESENT WORM-s3-m1700000000--my file.txt",
    {
      type: "CHECKPRESENT",
      key: parseKey("WORM-s3-m1700000000--my file.txt"),
    },
  ],
];

/*
 * Tables are checked in one test each (the line in each assertion's message)
 * rather than one test per line: Node 20's --test-force-exit can cut off the
 * report of a file with very many tests.
 */
describe("parseMessage / formatMessage on git-annex's own lines", () => {
  const check = (table: readonly [string, Message][]) => {
    for (const [line, message] of table) {
      assert.deepEqual(parseMessage(line), message, line);
      // git-annex re-serializes an associated file after its munging, so a
      // line with escaped whitespace comes back with "_" in its place.
      const back = line.replace(/sub%dir\/my%file%/, "sub_dir/my_file_");
      assert.equal(formatMessage(message), back);
    }
  };
  it("captured from git-annex 10.20250416", () => check(REAL_TRAFFIC));
  it("as git-annex's formatMessage writes the other messages", () => check(GIT_ANNEX_FORMS));
});

describe("parseMessage accepts what git-annex's parser accepts", () => {
  const cases: readonly [string, Message][] = [
    ["SUCCESS ", { type: "SUCCESS" }], // one separator after the command is dropped
    ["ERROR", { type: "ERROR", message: "" }],
    ["ERROR  two  spaces ", { type: "ERROR", message: " two  spaces " }],
    ["CHANGED", { type: "CHANGED", refs: "" }],
    ["CHANGED \trefs/a   refs/b ", { type: "CHANGED", refs: "refs/a refs/b" }],
    ["SUCCESS-PLUS  a\tb  ", { type: "SUCCESS-PLUS", uuids: ["a", "b"] }],
    ["AUTH someuuid", { type: "AUTH", uuid: "someuuid", token: "" }],
    ["AUTH someuuid ABCdef09", { type: "AUTH", uuid: "someuuid", token: "abcdef09" }],
    ["VERSION\t1", { type: "VERSION", version: 1 }],
    ["VERSION\u00a02", { type: "VERSION", version: 2 }], // Haskell isSpace includes NBSP
    ["VERSION 99", { type: "VERSION", version: 99 }],
    ["DATA 007", { type: "DATA", length: 7 }],
    ["DATA 9007199254740991", { type: "DATA", length: Number.MAX_SAFE_INTEGER }],
    ["CONNECTDONE -0", { type: "CONNECTDONE", exitCode: 0 }],
    [
      "PUT a%b%%c%%%d WORM--x",
      {
        type: "PUT",
        associatedFile: "a_b%c%_d",
        key: parseKey("WORM--x"),
      },
    ],
    [
      "PUT a\u0001b\u0085c WORM--x",
      { type: "PUT", associatedFile: "a_b_c", key: parseKey("WORM--x") },
    ],
    [
      "GET 5 % WORM--x y",
      { type: "GET", offset: 5, associatedFile: "_", key: parseKey("WORM--x y") },
    ],
    ["ERROR a\rb\nc", { type: "ERROR", message: "a b c" }],
    ["ERROR bad \udcff byte", { type: "ERROR", message: "bad \ufffd byte" }],
  ];
  it("every case", () => {
    for (const [line, message] of cases) {
      assert.deepEqual(parseMessage(line), message, JSON.stringify(line));
    }
  });
});

describe("parseMessage refuses malformed lines with a ProtocolError", () => {
  const cases: readonly [string, string][] = [
    ["", "unknown-command"],
    ["BOGUS", "unknown-command"],
    ["version 1", "unknown-command"],
    [" VERSION 1", "unknown-command"],
    ["__proto__", "unknown-command"],
    ["constructor", "unknown-command"],
    ["VERSION", "bad-number"],
    ["VERSION -1", "bad-number"],
    ["VERSION +1", "bad-number"],
    ["VERSION 0x10", "bad-number"],
    ["VERSION 1.0", "bad-number"],
    ["VERSION 1e3", "bad-number"],
    ["VERSION (1)", "bad-number"],
    ["VERSION 1 2", "bad-number"],
    ["VERSION 1abc", "bad-number"],
    ["VERSION ١", "bad-number"], // an Arabic-Indic digit
    ["DATA 9007199254740992", "bad-number"],
    [`DATA ${"9".repeat(400)}`, "bad-number"],
    ["DATA", "bad-number"],
    ["DATA  5", "bad-number"],
    ["PUT-FROM -5", "bad-number"],
    ["TIMESTAMP x", "bad-number"],
    [`REMOVE-BEFORE x ${K6}`, "bad-number"],
    ["SUCCESS x", "bad-fields"],
    ["SUCCESS  ", "bad-fields"],
    ["VALID 1", "bad-fields"],
    ["UNLOCKCONTENT key", "bad-fields"],
    ["CHECKPRESENT", "bad-key"],
    ["CHECKPRESENT bad", "bad-key"],
    ["CHECKPRESENT WORM--..", "bad-key"],
    ["CHECKPRESENT WORM--\udcff", "key-not-utf8"],
    ["GET 0 f", "bad-key"],
    ["PUT f", "bad-key"],
    [`GET 0 /etc/passwd ${K6}`, "bad-associated-file"],
    [`PUT /abs ${K6}`, "bad-associated-file"],
    [`GET -1 f ${K6}`, "bad-number"],
    ["CONNECT", "bad-service"],
    ["CONNECT git-upload-archive", "bad-service"],
    ["CONNECT git-upload-pack ", "bad-service"],
    ["CONNECTDONE", "bad-number"],
    ["CONNECTDONE x", "bad-number"],
    ["CONNECTDONE 2147483648", "bad-number"],
    ["AUTH", "bad-uuid"],
    ["AUTH u tok-en", "bad-token"],
    ["AUTH u tok en", "bad-token"],
    ["AUTH-SUCCESS", "bad-uuid"],
    ["AUTH-SUCCESS a b", "bad-uuid"],
    ["SUCCESS-PLUS a/b", "bad-uuid"],
    ["BYPASS \u0000", "bad-uuid"],
    ["FAILURE-PLUS ok \udc80", "bad-uuid"],
  ];
  it("every case, with a message fit for an ERROR reply", () => {
    for (const [line, reason] of cases) {
      assert.throws(
        () => parseMessage(line),
        (e: unknown) => {
          assert.ok(e instanceof ProtocolError, String(e));
          assert.equal(e.code, "AG_PROTOCOL");
          assert.equal(e.data.reason, reason, JSON.stringify(line));
          assertUsableAsErrorReply(e.message);
          return true;
        },
        JSON.stringify(line),
      );
    }
  });
});

describe("formatMessage refuses what could not be read back", () => {
  const key = parseKey(K6);
  const bad: readonly Message[] = [
    { type: "VERSION", version: -1 },
    { type: "VERSION", version: 1.5 },
    { type: "DATA", length: Number.MAX_SAFE_INTEGER + 1 },
    { type: "DATA", length: Number.NaN },
    { type: "PUT-FROM", offset: -3 },
    { type: "TIMESTAMP", timestamp: Number.POSITIVE_INFINITY },
    { type: "GET", offset: 0, associatedFile: "/abs", key },
    { type: "CHECKPRESENT", key: { backend: "A-B", name: "x" } },
    { type: "REMOVE", key: { backend: "WORM", name: "a\nb" } },
    { type: "AUTH", uuid: "u", token: "no spaces" },
    { type: "AUTH", uuid: "", token: "" },
    { type: "AUTH-SUCCESS", uuid: "two words" },
    { type: "SUCCESS-PLUS", uuids: ["ok", "bad\nline"] },
    { type: "CONNECT", service: "git-upload-archive" as "git-upload-pack" },
    { type: "CONNECTDONE", exitCode: 2 ** 31 },
    { type: "NOSUCH" } as unknown as Message,
  ];
  it("bad fields throw a ProtocolError", () => {
    for (const m of bad) {
      assert.throws(
        () => formatMessage(m),
        (e: unknown) => e instanceof ProtocolError && e.code === "AG_PROTOCOL",
        JSON.stringify(m),
      );
    }
  });

  it("an ERROR is always sendable: line breaks become spaces", () => {
    assert.equal(formatMessage({ type: "ERROR", message: "a\r\nb\n" }), "ERROR a  b ");
  });
  it("CHANGED refs are re-joined with single spaces", () => {
    assert.equal(formatMessage({ type: "CHANGED", refs: " a\n b " }), "CHANGED a b");
  });
  it("an AUTH token is written in lower case, as git-annex compares it", () => {
    assert.equal(formatMessage({ type: "AUTH", uuid: "u", token: "AbC" }), "AUTH u abc");
  });
});

describe("associated files", () => {
  it("encodes as git-annex does", () => {
    assert.equal(encodeAssociatedFile(null), "");
    assert.equal(encodeAssociatedFile(""), "");
    assert.equal(encodeAssociatedFile("sub dir/my file 50%.txt"), "sub%dir/my%file%50%%.txt");
    assert.equal(encodeAssociatedFile("a\tb\u3000c\u00a0d"), "a%b%c%d");
    assert.throws(() => encodeAssociatedFile("/etc/passwd"), ProtocolError);
  });
  it("decodes as git-annex does (whitespace and control characters become _)", () => {
    assert.equal(decodeAssociatedFile(""), null);
    assert.equal(decodeAssociatedFile("sub%dir/50%%.txt"), "sub_dir/50%.txt");
    assert.equal(decodeAssociatedFile("%%%"), "%_");
    assert.equal(decodeAssociatedFile("a\u007fb"), "a_b");
    assert.throws(() => decodeAssociatedFile("/x"), ProtocolError);
  });

  const anyFile = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.startsWith("/"));
  const munged = (s: string) =>
    s.replace(/\p{Cs}/gu, "\ufffd").replace(/[\t\n\v\f\r\p{Zs}\0-\x1f\x7f-\x9f]/gu, "_");

  it("git-annex's escaping is ambiguous after whitespace, and so is annexgate's reading", () => {
    assert.equal(encodeAssociatedFile("a  b"), "a%%b");
    assert.equal(decodeAssociatedFile("a%%b"), "a%b");
    assert.equal(encodeAssociatedFile(" %"), "%%%");
    assert.equal(decodeAssociatedFile("%%%"), "%_");
  });

  it("encoded, any name is one field; decoded, it is git-annex's munged name", () => {
    /* Whitespace followed by whitespace or "%" is where the escaping is ambiguous (above). */
    const unambiguous = (s: string) => !/[\t\n\v\f\r\p{Zs}][\t\n\v\f\r\p{Zs}%]/u.test(s);
    fc.assert(
      fc.property(anyFile, (s) => {
        assert.doesNotMatch(encodeAssociatedFile(s), /[\t\n\v\f\r\p{Zs}]/u);
        fc.pre(unambiguous(s));
        const field = encodeAssociatedFile(s);
        assert.doesNotMatch(field, /[\t\n\v\f\r\p{Zs}]/u);
        assert.equal(decodeAssociatedFile(field), s === "" ? null : munged(s));
      }),
      { numRuns: 2000 },
    );
  });

  it("a GET line keeps offset, name and key apart whatever the name holds", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), anyFile, keyArb, (offset, file, key) => {
        fc.pre(!/[\t\n\v\f\r\p{Zs}][\t\n\v\f\r\p{Zs}%]/u.test(file));
        const line = formatMessage({ type: "GET", offset, associatedFile: file, key });
        assert.deepEqual(parseMessage(line), {
          type: "GET",
          offset,
          associatedFile: file === "" ? null : munged(file),
          key,
        });
      }),
      { numRuns: 1000 },
    );
  });
});

it("negotiateVersion answers the highest version not above the offer", () => {
  assert.equal(MAX_PROTOCOL_VERSION, 4);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 99, -1, 2.5, Number.NaN].map(negotiateVersion),
    [0, 1, 2, 3, 4, 4, 4, 0, 2, 0],
  );
});

describe("round trip: parseMessage(formatMessage(m)) equals m", () => {
  for (const [type, arb] of Object.entries(ARBITRARIES) as [
    Message["type"],
    fc.Arbitrary<Message>,
  ][]) {
    it(type, () => {
      fc.assert(
        fc.property(arb, (m) => {
          const line = formatMessage(m);
          assert.doesNotMatch(line, /\n/);
          assert.ok(line === type || line.startsWith(`${type} `), line);
          assert.deepEqual(parseMessage(line), m);
          if ("key" in m) assert.ok(line.endsWith(formatKey(m.key)));
        }),
        { numRuns: 300 },
      );
    });
  }
});

it("parse, format, parse is stable for any line that parses", () => {
  const word = fc.constantFrom(...(Object.keys(ARBITRARIES) as Message["type"][]));
  const tail = fc.oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    messageArb.map((m) => formatMessage(m).replace(/^\S+/, "")),
  );
  let parsed = 0;
  fc.assert(
    fc.property(word, tail, (w, t) => {
      let m: Message;
      try {
        m = parseMessage(w + t);
      } catch (e) {
        assert.ok(e instanceof ProtocolError);
        assertUsableAsErrorReply(e.message);
        return;
      }
      parsed++;
      const line = formatMessage(m);
      assert.doesNotMatch(line, /\n/);
      assert.deepEqual(parseMessage(line), m);
    }),
    { numRuns: 3000 },
  );
  assert.ok(parsed > 100, `only ${parsed} lines parsed`);
});
