/**
 * What the export naming refuses at open, each with a reason (never a
 * remote served with the wrong naming), and what it composes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../../test/helpers/index.js";
import { AnnexBranch } from "../../branch/index.js";
import { Git } from "../../git/index.js";
import type { Remote, SpecialRemoteConfig } from "../../remotes/index.js";
import { DirectoryStorage } from "../directory/directory-storage.js";
import { UnreachableRemoteError } from "../registry.js";
import { ExportStorage } from "./export-storage.js";
import { exportNaming } from "./open-export.js";
import type { SpecialStorage } from "./storage.js";

const UUID = "4f2cc4df-6ea4-4db1-a3bc-79378573506a";

function remoteWith(fields: Record<string, string>): {
  remote: Remote;
  special: SpecialRemoteConfig;
} {
  const special = { fields: { type: "directory", ...fields }, gitConfig: { directory: "/x" } };
  return {
    special,
    remote: {
      name: "ex",
      uuid: UUID,
      cost: 100,
      transport: { kind: "directory", directory: "/x", special },
      proxy: true,
      clusterNode: [],
      clusterGateway: [],
      proxiedBy: null,
      ignore: false,
      special,
    },
  };
}

describe("exportNaming", () => {
  let dir: string;
  let branch: AnnexBranch;

  before(async () => {
    dir = await makeTempDir("annexgate-open-export-");
    await run("git", ["init", "-q", dir]);
    await run("git", ["config", "user.email", "t@example.com"], { cwd: dir });
    await run("git", ["config", "user.name", "t"], { cwd: dir });
    branch = await AnnexBranch.open(await Git.open(dir));
  });
  after(async () => {
    await branch.close();
    await removeDir(dir);
  });

  const ctx = () => ({ gatewayUuid: "11111111-1111-4111-8111-111111111111", branch });

  it("leaves a remote that is not an export as it is", () => {
    const storage = new DirectoryStorage(dir);
    const { remote, special } = remoteWith({});
    assert.equal(exportNaming(remote, special, storage, ctx()), storage);
  });

  it("composes the export naming for exporttree=yes annexobjects=yes", () => {
    const { remote, special } = remoteWith({ exporttree: "yes", annexobjects: "yes" });
    const named = exportNaming(remote, special, new DirectoryStorage(dir), ctx());
    assert.ok(named instanceof ExportStorage);
  });

  it("refuses, with a reason, what it cannot serve rightly", () => {
    const cases: [Record<string, string>, RegExp, boolean?][] = [
      [{ exporttree: "yes" }, /needs annexobjects=yes/],
      [{ exporttree: "yes", annexobjects: "yes", importtree: "yes" }, /importtree=yes/],
      [
        { exporttree: "yes", annexobjects: "yes", encryption: "shared", cipher: "c" },
        /cannot enable both encryption and exporttree/,
      ],
      [{ exporttree: "yes", annexobjects: "yes" }, /export log cannot be read/, false],
    ];
    for (const [fields, reason, withBranch = true] of cases) {
      const { remote, special } = remoteWith(fields);
      assert.throws(
        () =>
          exportNaming(
            remote,
            special,
            new DirectoryStorage(dir),
            withBranch ? ctx() : { gatewayUuid: ctx().gatewayUuid },
          ),
        (e: unknown) => e instanceof UnreachableRemoteError && reason.test(e.message),
        JSON.stringify(fields),
      );
    }
    // A storage that cannot be addressed by path.
    const { remote, special } = remoteWith({ exporttree: "yes", annexobjects: "yes" });
    const storage = new DirectoryStorage(dir);
    const keyed: SpecialStorage = {
      stage: (name, o) => storage.stage(name, o),
      stagedLength: (name) => storage.stagedLength(name),
      read: (name, offset) => storage.read(name, offset),
      has: (name) => storage.has(name),
      remove: (name) => storage.remove(name),
      close: () => storage.close(),
    };
    assert.throws(
      () => exportNaming(remote, special, keyed, ctx()),
      /exporttree=yes is not supported yet for this type/,
    );
  });
});
