/**
 * `annexgate sim run --from REPO` and `sim report --from REPO`: a sim that
 * starts from a real repository built with stock commands (three node
 * repositories as git remotes, one of them dead, a directory special
 * remote, groups, wanted, required, groupwanted, maxsize, numcopies,
 * mincopies, trust, files copied around). Stock git-annex, run in the
 * sim's view of `here` by `visit`, reports the same state as in the real
 * repository: whereis, maxsize, trust, groups, expressions, copies.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  writeRandomFile,
} from "../helpers/index.js";
import { ANNEXGATE_BIN } from "../helpers/servers.js";

/** Stock commands whose answers must agree, as file name and shell words. */
function questions(uuids: readonly string[]): [string, string][] {
  const q: [string, string][] = [
    ["whereis", "git-annex whereis --json"],
    ["maxsize", "git-annex maxsize --json"],
    ["info", "git-annex info --fast --json"],
    ["numcopies", "git-annex numcopies"],
    ["mincopies", "git-annex mincopies"],
    ["groupwanted", "git-annex groupwanted store"],
  ];
  for (const u of uuids) {
    q.push([`group-${u}`, `git-annex group ${u}`]);
    q.push([`wanted-${u}`, `git-annex wanted ${u}`]);
    q.push([`required-${u}`, `git-annex required ${u}`]);
  }
  return q;
}

/** What must agree of an answer: whereis by file, repositories by UUID, without descriptions. */
function comparable(name: string, text: string): unknown {
  if (name === "whereis") {
    return text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; whereis: { uuid: string }[] })
      .map((r) => [r.file, r.whereis.map((w) => w.uuid).sort()]);
  }
  if (name === "maxsize") {
    const j = JSON.parse(text) as { repositories: { uuid: string; size: unknown }[] };
    return j.repositories.map((r) => [r.uuid, r.size]).sort();
  }
  if (name === "info") {
    const j = JSON.parse(text) as Record<string, unknown>;
    return ["trusted", "semitrusted", "untrusted"].map((level) =>
      ((j[`${level} repositories`] ?? []) as { uuid: string }[]).map((r) => r.uuid).sort(),
    );
  }
  return text;
}

describe("annexgate sim --from REPO: a sim that starts where a real repository is", {
  concurrency: 1,
}, () => {
  let tmp = "";
  let gw = "";
  const uuids: Record<string, string> = {};
  before(async () => {
    await requireGitAnnex();
    tmp = await makeTempDir("annexgate-simfrom-");
    gw = await gitAnnexRepo(join(tmp, "gw"), "gateway");
    const git = (...args: string[]) => run("git", args, { cwd: gw });
    for (const n of ["n1", "n2", "n3"]) {
      await gitAnnexRepo(join(tmp, n), `node ${n}`);
      await git("remote", "add", n, join(tmp, n));
    }
    await mkdir(join(tmp, "dirremote"));
    await git(
      "annex",
      "initremote",
      "dir",
      "type=directory",
      `directory=${join(tmp, "dirremote")}`,
      "encryption=none",
    );
    await mkdir(join(gw, "data", "sub"), { recursive: true });
    for (let i = 1; i <= 6; i++)
      await writeRandomFile(join(gw, "data", i % 2 ? "sub" : ".", `f${i}.bin`), i * 50_000);
    await git("annex", "add", "--quiet", "data");
    await git("commit", "-q", "-m", "files");
    await git("annex", "sync", "--quiet", "--no-content", "n1", "n2", "n3");
    await git("annex", "copy", "--quiet", "--to", "n1", "data/f2.bin", "data/f4.bin");
    await git("annex", "copy", "--quiet", "--to", "n2", "data/sub/f1.bin", "data/f2.bin");
    await git("annex", "copy", "--quiet", "--to", "n3", "data/sub/f3.bin");
    await git("annex", "copy", "--quiet", "--to", "dir", "data/sub/f5.bin");
    for (const n of ["n1", "n2"]) await git("annex", "group", n, "store");
    await git("annex", "groupwanted", "store", "balanced=store");
    await git("annex", "wanted", "n1", "groupwanted");
    await git("annex", "wanted", "n2", "groupwanted");
    await git("annex", "required", "dir", "include=*/sub/*");
    await git("annex", "maxsize", "n1", "1MB");
    await git("annex", "numcopies", "2");
    await git("annex", "mincopies", "2");
    await git("annex", "trust", "--force", "n2");
    await git("annex", "untrust", "dir");
    await git("annex", "dead", "--force", "n3");
    for (const r of ["n1", "n2", "n3"]) {
      uuids[r] = (await run("git", ["config", "annex.uuid"], { cwd: join(tmp, r) })).trim();
    }
    uuids.here = (await git("config", "annex.uuid")).trim();
    uuids.dir = (await git("config", "remote.dir.annex-uuid")).trim();
  });
  after(() => removeDir(tmp));

  it("stock git-annex in the sim's view of here answers as in the real repository", async () => {
    const out = join(tmp, "out");
    await mkdir(join(out, "real"), { recursive: true });
    await mkdir(join(out, "sim"), { recursive: true });
    const live = [uuids.here, uuids.n1, uuids.n2, uuids.dir] as string[];
    const qs = questions(live);
    const sim = qs.map(([name, cmd]) => `visit here ${cmd} > ${join(out, "sim", name)}`).join("\n");
    await writeFile(join(tmp, "from.sim"), `${sim}\n`);
    const ran = await run(
      process.execPath,
      [ANNEXGATE_BIN, "sim", "run", "--from", gw, join(tmp, "from.sim")],
      {
        cwd: gw,
      },
    );
    assert.match(ran, /Sim ended\./);
    for (const [name, cmd] of qs) {
      const real = await run("sh", ["-c", cmd], { cwd: gw });
      const simmed = await readFile(join(out, "sim", name), "utf8");
      assert.deepEqual(comparable(name, simmed), comparable(name, real), name);
    }
    // The dead node is not in the sim: its copy counts nowhere.
    assert.doesNotMatch(
      await readFile(join(out, "sim", "whereis"), "utf8"),
      new RegExp(uuids.n3 as string),
    );
  });

  it("report --from: what the changes would move, per pair of repositories", async () => {
    await writeFile(
      join(tmp, "grow.sim"),
      "seed 1\ninit n4\nconnect here -> n4\ngroup n4 store\nwanted n4 groupwanted\n" +
        "addmulti 30 .new 10kB 20kB here\nstepstable 200\n",
    );
    const report = await run(
      process.execPath,
      [ANNEXGATE_BIN, "sim", "report", "--from", gw, join(tmp, "grow.sim")],
      { cwd: gw },
    );
    assert.match(report, /^stable: it stabilized after \d+ steps/);
    // Balanced over n1, n2 and the new n4 (30 new files, a third each
    // by their keys' hashes): n4 gets some; n1's maxsize holds.
    assert.match(report, /^here -> n4 +\d+ +[\d.]+ kB$/m);
    assert.match(report, /^n1 +\d+ +[\d.]+ kB +1 MB /m);
    assert.doesNotMatch(report, /over their maxsize/);
  });
});
