/**
 * Every git-annex-shell mode (none, READONLY, APPENDONLY, LIMITED,
 * DIRECTORY) against every route into git (git-upload-pack,
 * git-receive-pack, git-upload-archive through git-shell; CONNECT in a
 * p2pstdio session, local and `--uuid` proxied) and into content
 * (CHECKPRESENT, LOCKCONTENT, GET, PUT, REMOVE, REMOVE-BEFORE,
 * GETTIMESTAMP), run on stock git-annex-shell and on annexgate's, each on
 * its own copy of the same repositories (a served repository, a gateway
 * with a proxied remote and a cluster), comparing exit status, every reply
 * line and stderr. The few places annexgate answers differently on purpose
 * are listed in KNOWN and checked for what annexgate does instead.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { localCluster, uuidOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { ANNEXGATE_GIT_ANNEX_SHELL } from "../helpers/sshd.js";

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const CLIENT = "00000000-1111-2222-3333-444444444444";
/* HOME is each tree, so git's identity comes from the environment. */
const IDENTITY = {
  GIT_AUTHOR_NAME: "annexgate test",
  GIT_AUTHOR_EMAIL: "test@annexgate.invalid",
  GIT_COMMITTER_NAME: "annexgate test",
  GIT_COMMITTER_EMAIL: "test@annexgate.invalid",
};

function sha256eKey(data: Buffer): string {
  return `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}.txt`;
}

function runShell(
  program: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  input: Buffer,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { ...process.env, ANNEXGATE_NODE: process.execPath, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      // Timestamps are the clock's; the rest must match byte for byte.
      const stdout = Buffer.concat(out)
        .toString("latin1")
        .replace(/^TIMESTAMP \d+$/gm, "TIMESTAMP N");
      resolve({ code, stdout, stderr: err });
    });
  });
}

function lines(...ls: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    ls.map((l) =>
      Buffer.isBuffer(l) ? Buffer.concat([l, Buffer.from("\n")]) : Buffer.from(`${l}\n`),
    ),
  );
}

/** One mode: its environment, given the tree (HOME) a shell runs in. */
interface Mode {
  readonly name: string;
  readonly env: (home: string) => Record<string, string>;
  readonly readonly?: boolean;
  readonly appendonly?: boolean;
  readonly limited?: boolean;
}

const MODES: readonly Mode[] = [
  { name: "no restriction", env: () => ({}) },
  { name: "READONLY", env: () => ({ GIT_ANNEX_SHELL_READONLY: "1" }), readonly: true },
  { name: "APPENDONLY", env: () => ({ GIT_ANNEX_SHELL_APPENDONLY: "1" }), appendonly: true },
  { name: "LIMITED", env: () => ({ GIT_ANNEX_SHELL_LIMITED: "1" }), limited: true },
  {
    name: "READONLY+LIMITED",
    env: () => ({ GIT_ANNEX_SHELL_READONLY: "1", GIT_ANNEX_SHELL_LIMITED: "1" }),
    readonly: true,
    limited: true,
  },
  // The target's own directory is allowed (set per target below).
  { name: "DIRECTORY (this one)", env: () => ({}) },
  { name: "DIRECTORY (another)", env: (home) => ({ GIT_ANNEX_SHELL_DIRECTORY: join(home, "n1") }) },
];

/** Where a p2pstdio session goes: the served repository, or through the gateway. */
interface Target {
  readonly name: string;
  readonly dir: string; // relative to the tree
  readonly uuid: () => string | undefined;
}

describe("git-annex-shell modes against every route, stock and annexgate", {
  timeout: 1_800_000,
}, () => {
  let root = "";
  let stockHome = "";
  let oursHome = "";
  let stock = "";
  let nodeUuid = "";
  let clusterUuid = "";
  const content = Buffer.from("the content\n");
  const key = sha256eKey(content);

  const TARGETS: readonly Target[] = [
    { name: "local", dir: "repo", uuid: () => undefined },
    { name: "proxied remote", dir: "gw", uuid: () => nodeUuid },
    { name: "cluster", dir: "gw", uuid: () => clusterUuid },
  ];

  before(async () => {
    root = await makeTempDir("annexgate-shell-modes-");
    stock = (await run("sh", ["-c", "command -v git-annex-shell"])).trim();
    const tree = join(root, "template");
    await mkdir(tree);
    const repo = await gitAnnexRepo(join(tree, "repo"), "served");
    await writeFile(join(repo, "f.txt"), content);
    await run("git", ["annex", "add", "-q", "f.txt"], { cwd: repo });
    await run("git", ["commit", "-q", "-m", "f"], { cwd: repo });
    // gw: n1 a cluster node, n2 a proxied remote (stock's own configuration).
    const { gw, cluster } = await localCluster(tree, ["n1"], "stock");
    clusterUuid = cluster;
    // localCluster names the node by its absolute path, which the copies
    // below would share: stock's upload would then land in the node annexgate
    // uses too (and annexgate answer ALREADY-HAVE-PLUS for a new key).
    await run("git", ["remote", "set-url", "n1", "../n1"], { cwd: gw });
    await gitAnnexRepo(join(tree, "n2"), "n2");
    await run("git", ["remote", "add", "n2", "../n2"], { cwd: gw });
    await run("git", ["config", "remote.n2.annex-proxy", "true"], { cwd: gw });
    await run("git", ["annex", "updateproxy"], { cwd: gw });
    nodeUuid = await uuidOf(join(tree, "n2"));
    // For DIRECTORY: link/.. is "elsewhere", which has a repository named
    // like the allowed one; repolink is a symlink to the allowed one.
    await mkdir(join(tree, "elsewhere", "sub"), { recursive: true });
    await gitAnnexRepo(join(tree, "elsewhere", "repo"), "decoy");
    await symlink(join("elsewhere", "sub"), join(tree, "link"));
    await symlink("repo", join(tree, "repolink"));
    // The same repositories (and UUIDs) for each shell; node paths are relative.
    stockHome = join(root, "stock");
    oursHome = join(root, "ours");
    await run("cp", ["-a", tree, stockHome]);
    await run("cp", ["-a", tree, oursHome]);
  });

  after(async () => {
    if (root) await removeDir(root);
  });

  /** The same call to both shells, each in its own tree (also its HOME). */
  async function both(
    args: (home: string) => string[],
    env: (home: string) => Record<string, string>,
    input: Buffer,
  ): Promise<[Outcome, Outcome]> {
    const call = (program: string, home: string) =>
      runShell(program, args(home), { ...IDENTITY, HOME: home, ...env(home) }, input).then((o) => ({
        ...o,
        // The trees differ only in where they are.
        stdout: o.stdout.replaceAll(home, "HOME"),
        stderr: o.stderr.replaceAll(home, "HOME"),
      }));
    return Promise.all([call(stock, stockHome), call(ANNEXGATE_GIT_ANNEX_SHELL, oursHome)]);
  }

  function same(a: Outcome, b: Outcome, what: string): void {
    assert.equal(
      b.code,
      a.code,
      `${what}: exit status\nstock: ${a.stderr}\nannexgate: ${b.stderr}`,
    );
    assert.equal(b.stdout, a.stdout, `${what}: replies`);
    assert.equal(b.stderr, a.stderr, `${what}: stderr`);
  }

  function modeEnv(mode: Mode, target: Target): (home: string) => Record<string, string> {
    if (mode.name === "DIRECTORY (this one)") {
      return (home) => ({ GIT_ANNEX_SHELL_DIRECTORY: join(home, target.dir) });
    }
    return mode.env;
  }

  function p2pstdio(target: Target): (home: string) => string[] {
    const u = target.uuid();
    return (home) => ["p2pstdio", join(home, target.dir), CLIENT, ...(u ? ["--uuid", u] : [])];
  }

  /** The content routes, then CONNECT git-receive-pack and one more request. */
  function contentSession(mode: Mode, target: Target): Buffer {
    // Content of its own per session, so no session finds another's.
    const fresh = Buffer.from(`fresh content, ${mode.name}, ${target.name}\n`);
    const freshKey = sha256eKey(fresh);
    const put = mode.readonly
      ? [`PUT new.txt ${freshKey}`]
      : [
          `PUT new.txt ${freshKey}`,
          `DATA ${fresh.length}`,
          Buffer.concat([fresh, Buffer.from("VALID")]),
        ];
    return lines(
      "VERSION 4",
      `CHECKPRESENT ${key}`,
      `LOCKCONTENT ${key}`,
      // Through the gateway the key is absent and the lock fails; stock's
      // proxy answers a stray UNLOCKCONTENT with "protocol error" and ends.
      ...(target.name === "local" ? ["UNLOCKCONTENT"] : []),
      `GET 0 f.txt ${key}`,
      "FAILURE",
      ...put,
      `CHECKPRESENT ${freshKey}`,
      `REMOVE-BEFORE 0 ${freshKey}`,
      `REMOVE ${freshKey}`,
      "GETTIMESTAMP",
      "CONNECT git-receive-pack",
      `CHECKPRESENT ${key}`,
    );
  }

  // First, while both trees are still the same commits for git.
  for (const mode of MODES) {
    it(`${mode.name}: git's commands through git-shell, configlist, legacy commands`, async () => {
      const target = TARGETS[0] as Target;
      const env = modeEnv(mode, target);
      const flush = Buffer.from("0000");
      for (const cmd of ["git-upload-pack", "git-receive-pack", "git-upload-archive"]) {
        const [a, b] = await both((h) => ["-c", `${cmd} '${join(h, "repo")}'`], env, flush);
        // git-upload-archive's sideband chunks its usage text differently each run.
        if (cmd === "git-upload-archive") same({ ...a, stdout: "" }, { ...b, stdout: "" }, cmd);
        else same(a, b, `${mode.name} ${cmd}`);
        if (mode.limited) assert.match(b.stderr, /Action blocked by GIT_ANNEX_SHELL_LIMITED/);
      }
      const [a, b] = await both((h) => ["configlist", join(h, "repo")], env, Buffer.alloc(0));
      same(a, b, `${mode.name} configlist`);
      // The legacy commands a mode blocks are refused before anything else.
      const blocked = mode.readonly ? ["recvkey", "dropkey"] : mode.appendonly ? ["dropkey"] : [];
      for (const cmd of blocked) {
        const [x, y] = await both((h) => [cmd, join(h, "repo"), key], env, Buffer.alloc(0));
        same(x, y, `${mode.name} ${cmd}`);
        assert.match(y.stderr, /Action blocked by GIT_ANNEX_SHELL_(READONLY|APPENDONLY)/);
      }
    });
  }

  for (const mode of MODES) {
    for (const target of TARGETS) {
      it(`${mode.name}, ${target.name}: content routes and CONNECT git-receive-pack`, async () => {
        const [a, b] = await both(
          p2pstdio(target),
          modeEnv(mode, target),
          contentSession(mode, target),
        );
        const allowed = mode.name !== "DIRECTORY (another)";
        const relayed = allowed && !mode.readonly && !mode.appendonly && !mode.limited;
        if (!relayed) {
          same(a, b, `${mode.name} ${target.name}`);
          if (allowed) assert.match(a.stdout, /^AUTH-SUCCESS /);
          else assert.match(a.stderr, /^git-annex: Only allowed to access ~\/n1 not /);
          if (mode.readonly || mode.appendonly) {
            assert.match(b.stdout, /ERROR this repository is read-only; write access denied\n/);
          }
          if (mode.limited && !mode.readonly) {
            assert.match(b.stderr, /relaying to git not supported on this connection/);
          }
          return;
        }
        // KNOWN: annexgate relays CONNECT to git (stock p2pstdio cannot);
        // everything before it is the same.
        assert.equal(a.code, 1);
        assert.match(a.stderr, /p2pstdio: 1 failed\n$/);
        assert.equal(b.code, 0, b.stderr);
        assert.ok(
          b.stdout.startsWith(a.stdout),
          `replies before CONNECT\n${a.stdout}\n${b.stdout}`,
        );
        assert.match(b.stdout, /CONNECTDONE \d+\n$/);
      });

      it(`${mode.name}, ${target.name}: CONNECT git-upload-pack`, async () => {
        const input = lines("VERSION 4", "CONNECT git-upload-pack");
        const [a, b] = await both(p2pstdio(target), modeEnv(mode, target), input);
        const allowed = mode.name !== "DIRECTORY (another)";
        if (!allowed || mode.limited) {
          same(a, b, `${mode.name} ${target.name}`);
          return;
        }
        // KNOWN: annexgate relays git-upload-pack (read-only for git) in
        // every mode but LIMITED; stock p2pstdio cannot relay at all.
        assert.equal(a.code, 1);
        assert.match(a.stderr, /p2pstdio: 1 failed\n$/);
        assert.equal(b.code, 0, b.stderr);
        // The input ends at once, so git may not get to say anything.
        assert.match(b.stdout, /CONNECTDONE \d+\n$/);
      });
    }
  }

  it("DIRECTORY: a path through a symlink is refused as stock refuses it", async () => {
    const env = (h: string) => ({ GIT_ANNEX_SHELL_DIRECTORY: join(h, "repo") });
    const session = lines("VERSION 4", `CHECKPRESENT ${key}`);
    for (const dir of ["~/link/../repo", "/~/link/../repo", "repolink", "~/repolink"]) {
      for (const args of [
        (h: string) => ["configlist", dir.startsWith("repolink") ? join(h, dir) : dir],
        () => ["p2pstdio", dir, CLIENT],
        () => ["-c", `git-upload-pack '${dir}'`],
      ]) {
        const [a, b] = await both(args, env, session);
        same(a, b, `DIRECTORY ${dir} ${args("HOME").join(" ")}`);
        assert.equal(b.code, 1);
        assert.match(b.stderr, /^git-annex: Only allowed to access ~\/repo not /);
      }
    }
    // KNOWN: written absolutely, stock collapses ".." to pass its check and
    // then opens the path through the symlink, reaching the decoy beside
    // its target; annexgate refuses it.
    for (const args of [
      (h: string) => ["configlist", `${h}/link/../repo`],
      (h: string) => ["-c", `git-upload-pack '${h}/link/../repo'`],
      () => ["configlist", "link/../repo"],
    ]) {
      const [a, b] = await both(args, env, Buffer.from("0000"));
      assert.equal(a.code === 0 || a.stdout !== "", true, `stock serves it: ${a.stderr}`);
      assert.equal(b.code, 1);
      assert.equal(b.stdout, "");
      assert.equal(b.stderr, "git-annex: Only allowed to access ~/repo not ~/link/../repo\n");
    }
    const decoy = await uuidOf(join(stockHome, "elsewhere", "repo"));
    const [a] = await both((h) => ["configlist", `${h}/link/../repo`], env, Buffer.alloc(0));
    assert.match(a.stdout, new RegExp(`annex.uuid=${decoy}`));
  });
});

describe("a cluster's -PLUS replies when a node already holds the key, stock and annexgate", {
  timeout: 600_000,
}, () => {
  let root = "";
  before(async () => {
    root = await makeTempDir("annexgate-shell-plus-");
  });
  after(async () => {
    if (root) await removeDir(root);
  });

  /** Equally cheap nodes come in another order from stock (not a difference a client sees). */
  const sortedPlus = (s: string) =>
    s.replace(
      /^(\S+-PLUS) (.+)$/gm,
      (_m, w: string, us: string) => `${w} ${us.split(" ").sort().join(" ")}`,
    );

  it("names the nodes that stored an upload, those that had it when all had it, never the gateway", async () => {
    const tree = join(root, "template");
    await mkdir(tree);
    const { gw, cluster } = await localCluster(tree, ["n1", "n3"], "stock");
    for (const n of ["n1", "n3"]) {
      await run("git", ["remote", "set-url", n, `../${n}`], { cwd: gw });
    }
    // n3 has the content; the gateway's location log does not know it.
    const content = Buffer.from("held by n3 already\n");
    const key = sha256eKey(content);
    await writeFile(join(tree, "n3", "held.txt"), content);
    await run("git", ["annex", "add", "-q", "held.txt"], { cwd: join(tree, "n3") });
    const [n1, n3, gwUuid] = (await Promise.all(
      ["n1", "n3", "gw"].map((d) => uuidOf(join(tree, d))),
    )) as [string, string, string];
    const upload = [
      `PUT new.txt ${key}`,
      `DATA ${content.length}`,
      Buffer.concat([content, Buffer.from("VALID")]),
    ];
    const session = lines(
      "VERSION 4",
      ...upload,
      `PUT new.txt ${key}`,
      `REMOVE ${key}`,
      `CHECKPRESENT ${key}`,
      ...upload,
    );
    const outcomes: Outcome[] = [];
    for (const [kind, program] of [
      ["stock", (await run("sh", ["-c", "command -v git-annex-shell"])).trim()],
      ["ours", ANNEXGATE_GIT_ANNEX_SHELL],
    ] as const) {
      const home = join(root, kind);
      await run("cp", ["-a", tree, home]);
      const args = ["p2pstdio", join(home, "gw"), CLIENT, "--uuid", cluster];
      outcomes.push(await runShell(program, args, { ...IDENTITY, HOME: home }, session));
    }
    const [a, b] = outcomes as [Outcome, Outcome];
    assert.equal(b.code, a.code, `exit status\nstock: ${a.stderr}\nannexgate: ${b.stderr}`);
    assert.equal(sortedPlus(b.stdout), sortedPlus(a.stdout));
    const both = [n1, n3].sort().join(" ");
    assert.equal(
      sortedPlus(b.stdout),
      [
        `AUTH-SUCCESS ${cluster}`,
        "VERSION 4",
        "PUT-FROM 0",
        `SUCCESS-PLUS ${n1}`, // not n3, which had it already
        `ALREADY-HAVE-PLUS ${n3}`, // the log now has n1: n3 is the only target
        `SUCCESS-PLUS ${both}`,
        "FAILURE",
        "PUT-FROM 0",
        `SUCCESS-PLUS ${both}`,
        "",
      ].join("\n"),
    );
    assert.ok(!b.stdout.includes(gwUuid), "the gateway is not named");
  });
});
