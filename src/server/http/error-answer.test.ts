import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  PeerProtocolError,
  PeerRefusedError,
  PeerUnreachableError,
  UnreachableRemoteError,
} from "../../peers/index.js";
import { HttpApiError } from "../../protocol/index.js";
import { errorAnswer } from "./error-answer.js";

/** A request's id, as the server makes them. */
const ID = "5f3a9c01-2k";

describe("errorAnswer", () => {
  it("a node's failure is a 502 naming no host, logged with its causes and no stack", () => {
    const cause = new Error("connect ECONNREFUSED 10.1.2.3:8080");
    const cases = [
      [
        new PeerUnreachableError("p2phttp put to node.example:8080 failed", {}, cause),
        /did not answer/,
      ],
      [new PeerRefusedError("node.example answered 403", {}), /refused the request/],
      [new PeerProtocolError("node.example sent junk", {}), /answered out of protocol/],
    ] as const;
    for (const [err, said] of cases) {
      const a = errorAnswer(err, ID);
      assert.equal(a.status, 502);
      assert.match(a.body, said);
      assert.ok(a.body.endsWith(`(id ${ID})`), a.body);
      assert.doesNotMatch(a.body, /node\.example|10\.1\.2\.3|ECONN/);
      assert.ok(a.log?.err.includes(err.message), a.log?.err);
      assert.doesNotMatch(a.log?.err ?? "", /\n\s+at /, "no stack in the log line");
    }
    assert.match(errorAnswer(cases[0][0], ID).log?.err ?? "", /ECONNREFUSED/);
  });

  it("the API's refusals keep their status; anything else is a 500 with an id", () => {
    assert.deepEqual(errorAnswer(new HttpApiError(400, "bad key"), ID), {
      status: 400,
      body: "bad key",
    });
    const a = errorAnswer(new Error("EACCES: /srv/secret/path"), ID);
    assert.equal(a.status, 500);
    assert.equal(a.body, `internal error (id ${ID})`);
    assert.match(a.log?.err ?? "", /EACCES/);
    assert.equal(a.log?.level, "error");
  });

  it("a refusal in git-annex's words for the client is a 500 whose body is the message, as stock answers", () => {
    const message =
      "This key is part of the exported tree, so can only be removed by exporting a tree that does not include it.";
    assert.deepEqual(errorAnswer(new PeerRefusedError(message, { forClient: true }), ID), {
      status: 500,
      body: message,
      log: { level: "warn", msg: "refused", err: message },
    });
    // Without the mark, a node's refusal names nothing of the node.
    assert.equal(errorAnswer(new PeerRefusedError(message), ID).status, 502);
  });

  it("a remote the gateway cannot open is a 502, logged with its reason and no stack", () => {
    const remote = { name: "dh", uuid: "0b8a3c1e-0000-4000-8000-000000000001" };
    const err = new UnreachableRemoteError(
      remote as ConstructorParameters<typeof UnreachableRemoteError>[0],
      "the gateway's gpg keyring holds no secret key to decrypt its cipher",
    );
    const a = errorAnswer(err, ID);
    assert.equal(a.status, 502);
    assert.equal(a.body, `a repository behind this gateway cannot be reached (id ${ID})`);
    assert.match(a.log?.err ?? "", /cannot reach remote dh: .*no secret key/);
    assert.doesNotMatch(a.log?.err ?? "", /\n\s+at /);
  });
});
