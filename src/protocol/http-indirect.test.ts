import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseKey } from "../keys/index.js";
import { HttpAnswerError } from "./http-answers.js";
import {
  formatIndirectUploadRequest,
  type IndirectUploadAnswer,
  indirectUploadJson,
  indirectUploadStatus,
  isIndirectUploadPath,
  parseIndirectUploadAnswer,
  parseIndirectUploadRequest,
} from "./http-indirect.js";
import { HttpApiError } from "./httpapi.js";

const KEY = parseKey(
  "SHA256E-s5--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824.txt",
);
const UUID = "5f6e3a48-3a0e-4c39-9d1e-6a3c3f6f7a10";
const CLIENT = "0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

function split(pathAndQuery: string): [string, string] {
  const q = pathAndQuery.indexOf("?");
  return [pathAndQuery.slice(0, q), pathAndQuery.slice(q + 1)];
}

describe("the upload-url request", () => {
  it("is formatted as the API formats values, and read back", () => {
    const text = formatIndirectUploadRequest("/git-annex/", {
      uuid: UUID,
      key: KEY,
      clientUuid: CLIENT,
    });
    assert.equal(
      text,
      `/git-annex/${UUID}/annexgate/v1/upload-url?key=${encodeURIComponent("SHA256E-s5--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824.txt")}&clientuuid=${CLIENT}`,
    );
    const [path, search] = split(text);
    assert.equal(isIndirectUploadPath(path), true);
    assert.deepEqual(parseIndirectUploadRequest(path, search), {
      uuid: UUID,
      key: KEY,
      clientUuid: CLIENT,
    });
  });

  it("carries an associated file, and values that are not plain text, bracketed", () => {
    const r = {
      uuid: "[odd]",
      key: parseKey("WORM-s3-m1--a b+c&d"),
      clientUuid: CLIENT,
      associatedFile: "dir/naïve file+&.txt",
    };
    const text = formatIndirectUploadRequest("/git-annex/", r);
    assert.match(text, /^\/git-annex\/%5BW29kZF0%3D%5D\/annexgate\/v1\/upload-url\?/);
    const [path, search] = split(text);
    assert.deepEqual(parseIndirectUploadRequest(path, search), r);
  });

  it("is refused in the API's words when a value is missing or bad", () => {
    const path = `/git-annex/${UUID}/annexgate/v1/upload-url`;
    const status = (search: string) => {
      try {
        parseIndirectUploadRequest(path, search);
        return 0;
      } catch (e) {
        assert.ok(e instanceof HttpApiError);
        return e.status;
      }
    };
    assert.equal(status(`clientuuid=${CLIENT}`), 400);
    assert.equal(status(`key=${encodeURIComponent("SHA256E-s5--x")}`), 400);
    assert.equal(status(`key=nokey&clientuuid=${CLIENT}`), 400);
    assert.equal(status(`key=%5Bnot-base64%5D&clientuuid=${CLIENT}`), 400);
  });

  it("is only its own path", () => {
    for (const p of [
      `/git-annex/${UUID}/annexgate/v1/upload-url/`,
      `/git-annex/${UUID}/annexgate/v2/upload-url`,
      `/other/${UUID}/annexgate/v1/upload-url`,
      `/git-annex/${UUID}/v4/put`,
      "/git-annex//annexgate/v1/upload-url",
    ]) {
      assert.equal(isIndirectUploadPath(p), false, p);
      assert.throws(() => parseIndirectUploadRequest(p, ""), HttpApiError);
    }
  });
});

describe("the upload-url answers", () => {
  const cases: [IndirectUploadAnswer, number, string][] = [
    [
      { kind: "alreadyhave", plusUuids: [UUID] },
      200,
      `{"alreadyhave":true,"plusuuids":["${UUID}"]}`,
    ],
    [
      { kind: "put", url: "http://127.0.0.1:9/b/s?X-Amz-Signature=1", expires: 60 },
      200,
      '{"expires":60,"method":"PUT","url":"http://127.0.0.1:9/b/s?X-Amz-Signature=1"}',
    ],
    [
      { kind: "put", url: "https://s3.example/b/s", expires: 1, headers: { z: "1", a: "2" } },
      200,
      '{"expires":1,"headers":{"a":"2","z":"1"},"method":"PUT","url":"https://s3.example/b/s"}',
    ],
    [
      {
        kind: "parts",
        expires: 3600,
        parts: [
          { offset: 0, length: 5, url: "http://h/1" },
          { offset: 5, length: 2, url: "http://h/2" },
        ],
      },
      200,
      '{"expires":3600,"parts":[{"length":5,"offset":0,"url":"http://h/1"},{"length":2,"offset":5,"url":"http://h/2"}]}',
    ],
    [
      { kind: "unavailable", status: 404, reason: "the remote is chunked" },
      404,
      '{"indirect":false,"reason":"the remote is chunked"}',
    ],
    [
      { kind: "unavailable", status: 409, reason: "busy" },
      409,
      '{"indirect":false,"reason":"busy"}',
    ],
  ];
  it("are JSON with fields sorted, and read back", () => {
    for (const [answer, status, json] of cases) {
      assert.equal(indirectUploadStatus(answer), status);
      assert.equal(indirectUploadJson(answer), json);
      const back = parseIndirectUploadAnswer(status, json);
      const expected =
        answer.kind === "put" && answer.headers
          ? { ...answer, headers: { a: "2", z: "1" } }
          : answer;
      assert.deepEqual(back, expected);
    }
  });

  it("a server without the extension (a plain 404) means: no indirect upload", () => {
    assert.deepEqual(parseIndirectUploadAnswer(404, "not found"), {
      kind: "unavailable",
      status: 404,
      reason: "the server offers no indirect uploads",
    });
  });

  it("a hostile answer is refused", () => {
    for (const [status, body] of [
      [200, "[]"],
      [200, '{"method":"PUT","url":"file:///etc/passwd","expires":1}'],
      [200, '{"method":"PUT","url":"http://h/","expires":-1}'],
      [200, '{"method":"GET","url":"http://h/","expires":1}'],
      [200, '{"parts":[],"expires":1}'],
      [200, '{"parts":[{"offset":1,"length":1,"url":"http://h/"}],"expires":1}'],
      [
        200,
        '{"parts":[{"offset":0,"length":1,"url":"http://h/"},{"offset":0,"length":1,"url":"http://h/"}],"expires":1}',
      ],
      [200, '{"method":"PUT","url":"http://h/","expires":1,"headers":{"a":1}}'],
      [200, '{"alreadyhave":true,"plusuuids":[""]}'],
      [500, '{"indirect":false,"reason":"x"}'],
      [401, ""],
    ] as const) {
      assert.throws(() => parseIndirectUploadAnswer(status, body), HttpAnswerError, body);
    }
  });
});
