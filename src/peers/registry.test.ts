/**
 * The registry of remote kinds opens a remote with the kind registered for
 * its transport (here a real repository on disk), refuses a kind it does
 * not know with a typed error, and never opens anything for it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { locationsOf } from "../branch/index.js";
import type { Remote, RemoteTransport } from "../remotes/index.js";
import { sample, storeAll } from "./conformance.js";
import {
  builtinPeerKinds,
  DuplicatePeerKindError,
  localKind,
  openLocalRepository,
  type PeerKind,
  PeerKinds,
  UnknownRemoteKindError,
  UnreachableRemoteError,
} from "./index.js";

const GATEWAY_UUID = "00000000-0000-4000-8000-000000000000";

function remoteAt(name: string, uuid: string, transport: RemoteTransport): Remote {
  return {
    name,
    uuid,
    cost: 100,
    transport,
    proxy: true,
    clusterNode: [],
    clusterGateway: [],
    proxiedBy: null,
    ignore: false,
  };
}

/** The local kind, counting the remotes it opens. */
function countingLocal(): { kind: PeerKind<"local">; opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    kind: {
      kind: "local",
      open: async (remote, transport, ctx) => {
        opened.push(remote.name);
        return localKind.open(remote, transport, ctx);
      },
    },
  };
}

describe("PeerKinds", () => {
  let dir: string;
  let node: Remote;

  before(async () => {
    dir = await makeTempDir("annexgate-registry-");
    await gitAnnexRepo(dir, "node");
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    node = remoteAt("node", uuid, { kind: "local", path: dir });
  });
  after(async () => {
    await removeDir(dir);
  });

  it("has the local, ssh, p2phttp, directory and S3 kinds built in", () => {
    assert.deepEqual(builtinPeerKinds.names.sort(), ["S3", "directory", "local", "p2phttp", "ssh"]);
  });

  it("opens a remote with the kind registered for it, a real repository", async () => {
    const counting = countingLocal();
    const kinds = builtinPeerKinds.with(counting.kind);
    assert.deepEqual(
      kinds.names.sort(),
      ["S3", "directory", "local", "p2phttp", "ssh"],
      "replaced, not added",
    );
    const conn = await kinds.open(node, { gatewayUuid: GATEWAY_UUID, commitDelayMs: 50 });
    const s = sample(3000);
    try {
      assert.deepEqual(counting.opened, ["node"]);
      assert.equal(conn.peer.uuid, node.uuid);
      const stored = await storeAll(conn.peer, s);
      assert.equal(stored.stored, true);
      assert.equal((await conn.peer.checkPresent(s.key)).present, true);
    } finally {
      await conn.close();
    }
    // The content and its location record are in the repository on disk.
    const repo = await openLocalRepository(dir);
    try {
      assert.equal(await repo.store.has(s.key), true);
      assert.deepEqual(await locationsOf(repo.branch, s.key), [node.uuid]);
    } finally {
      await repo.close();
    }
  });

  it("refuses a kind it does not know with a typed error, opening nothing", async () => {
    const counting = countingLocal();
    const kinds = new PeerKinds([counting.kind]);
    const ssh = remoteAt("far", node.uuid, { kind: "ssh", host: "example.invalid", path: "/r" });
    await assert.rejects(kinds.open(ssh, { gatewayUuid: GATEWAY_UUID }), (e: unknown) => {
      assert.ok(e instanceof UnknownRemoteKindError);
      assert.equal(e.code, "AG_UNKNOWN_REMOTE_KIND");
      assert.equal(e.data.kind, "ssh");
      assert.deepEqual(e.data.known, ["local"]);
      assert.match(e.message, /remote far: no support for remotes of kind ssh/);
      return true;
    });
    await assert.rejects(
      new PeerKinds([]).open(node, { gatewayUuid: GATEWAY_UUID }),
      UnknownRemoteKindError,
    );
    assert.deepEqual(counting.opened, []);
  });

  it("an unsupported remote is unreachable, with git-annex config's reason", async () => {
    const special = remoteAt("s3", node.uuid, { kind: "unsupported", reason: "a special remote" });
    await assert.rejects(
      builtinPeerKinds.open(special, { gatewayUuid: GATEWAY_UUID }),
      (e: unknown) =>
        e instanceof UnreachableRemoteError &&
        e.code === "AG_UNREACHABLE_REMOTE" &&
        e.message === "cannot reach remote s3: a special remote",
    );
  });

  it("a local repository that is not the remote's UUID is unreachable", async () => {
    const wrong = remoteAt("node", "11111111-1111-4111-8111-111111111111", node.transport);
    await assert.rejects(
      builtinPeerKinds.open(wrong, { gatewayUuid: GATEWAY_UUID }),
      (e: unknown) =>
        e instanceof UnreachableRemoteError && /expected repository UUID/.test(e.message),
    );
  });

  it("refuses two kinds of one name", () => {
    assert.throws(() => new PeerKinds([localKind, localKind]), DuplicatePeerKindError);
  });
});
