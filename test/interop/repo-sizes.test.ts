/**
 * Repository sizes and maximum sizes, annexgate against stock git-annex:
 * across a random history made by stock git-annex in three clones (adds,
 * drops, copies, merges that bring in redundant log lines, unsized keys,
 * a cluster), `annexgate info` reports the same sizes as
 * `git annex info`, whether it computes them in full or moves its cache
 * forward; maxsize.log written by either is read back by the other.
 */
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Git } from "../../src/git/index.js";
import { genUuid } from "../../src/keys/index.js";
import { currentRepoSizes, deadRepositories, repoSizesCachePath } from "../../src/policy/index.js";
import { parseSize } from "../../src/sizes/index.js";
import { makeTempDir, removeDir, run } from "../helpers/index.js";
import { prng } from "../helpers/prng.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const ENV = {
  GIT_AUTHOR_NAME: "annexgate test",
  GIT_AUTHOR_EMAIL: "test@annexgate.invalid",
  GIT_COMMITTER_NAME: "annexgate test",
  GIT_COMMITTER_EMAIL: "test@annexgate.invalid",
};

let tmp: string;
before(async () => {
  tmp = await makeTempDir("annexgate-reposizes-");
});
after(async () => {
  await removeDir(tmp);
});

function git(cwd: string, args: readonly string[]): Promise<string> {
  return run("git", args, { cwd, env: ENV });
}
function annex(cwd: string, args: readonly string[], input?: string): Promise<string> {
  return run(
    "git",
    ["annex", ...args],
    input === undefined ? { cwd, env: ENV } : { cwd, env: ENV, input },
  );
}
function annexgate(cwd: string, args: readonly string[]): Promise<string> {
  return run(process.execPath, [CLI, ...args], { cwd, env: ENV });
}

interface SizesView {
  readonly list: unknown;
  readonly combined: unknown;
}

function sizesOf(json: string): SizesView {
  const o = JSON.parse(json.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  return {
    list: o["annex sizes of repositories"],
    combined: o["combined annex size of all repositories"],
  };
}

/** How annexgate arrived at the sizes it compared, over the whole test. */
const hows = new Set<string>();

/**
 * Stock and annexgate agree: annexgate's sizes moved forward from its
 * cache (or computed in full when it has none), both in bytes and rounded
 * when `rounded`, and then computed in full.
 */
async function checkSizes(repo: string, what: string, rounded = false): Promise<void> {
  const stock = sizesOf(await annex(repo, ["info", "--json", "--bytes"]));
  assert.ok(Array.isArray(stock.list), `${what}: stock lists sizes`);
  const report = await currentRepoSizes(await Git.open(repo));
  const dead = await deadRepositories(await Git.open(repo));
  hows.add(report.how);
  const stockSizes = (stock.list as { uuid: string; size: string }[]).map((e) => [e.uuid, e.size]);
  const ours = [...report.sizes]
    .filter(([u, v]) => v > 0n && !dead.has(u))
    .map(([u, v]) => [u, v.toString()]);
  assert.deepEqual(ours.sort(), stockSizes.sort(), `${what}: ${report.how}`);
  const cli = sizesOf(await annexgate(repo, ["info", "--json", "--bytes"]));
  assert.deepEqual(cli, stock, `${what}: annexgate info --bytes`);
  if (rounded) {
    const stockRounded = sizesOf(await annex(repo, ["info", "--json"]));
    assert.deepEqual(sizesOf(await annexgate(repo, ["info", "--json"])), stockRounded, what);
    assert.deepEqual(
      sizeLines(await annexgate(repo, ["info"])),
      sizeLines(await annex(repo, ["info"])),
      `${what}: text`,
    );
  }
  await rm(repoSizesCachePath(await Git.open(repo)), { force: true });
  const full = sizesOf(await annexgate(repo, ["info", "--json", "--bytes"]));
  assert.deepEqual(full, stock, `${what}: full`);
  // leave a cache at this commit, for the next check to move forward
  await currentRepoSizes(await Git.open(repo));
}

/** The repository-size lines of `info`'s text output. */
function sizeLines(text: string): string[] {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("annex sizes of repositories:"));
  const list = lines.slice(at, at + 1);
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith("\t")) break;
    list.push(l);
  }
  return [
    ...lines.filter((l) => l.startsWith("combined annex size of all repositories:")),
    ...list,
  ];
}

async function uuidOf(repo: string): Promise<string> {
  return (await git(repo, ["config", "annex.uuid"])).trim();
}

describe("repository sizes, annexgate vs git annex info", () => {
  it("agree across a random history in three clones, after full and incremental computation", async () => {
    const rand = prng(20250416);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const a = join(tmp, "a");
    await git(tmp, ["init", "-q", a]);
    await annex(a, ["init", "-q", "repo a"]);
    await git(a, ["commit", "-q", "--allow-empty", "-m", "init"]);
    const clones = [a];
    for (const name of ["b", "c"]) {
      const dir = join(tmp, name);
      await git(tmp, ["clone", "-q", a, dir]);
      await annex(dir, ["init", "-q", `repo ${name}`]);
      clones.push(dir);
    }
    const uuids = await Promise.all(clones.map(uuidOf));
    const stranger = genUuid(); // a repository no uuid.log here knows
    const files: { repo: string; name: string }[] = [];
    let n = 0;
    const sync = async (repo: string) => {
      await annex(repo, ["sync", "-q", "--no-content", "--no-commit"]).catch(() => undefined);
    };
    const deadline = Date.now() + 75_000;
    for (let round = 0; round < 5 && Date.now() < deadline; round++) {
      for (let op = 0; op < 5; op++) {
        const repo = pick(clones);
        const r = rand();
        if (r < 0.35 || files.length === 0) {
          const count = 1 + Math.floor(rand() * 3);
          const names: string[] = [];
          for (let i = 0; i < count; i++) {
            n += 1;
            const name = `f${n}.dat`;
            await writeFile(join(repo, name), Buffer.alloc(Math.floor(rand() * 5000), n));
            names.push(name);
          }
          await annex(repo, ["add", "-q", ...names]);
          await git(repo, ["commit", "-q", "-m", `add ${names.join(" ")}`]);
          for (const name of names) files.push({ repo, name });
        } else if (r < 0.5) {
          // drop in the repository that has it
          const f = pick(files);
          await annex(f.repo, ["drop", "-q", "--force", f.name]).catch(() => undefined);
        } else if (r < 0.65) {
          // copy between clones: a clone gets a file from origin, or sends one there
          const f = pick(files);
          if (f.repo === a) {
            const other = pick(clones.slice(1));
            await sync(other);
            await annex(other, ["get", "-q", f.name]).catch(() => undefined);
          } else {
            await annex(f.repo, ["copy", "-q", "--to", "origin", f.name]).catch(() => undefined);
          }
        } else if (r < 0.85) {
          // the same copy recorded in two clones, then merged: redundant lines
          const k = pick([
            `SHA256E-s${1 + Math.floor(rand() * 9999)}--r${n}`,
            `WORM-m1--unsized${n}`,
          ]);
          n += 1;
          const u = pick([...uuids, stranger]);
          const [x, y] = [clones[1], clones[2]] as [string, string];
          await annex(x, ["setpresentkey", k, u, "1"]);
          await annex(y, ["setpresentkey", k, u, "1"]);
          if (rand() < 0.3) await annex(y, ["setpresentkey", k, u, "0"]);
        } else {
          await sync(repo);
        }
      }
      for (const repo of [clones[1], clones[2], a, clones[1]] as string[]) await sync(repo);
      for (const [i, repo] of clones.entries()) {
        await checkSizes(repo, `round ${round}, clone ${i}`, i === round % 3);
      }
    }
    // a cluster of b and c behind a: its UUID is known but never counted
    for (const [i, name] of ["b", "c"].entries()) {
      await git(a, ["remote", "add", `node${name}`, clones[i + 1] ?? ""]).catch(() => undefined);
      await git(a, ["config", `remote.node${name}.annex-cluster-node`, "cl"]);
    }
    await annex(a, ["initcluster", "cl"]);
    await annex(a, ["updatecluster"]);
    const cluster = (await git(a, ["config", "remote.cl.annex-uuid"]).catch(() => "")).trim();
    await checkSizes(a, "with a cluster");
    const list = sizesOf(await annexgate(a, ["info", "--json"])).list as { uuid: string }[];
    assert.ok(!list.some((e) => e.uuid === cluster));
    assert.ok(list.length >= 3, "several repositories have content");
    // a dead repository is left out by both
    const deadOne = list[list.length - 1]?.uuid ?? "";
    await annex(a, ["dead", deadOne]);
    await checkSizes(a, "with a dead repository", true);
    const after = sizesOf(await annexgate(a, ["info", "--json"])).list as { uuid: string }[];
    assert.ok(!after.some((e) => e.uuid === deadOne));
    assert.ok(hows.has("incremental") && hows.has("full"), [...hows].join());
  });
});

/** Size texts made from git-annex's grammar: number forms, units, spacing, case. */
function randomSizeText(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const number = pick([
    String(Math.floor(rand() * 2000)),
    (rand() * 100).toFixed(Math.floor(rand() * 4)),
    `${Math.floor(rand() * 9) + 1}e${Math.floor(rand() * 4)}`,
    `0x${Math.floor(rand() * 4096).toString(16)}`,
    `(${Math.floor(rand() * 50)})`,
  ]);
  const unit = pick([
    "",
    "b",
    "kb",
    "KB",
    "k",
    "MiB",
    "mib",
    "gigabytes",
    "Gigabyte",
    "tib",
    "TB",
    "kbit",
    "Mbit",
    "petabytes",
    "eib",
    "ki",
  ]);
  return `${number}${pick(["", " ", "  "])}${unit}${pick(["", " extra"])}`;
}

describe("maxsize, annexgate vs git annex maxsize", () => {
  it("each reads back what the other records, and both show the same table", async () => {
    const a = join(tmp, "m");
    await git(tmp, ["init", "-q", a]);
    await annex(a, ["init", "-q", "max a"]);
    const b = join(tmp, "m-b");
    await git(tmp, ["clone", "-q", a, b]);
    await annex(b, ["init", "-q", "max b"]);
    await annex(a, ["sync", "-q", "--no-content"]).catch(() => undefined);
    await git(a, ["remote", "add", "bee", b]);
    await annex(a, ["sync", "-q", "--no-content", "bee"]).catch(() => undefined);

    await annexgate(a, ["maxsize", "here", "1.5 TiB"]);
    assert.equal((await annex(a, ["maxsize", "here", "--bytes"])).trim(), "1649267441664");
    await annex(a, ["maxsize", "bee", "100gb"]);
    assert.equal((await annexgate(a, ["maxsize", "bee", "--bytes"])).trim(), "100000000000");
    assert.equal(await annexgate(a, ["maxsize", "bee"]), await annex(a, ["maxsize", "bee"]));

    const rand = prng(1500);
    for (let i = 0; i < 14; i++) {
      const text = randomSizeText(rand);
      const ours = parseSize(text);
      if (i % 2 === 0) {
        await annexgate(a, ["maxsize", "here", text]);
        const back = (await annex(a, ["maxsize", "here", "--bytes"])).trim();
        assert.equal(back, ours.toString(), `annexgate wrote ${JSON.stringify(text)}`);
      } else {
        await annex(a, ["maxsize", "here", text]);
        const back = (await annexgate(a, ["maxsize", "here", "--bytes"])).trim();
        assert.equal(back, ours.toString(), `git-annex wrote ${JSON.stringify(text)}`);
      }
    }
    for (const args of [["maxsize"], ["maxsize", "--bytes"], ["maxsize", "--json"]]) {
      assert.equal(await annexgate(a, args), await annex(a, args), args.join(" "));
    }
    await assert.rejects(annexgate(a, ["maxsize", "here", "12 parsecs"]), /Unable to parse size/);
  });
});
