/**
 * The gateway and the commands read one policy snapshot: the same builder,
 * so the same trust overrides (remote.NAME.annex-trustlevel), unused keys
 * and clusters, and so the same answer to the same expression — the
 * gateway's snapshot evaluated here, `annexgate matchexpression` run as a
 * real process in the same repository.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { newAnnexBranch } from "../branch/branch.fixture.js";
import { recordCluster, recordTrust, setLocation } from "../branch/index.js";
import { formatKey, parseKey } from "../keys/index.js";
import { type LocalRepository, openLocalRepository } from "../peers/index.js";
import { buildPolicySnapshot, LiveSizes } from "../policy/index.js";
import {
  loadKeyState,
  matches,
  type Policy,
  parsePreferredContent,
} from "../preferred-content/index.js";
import { loadGatewayConfig } from "../remotes/index.js";
import { GatewaySnapshots } from "./gateway-snapshot.js";

const CLI = join(import.meta.dirname, "..", "cli", "main.js");
const HERE = "e0000000-0000-4000-8000-00000000000e";
const NODE = "a0000000-0000-4000-8000-000000000001";
const CLUSTER = "ac000000-0000-8000-8000-000000000009";
const KEY = parseKey(
  "SHA256E-s10--0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
);
const UNUSED = parseKey(
  "SHA256E-s20--fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
);

/** `annexgate matchexpression ...` in `dir`: its exit code. */
function cliMatch(dir: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, "matchexpression", ...args], { cwd: dir }, (e) => {
      if (e === null) resolve(0);
      else if (typeof e.code === "number") resolve(e.code);
      else reject(e);
    });
  });
}

describe("one policy snapshot for the gateway and the commands", () => {
  let dir: string;
  let repo: LocalRepository;
  let policy: Policy;

  before(async () => {
    dir = await makeTempDir("annexgate-gwsnap-");
    const { git, branch } = await newAnnexBranch(dir, HERE, "gateway");
    // trust.log says trusted; the git config of this repository says untrusted.
    await recordTrust(branch, NODE, "trusted");
    await setLocation(branch, KEY, NODE, true);
    await recordCluster(branch, CLUSTER, [NODE]);
    await branch.close();
    await run("git", ["-C", dir, "config", "remote.node.annex-uuid", NODE]);
    await run("git", ["-C", dir, "config", "remote.node.annex-trustlevel", "untrusted"]);
    // As `git annex unused` writes it: number, key, timestamp.
    await mkdir(join(git.gitDir, "annex"), { recursive: true });
    await writeFile(join(git.gitDir, "annex", "unused"), `1 ${formatKey(UNUSED)} 1700000000s\n`);
    repo = await openLocalRepository(dir, { commitDelayMs: 50 });
    const snapshots = new GatewaySnapshots({
      repo,
      live: new LiveSizes(),
      loadConfig: () => loadGatewayConfig(repo.git, repo.branch),
    });
    policy = (await snapshots.current()).policy;
    await snapshots.settle();
  });

  after(async () => {
    await repo?.close();
    if (dir) await removeDir(dir);
  });

  it("the gateway applies the annex-trustlevel override, the unused keys and the clusters", () => {
    assert.equal(policy.trustOf(NODE), "untrusted");
    assert.ok(policy.snapshot.unusedKeys?.has(formatKey(UNUSED)));
    assert.deepEqual([...(policy.snapshot.clusters?.get(NODE) ?? [])], [CLUSTER]);
  });

  it("is the snapshot the commands build, sizes apart", async () => {
    const { repoSizes: _r, maxSizes: _m, ...gateway } = policy.snapshot;
    const { repoSizes: _r2, maxSizes: _m2, ...cli } = await buildPolicySnapshot(repo);
    assert.deepEqual(gateway, cli);
  });

  // trust.log alone would make the node trusted: the answers below hold
  // only when the override is applied, by both.
  for (const [expr, key, expected] of [
    ["copies=untrusted:1", KEY, true],
    ["copies=trusted:1", KEY, false],
    ["copies=semitrusted+:1", KEY, false],
    ["unused", UNUSED, true],
    ["unused", KEY, false],
  ] as const) {
    it(`"${expr}" for ${key.name.slice(0, 8)}: the gateway and matchexpression both say ${expected}`, async () => {
      const parsed = parsePreferredContent(expr);
      assert.ok(parsed.ok);
      const state = await loadKeyState(repo.branch, key, false);
      const server = matches(policy, parsed.matcher, { mode: "user", key }, { repo: HERE, state });
      assert.equal(server, expected);
      assert.equal(await cliMatch(dir, ["--key", formatKey(key), expr]), expected ? 0 : 1);
    });
  }
});

describe("the gateway's snapshot after its own commits", () => {
  let dir: string;
  let repo: LocalRepository;
  before(async () => {
    dir = await makeTempDir("annexgate-gwsnap-own-");
    const { branch } = await newAnnexBranch(dir, HERE, "gateway");
    await recordTrust(branch, NODE, "trusted");
    await branch.close();
    // Commits are made by the test, not by the timer.
    repo = await openLocalRepository(dir, { commitDelayMs: 3_600_000 });
  });
  after(async () => {
    await repo?.close();
    if (dir) await removeDir(dir);
  });

  it("a commit of only per-key logs keeps the snapshot; one of a top-level log replaces it", async () => {
    const snapshots = new GatewaySnapshots({
      repo,
      live: new LiveSizes(),
      loadConfig: () => loadGatewayConfig(repo.git, repo.branch),
      intervalMs: 0,
    });
    const first = await snapshots.current();
    await snapshots.settle();
    assert.equal(first.policy.trustOf(NODE), "trusted");

    await setLocation(repo.branch, KEY, NODE, true);
    assert.ok(await repo.branch.commit(), "a commit of the location log");
    const second = await snapshots.current();
    await snapshots.settle();
    assert.equal(
      (await snapshots.current()).policy,
      first.policy,
      "kept: nothing it holds changed",
    );

    await recordTrust(repo.branch, NODE, "untrusted");
    assert.ok(await repo.branch.commit(), "a commit of trust.log");
    await snapshots.current(); // sees the branch moved, reloads in the background
    await snapshots.settle();
    const third = await snapshots.current();
    assert.notEqual(third.policy, second.policy, "replaced");
    assert.equal(third.policy.trustOf(NODE), "untrusted");
  });
});
