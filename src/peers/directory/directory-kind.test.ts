/**
 * Opening a directory special remote: served when plain (unchunked, not
 * encrypted), refused at open otherwise, with a reason that names no path
 * of this machine.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../../test/helpers/index.js";
import { Git } from "../../git/index.js";
import type { Remote, RemoteTransport } from "../../remotes/index.js";
import { sample, storeAll } from "../conformance.js";
import { builtinPeerKinds, PeerRefusedError, UnreachableRemoteError } from "../index.js";
import { MemoryChunkLog } from "../special/chunk-log.fixture.js";

const UUID = "7c1d0f52-9d3e-4c1a-8f6b-2b0a4e5d6c7f";
const CTX = { gatewayUuid: "00000000-0000-4000-8000-000000000000" };

function directoryRemote(directory: string, fields: Record<string, string> = {}): Remote {
  const transport: RemoteTransport = {
    kind: "directory",
    directory,
    special: {
      fields: { type: "directory", name: "d", encryption: "none", ...fields },
      gitConfig: { directory },
    },
  };
  return {
    name: "d",
    uuid: UUID,
    cost: 100,
    transport,
    proxy: false,
    clusterNode: [],
    clusterGateway: [],
    proxiedBy: null,
    ignore: false,
  };
}

describe("directory kind", () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir("annexgate-dirkind-");
  });
  after(async () => {
    await removeDir(dir);
  });

  it("opens a plain directory remote (chunk=0 is unchunked) as a Peer of its UUID", async () => {
    const conn = await builtinPeerKinds.open(directoryRemote(dir, { chunk: "0" }), CTX);
    try {
      assert.equal(conn.peer.uuid, UUID);
      const s = sample(1234);
      const r = await storeAll(conn.peer, s);
      assert.equal(r.stored, true);
      assert.equal((await conn.peer.lockContent(s.key)).kind, "unsupported");
    } finally {
      await conn.close();
    }
  });

  it("opens a chunk= remote over the chunk log it is given, and stores in chunks", async () => {
    const chunkLog = new MemoryChunkLog();
    const conn = await builtinPeerKinds.open(directoryRemote(dir, { chunk: "1KiB" }), {
      ...CTX,
      chunkLog,
    });
    try {
      const s = sample(2500);
      assert.equal((await storeAll(conn.peer, s)).stored, true);
      assert.deepEqual(await chunkLog.chunkListings(UUID, s.key), [{ chunkSize: 1024, count: 3 }]);
      assert.equal((await conn.peer.remove(s.key)).removed, true);
    } finally {
      await conn.close();
    }
  });

  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    [
      "chunk=1MiB without the gateway's chunk log",
      { chunk: "1MiB" },
      /a chunked special remote needs the gateway's git-annex branch/,
    ],
    [
      "legacy chunksize=",
      { chunksize: "10mb", chunk: "1MiB" },
      /legacy chunksize= chunking are not supported \(chunk= is\)/,
    ],
    [
      "encryption=shared with a cipher too short to be one",
      { encryption: "shared", cipher: "c2VjcmV0" },
      /encryption=shared but the recorded cipher is too short/,
    ],
    [
      "encryption=hybrid without its gpg key ids",
      { encryption: "hybrid", cipher: "c2VjcmV0" },
      /encryption=hybrid but no gpg key ids are recorded/,
    ],
    [
      "a cipher under encryption=none",
      { encryption: "none", cipher: "c2VjcmV0" },
      /a cipher is recorded but encryption=none/,
    ],
    ["a bad chunk size", { chunk: "lots" }, /bad configuration chunk=lots/],
  ];
  for (const [what, fields, reason] of refusals) {
    it(`refuses ${what} at open`, async () => {
      await assert.rejects(
        builtinPeerKinds.open(directoryRemote(dir, fields), CTX),
        (e: unknown) => {
          assert.ok(e instanceof UnreachableRemoteError);
          assert.match(e.message, reason);
          return true;
        },
      );
    });
  }

  it("refuses no directory, a relative one and one that is not there, naming no path", async () => {
    const gone = join(dir, "not-there");
    const cases: Array<[string, RegExp]> = [
      ["", /cannot reach remote d: missing directory$/],
      ["relative/dir", /not an absolute path/],
      [gone, /the directory is not accessible/],
    ];
    for (const [directory, reason] of cases) {
      await assert.rejects(builtinPeerKinds.open(directoryRemote(directory), CTX), (e: unknown) => {
        assert.ok(e instanceof UnreachableRemoteError);
        assert.match(e.message, reason);
        assert.ok(directory === "" || !e.message.includes(directory), e.message);
        return true;
      });
    }
  });

  it("takes annex.diskreserve from the gateway's git config", async () => {
    const gw = join(dir, "gateway");
    await run("git", ["init", "-q", gw]);
    await run("git", ["config", "annex.diskreserve", "1000000 terabytes"], { cwd: gw });
    const git = await Git.open(gw);
    const conn = await builtinPeerKinds.open(directoryRemote(dir), { ...CTX, git });
    try {
      const s = sample(10);
      await assert.rejects(
        conn.peer.store({ key: s.key, offset: 0, length: 10, data: Readable.from([s.data]) }),
        (e: unknown) =>
          e instanceof PeerRefusedError && /Not enough free disk space/.test(e.message),
      );
    } finally {
      await conn.close();
    }
  });
});
