/**
 * A push to the gateway exports the tracking branch (git-annex's
 * post-receive hook, done by `annexgate post-receive`): a gateway proxies
 * a directory export remote and an S3 export remote (s3rver on loopback),
 * both `exporttree=yes annexobjects=yes` with `annex-tracking-branch`;
 * `annexgate install-hooks` replaces stock's own post-receive hook. A
 * stock client cloned over ssh (the test sshd, annexgate's
 * git-annex-shell) copies content through the gateway and pushes: the
 * tree appears on both remotes; a rename, a deletion and a new file are
 * reflected; a push of `synced/master` exports too, and two files that
 * swap names swap on the remotes; a `branch:subdir`
 * tracking branch exports the subdirectory. A stock clone enabling the
 * remotes directly then reads export.log and the location log as its
 * own: `git annex export` finds nothing to send, `get --from` works. A
 * remote with preferred content gets only the files it wants, the same
 * tree stock's export makes. One setup; each case on both remotes.
 */
import assert from "node:assert/strict";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, runOutcome } from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  S3RVER_ENV,
  s3AdminClient,
  startS3Server,
} from "../helpers/s3-server.js";
import { ANNEXGATE_BIN } from "../helpers/servers.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

let root: string;
let gw: string;
let client: string;
let s3: RunningS3Server;
let admin: S3Client;
let sshd: TestSshd;

const BUCKET = "annexgate-push";

const git = (cwd: string, args: readonly string[], env?: Record<string, string>) =>
  run("git", args, { cwd, ...(env ? { env } : {}) });
/** A git command of the client, which reaches the gateway through the test sshd. */
const cgit = (args: readonly string[]) => git(client, args, sshd.clientEnv());

const outcome = (cmd: string, args: readonly string[], cwd: string) =>
  runOutcome(cmd, args, { cwd });

/** An export remote: its name on the gateway and its files read directly. */
interface Target {
  readonly name: string;
  file(path: string): Promise<string | null>;
}

const targets: Target[] = [
  {
    name: "ex",
    file: (path) => readFile(join(root, "store", path), "utf8").catch(() => null),
  },
  {
    name: "exs3",
    async file(path) {
      try {
        const got = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: path }));
        return (await got.Body?.transformToString()) ?? null;
      } catch {
        return null;
      }
    },
  },
];

async function annexObjectPath(repo: string, key: string): Promise<string> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: git-annex's format variable
  const format = "--format=${hashdirlower}";
  const hash = (await git(repo, ["annex", "examinekey", format, key])).trim();
  return `.git/annex/objects/${hash}${key}/${key}`;
}

async function writeIn(repo: string, name: string, content: string): Promise<void> {
  await mkdir(join(repo, name, ".."), { recursive: true });
  await writeFile(join(repo, name), content);
}

/** Adds annexed files in the client, commits, and copies them to both remotes through the gateway. */
async function addAndCopy(files: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeIn(client, name, content);
  const names = Object.keys(files);
  await cgit(["annex", "add", "-q", ...names]);
  await cgit(["commit", "-q", "-m", `add ${names.join(" ")}`]);
  for (const t of targets) {
    await cgit(["annex", "copy", "-q", "--to", `origin-${t.name}`, ...names]);
  }
}

/** Pushes `refspec` to the gateway; returns what the post-receive hook said. */
async function push(refspec: string): Promise<string> {
  const r = await runOutcome("git", ["push", "origin", refspec], {
    cwd: client,
    env: sshd.clientEnv(),
  });
  assert.equal(r.code, 0, r.stderr);
  // What the hook says reaches the pusher: never a path of the gateway's machine.
  const remote = r.stderr.split("\n").filter((l) => l.startsWith("remote:"));
  for (const line of remote) assert.ok(!line.includes(root), line);
  assert.ok(!remote.some((l) => /failed|error/i.test(l)), remote.join("\n"));
  return remote.join("\n");
}

/** Asserts each remote holds exactly `present` (path → content) and none of `absent`. */
async function assertRemotes(
  present: Readonly<Record<string, string>>,
  absent: readonly string[],
): Promise<void> {
  for (const t of targets) {
    for (const [path, content] of Object.entries(present)) {
      assert.equal(await t.file(path), content, `${t.name}: ${path}`);
    }
    for (const path of absent) assert.equal(await t.file(path), null, `${t.name}: ${path}`);
  }
}

/** A stock clone of the gateway, named `name`, that enables both export remotes directly. */
async function stockCloneWithRemotes(name: string): Promise<string> {
  const clone = join(root, name);
  await git(root, ["clone", "-q", gw, clone]);
  await git(clone, ["checkout", "-q", "master"]);
  await git(clone, ["annex", "init", "-q", name]);
  await git(clone, ["config", "annex.security.allowed-ip-addresses", "all"]);
  await git(clone, ["annex", "enableremote", "ex", `directory=${join(root, "store")}`]);
  await git(clone, ["annex", "enableremote", "exs3"], S3RVER_ENV);
  return clone;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

before(async () => {
  await requireGitAnnex();
  root = await makeTempDir("annexgate-export-push-");
  [s3, sshd] = await Promise.all([startS3Server(), startSshd("annexgate")]);
  admin = s3AdminClient(s3);
  gw = await gatewayRepo(join(root, "gw"), "gw");
  await mkdir(join(root, "store"));
  await writeIn(gw, "a.txt", "content a\n");
  await writeIn(gw, "sub/b.txt", "content b\n");
  await git(gw, ["annex", "add", "-q", "a.txt", "sub/b.txt"]);
  await git(gw, ["commit", "-q", "-m", "a and b"]);
  const exportFields = ["exporttree=yes", "annexobjects=yes"];
  await git(gw, [
    ...["annex", "initremote", "-q", "ex", "type=directory", `directory=${join(root, "store")}`],
    ...exportFields,
    "encryption=none",
  ]);
  await initStockS3Remote(gw, s3, "exs3", BUCKET, exportFields);
  for (const t of targets) {
    await git(gw, ["config", `remote.${t.name}.annex-proxy`, "true"]);
    await git(gw, ["config", `remote.${t.name}.annex-tracking-branch`, "master"]);
  }
  await run(process.execPath, [ANNEXGATE_BIN, "updateproxy"], { cwd: gw });
  // master is pushed to: the gateway's work tree leaves it.
  await git(gw, ["checkout", "-q", "--detach"]);
  client = join(root, "client");
  await run("git", ["clone", "-q", `${sshd.host}:${gw}`, client], { env: sshd.clientEnv() });
  for (const [k, v] of clientGitConfig) await cgit(["config", k, v]);
  await cgit(["annex", "init", "-q", "client"]);
});

after(async () => {
  await sshd?.stop();
  admin?.destroy();
  await s3?.close();
  if (root !== undefined) await removeDir(root);
});

describe("a push to the gateway exports the tracking branch (directory, S3)", {
  timeout: 600_000,
}, () => {
  it("install-hooks replaces git-annex's own post-receive hook, and leaves a foreign one", async () => {
    const hook = join(gw, ".git", "hooks", "post-receive");
    assert.match(await readFile(hook, "utf8"), /git annex post-receive/, "stock init wrote one");
    const ours = await outcome(process.execPath, [ANNEXGATE_BIN, "install-hooks"], gw);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /replaced git-annex's post-receive hook/);
    assert.match(await readFile(hook, "utf8"), /post-receive/);
    assert.doesNotMatch(await readFile(hook, "utf8"), /git annex post-receive/);
    // A hook of someone's own is never overwritten.
    const other = join(root, "other");
    await run("git", ["init", "-q", other]);
    const foreign = "#!/bin/sh\necho mine\n";
    await writeFile(join(other, ".git", "hooks", "post-receive"), foreign);
    const refused = await outcome(process.execPath, [ANNEXGATE_BIN, "install-hooks"], other);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not annexgate's nor git-annex's; left as it is/);
    assert.equal(await readFile(join(other, ".git", "hooks", "post-receive"), "utf8"), foreign);
  });

  it("a push of master exports its tree to both remotes", async () => {
    await addAndCopy({ "c.txt": "content c\n" });
    // A file stored in git is exported from its blob.
    await writeIn(client, "readme.txt", "in git\n");
    await cgit(["add", "readme.txt"]);
    await cgit(["commit", "-q", "-m", "readme"]);
    const said = await push("master");
    for (const t of targets) assert.match(said, new RegExp(`export ${t.name} c\\.txt ok`));
    await assertRemotes(
      {
        "a.txt": "content a\n",
        "sub/b.txt": "content b\n",
        "c.txt": "content c\n",
        "readme.txt": "in git\n",
      },
      [],
    );
    // c.txt's annexobjects copy was renamed into place.
    const cPath = await annexObjectPath(client, await keyOf(client, "c.txt"));
    await assertRemotes({}, [cPath]);
    const master = (await git(gw, ["rev-parse", "master"])).trim();
    for (const t of targets) {
      assert.equal((await git(gw, ["rev-parse", `refs/remotes/${t.name}/master`])).trim(), master);
    }
  });

  it("a rename, a deletion and a new file are reflected", async () => {
    const bKey = await keyOf(client, "sub/b.txt");
    await mkdir(join(client, "moved"), { recursive: true });
    await cgit(["mv", "a.txt", "moved/a.txt"]);
    await cgit(["rm", "-q", "sub/b.txt", "readme.txt"]);
    await cgit(["commit", "-q", "-m", "rename and delete"]);
    await addAndCopy({ "d.txt": "content d\n" });
    await push("master");
    await assertRemotes(
      { "moved/a.txt": "content a\n", "c.txt": "content c\n", "d.txt": "content d\n" },
      ["a.txt", "sub/b.txt", "readme.txt"],
    );
    // A key leaving the tree stays on the remote under annexobjects, as stock's export keeps it.
    await assertRemotes({ [await annexObjectPath(client, bKey)]: "content b\n" }, []);
    assert.equal(await exists(join(root, "store", "sub")), false, "emptied directories go");
  });

  it("a push of synced/master (git annex sync, push) exports too; files that swap names swap", async () => {
    await cgit(["mv", "c.txt", "swap.tmp"]);
    await cgit(["mv", "d.txt", "c.txt"]);
    await cgit(["mv", "swap.tmp", "d.txt"]);
    await cgit(["commit", "-q", "-m", "swap c and d"]);
    await addAndCopy({ "e.txt": "content e\n" });
    const said = await push("master:synced/master");
    for (const t of targets) assert.match(said, new RegExp(`export ${t.name} e\\.txt ok`));
    await assertRemotes(
      {
        "e.txt": "content e\n",
        "moved/a.txt": "content a\n",
        "c.txt": "content d\n",
        "d.txt": "content c\n",
      },
      [],
    );
    for (const t of targets) {
      const tmp = `.git-annex-tmp-content-${await keyOf(client, "c.txt")}`;
      assert.equal(await t.file(tmp), null, `${t.name}: no temp file left`);
    }
    const synced = (await git(gw, ["rev-parse", "synced/master"])).trim();
    for (const t of targets) {
      const ref = `refs/remotes/${t.name}/synced/master`;
      assert.equal((await git(gw, ["rev-parse", ref])).trim(), synced);
    }
  });

  it("a branch:subdir tracking branch exports the subdirectory", async () => {
    for (const t of targets) {
      await git(gw, ["config", `remote.${t.name}.annex-tracking-branch`, "master:moved"]);
    }
    await addAndCopy({ "moved/f.txt": "content f\n" });
    await push("master");
    await assertRemotes({ "a.txt": "content a\n", "f.txt": "content f\n" }, [
      "moved/a.txt",
      "c.txt",
      "d.txt",
      "e.txt",
    ]);
  });

  it("a stock clone enabling the remotes reads the export and the locations as its own", async () => {
    const second = await stockCloneWithRemotes("second");
    const tree = (await git(second, ["rev-parse", "master:moved"])).trim();
    const log = await git(second, ["show", "git-annex:export.log"]);
    for (const t of targets) {
      const uuid = (await git(gw, ["config", `remote.${t.name}.annex-uuid`])).trim();
      assert.match(log, new RegExp(`:${uuid} ${tree}$`, "m"), t.name);
      // Every key of the tree is in the remote, by the location log.
      const found = await git(second, ["annex", "find", `--in=${t.name}`, "moved"]);
      assert.deepEqual(found.trim().split("\n").sort(), ["moved/a.txt", "moved/f.txt"], t.name);
      // Nothing to send: this clone has no content, so a missing file would fail.
      await git(second, ["annex", "export", "-q", "master:moved", "--to", t.name], S3RVER_ENV);
    }
    await git(second, ["annex", "get", "-q", "--from", "ex", "moved/f.txt"]);
    await git(second, ["annex", "get", "-q", "--from", "exs3", "moved/a.txt"], S3RVER_ENV);
    assert.equal(await readFile(join(second, "moved/f.txt"), "utf8"), "content f\n");
    assert.equal(await readFile(join(second, "moved/a.txt"), "utf8"), "content a\n");
  });

  it("a remote with preferred content gets only the files it wants, the tree stock exports", async () => {
    for (const t of targets) await git(gw, ["annex", "wanted", t.name, "exclude=*.skip"]);
    await addAndCopy({ "moved/g.skip": "content g\n", "moved/h.txt": "content h\n" });
    await push("master");
    await assertRemotes(
      { "a.txt": "content a\n", "f.txt": "content f\n", "h.txt": "content h\n" },
      ["g.skip"],
    );
    // Stock git-annex, exporting the same tree to the same remotes from a
    // fresh clone (one that never exported, so the gateway's is the only
    // export it knows), filters it to the tree annexgate exported: its
    // export.log entry names that tree, and nothing changes on the remotes.
    const third = await stockCloneWithRemotes("third");
    const thirdUuid = (await git(third, ["config", "annex.uuid"])).trim();
    const gwUuid = (await git(gw, ["config", "annex.uuid"])).trim();
    for (const t of targets) {
      await git(third, ["annex", "export", "-q", "master:moved", "--to", t.name], S3RVER_ENV);
      const log = await git(third, ["show", "git-annex:export.log"]);
      const uuid = (await git(gw, ["config", `remote.${t.name}.annex-uuid`])).trim();
      const treeOf = (from: string) =>
        new RegExp(`^\\S+ ${from}:${uuid} (\\S+)`, "m").exec(log)?.[1] ?? null;
      const ours = treeOf(gwUuid);
      assert.notEqual(ours, null, `${t.name}: ${log}`);
      assert.equal(treeOf(thirdUuid), ours, `${t.name}: ${log}`);
    }
    await assertRemotes({ "h.txt": "content h\n" }, ["g.skip"]);
  });
});
