/**
 * Every kind of special remote the gateway serves, used by stock
 * git-annex clients through both routes into the gateway: directory and
 * S3, each plain, chunked and encrypted (`encryption=shared`), directory
 * chunked and encrypted, and export remotes (`exporttree=yes
 * annexobjects=yes`) on both. All made by stock `initremote` in one
 * gateway repository and proxied with annexgate's `updateproxy`.
 *
 * For each remote and each route (`annexgate p2phttp`, and annexgate's
 * git-annex-shell over ssh) a stock client copies to it, checks presence,
 * drops locally, gets back, fscks, drops from the remote, copies again and
 * runs `testremote --fast`. Then a second stock clone enables every remote
 * directly and gets and fscks every object annexgate stored; and what that
 * clone stores directly, the gateway serves.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { configCommand, gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, writeRandomFile } from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  S3RVER_ENV,
  startS3Server,
} from "../helpers/s3-server.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

type Env = Record<string, string>;

const git = (cwd: string, args: readonly string[], env?: Env) =>
  run("git", args, { cwd, ...(env ? { env } : {}) });

/** A special remote of the matrix: its name and stock's initremote fields. */
interface Variant {
  readonly name: string;
  readonly kind: "directory" | "S3";
  readonly fields: readonly string[];
}

/** Small enough that a 700 kB file is three chunks. */
const CHUNK = "chunk=256KiB";
const VARIANTS: readonly Variant[] = [
  { name: "d", kind: "directory", fields: ["encryption=none"] },
  { name: "dc", kind: "directory", fields: ["encryption=none", CHUNK] },
  { name: "de", kind: "directory", fields: ["encryption=shared"] },
  { name: "dce", kind: "directory", fields: ["encryption=shared", CHUNK] },
  {
    name: "dx",
    kind: "directory",
    fields: ["encryption=none", "exporttree=yes", "annexobjects=yes"],
  },
  { name: "s", kind: "S3", fields: [] },
  { name: "sc", kind: "S3", fields: [CHUNK] },
  { name: "se", kind: "S3", fields: ["encryption=shared"] },
  { name: "sx", kind: "S3", fields: ["exporttree=yes", "annexobjects=yes"] },
];
const isExport = (v: Variant) => v.fields.includes("exporttree=yes");
const SIZES = [100_000, 700_000, 10];

let root: string;
let gw: string;
let s3: RunningS3Server;
let gpgHome: string;
let previousGpgHome: string | undefined;
const storeOf = (v: Variant) => join(root, `store-${v.name}`);

/** `git annex checkpresentkey KEY REMOTE`: present (exit 0) or absent (exit 1). */
async function present(repo: string, key: string, remote: string, env?: Env): Promise<boolean> {
  return git(repo, ["annex", "checkpresentkey", key, remote], env).then(
    () => true,
    (e: Error) => {
      if ((e.cause as { code?: number }).code === 1) return false;
      throw e;
    },
  );
}

/** The files of `route` for variant `v`, named so every remote has its own. */
const filesOf = (route: string, v: Variant) => SIZES.map((_, i) => `${route}-${v.name}-${i}`);

/** Random files for every variant, added and committed in one go. */
async function addFiles(repo: string, route: string, env?: Env): Promise<void> {
  const names = VARIANTS.flatMap((v) => filesOf(route, v));
  for (const [i, name] of names.entries()) {
    await writeRandomFile(join(repo, name), SIZES[i % SIZES.length] ?? 10);
  }
  await git(repo, ["annex", "add", "-q", ...names], env);
  await git(repo, ["commit", "-q", "-m", route], env);
}

/** Copy, drop, get back, drop from the remote, copy again, testremote: all through `remote`. */
async function roundTrip(
  repo: string,
  remote: string,
  exported: boolean,
  names: readonly string[],
  env?: Env,
) {
  await git(repo, ["annex", "copy", "-q", "--to", remote, ...names], env);
  // Asks the remote itself (through the gateway) for each file's presence.
  await git(repo, ["annex", "fsck", "-q", "--fast", "--from", remote, ...names], env);
  // git-annex counts no copy on an export remote (it is untrusted: its
  // files can change under it), so a local drop needs --force there.
  const force = exported ? ["--force"] : [];
  await git(repo, ["annex", "drop", "-q", ...force, ...names], env);
  await git(repo, ["annex", "get", "-q", "--from", remote, ...names], env);
  await git(repo, ["annex", "fsck", "-q", ...names], env);
  const last = names[names.length - 1] as string;
  await git(repo, ["annex", "drop", "-q", "--from", remote, last], env);
  assert.equal(await present(repo, await keyOf(repo, last), remote, env), false);
  await git(repo, ["annex", "copy", "-q", "--to", remote, last], env);
  const out = await git(repo, ["annex", "testremote", "--fast", remote], env);
  assert.match(out, /All \d+ tests passed/, `${remote}: ${out}`);
}

before(async () => {
  await requireGitAnnex();
  root = await makeTempDir("annexgate-special-matrix-");
  // gpg (stock's and the gateway's) keeps its agent in a home of this test's.
  gpgHome = join(root, "gnupg");
  await mkdir(gpgHome, { mode: 0o700 });
  previousGpgHome = process.env.GNUPGHOME;
  process.env.GNUPGHOME = gpgHome;
  s3 = await startS3Server();
  gw = await gatewayRepo(join(root, "gw"), "gw");
  for (const v of VARIANTS) {
    if (v.kind === "directory") {
      await mkdir(storeOf(v));
      const fields = ["type=directory", `directory=${storeOf(v)}`, ...v.fields];
      await git(gw, ["annex", "initremote", "-q", v.name, ...fields]);
    } else {
      await initStockS3Remote(gw, s3, v.name, `annexgate-matrix-${v.name}`, v.fields);
    }
    await git(gw, ["config", `remote.${v.name}.annex-proxy`, "true"]);
  }
  const out = await configCommand("annexgate", gw, ["updateproxy"]);
  for (const v of VARIANTS) assert.match(out, new RegExp(`Started proxying for ${v.name}\\b`));
});
after(async () => {
  await s3?.close();
  await run("gpgconf", ["--kill", "gpg-agent"]).catch(() => undefined);
  if (previousGpgHome === undefined) delete process.env.GNUPGHOME;
  else process.env.GNUPGHOME = previousGpgHome;
  if (root !== undefined) await removeDir(root);
});

describe("every special remote kind, through both routes into the gateway", {
  timeout: 900_000,
}, () => {
  let server: RunningP2pHttp;
  let sshd: TestSshd;
  const httpClient = () => join(root, "http-client");
  const sshClient = () => join(root, "ssh-client");

  before(async () => {
    server = await startAnnexgate(gw, ["--wideopen"]);
    sshd = await startSshd("annexgate", { GNUPGHOME: gpgHome });
  });
  after(async () => {
    await server?.stop();
    await sshd?.stop();
  });

  // The two routes run side by side (each waits mostly on its own stock
  // git-annex commands), which also has the gateway serve both at once.
  describe("each route", { concurrency: 2 }, () => {
    it("through p2phttp: copy, get, drop and testremote on each", async () => {
      const client = await annexHttpClone(gw, httpClient(), server.port);
      await addFiles(client, "h");
      for (const v of VARIANTS) {
        await roundTrip(client, `origin-${v.name}`, isExport(v), filesOf("h", v));
      }
    });

    it("through git-annex-shell over ssh: copy, get, drop and testremote on each", async () => {
      const env = sshd.clientEnv();
      const client = sshClient();
      await run("git", ["clone", "-q", `${sshd.host}:${gw}`, client], { env });
      for (const [k, v] of clientGitConfig) await git(client, ["config", k, v], env);
      await git(client, ["annex", "init", "-q", "ssh client"], env);
      await addFiles(client, "s", env);
      for (const v of VARIANTS) {
        await roundTrip(client, `origin-${v.name}`, isExport(v), filesOf("s", v), env);
      }
      assert.ok((await sshd.logins()).some((l) => l.startsWith("annexgate ")));
    });
  });

  it("a stock clone enabling each remote directly gets what annexgate stored; the gateway serves what it stores", async () => {
    const second = join(root, "second");
    await git(root, ["clone", "-q", httpClient(), second]);
    await git(second, ["annex", "init", "-q", "second"]);
    await git(second, ["config", "annex.security.allowed-ip-addresses", "all"]);
    await git(second, ["remote", "add", "sshclient", sshClient()]);
    await git(second, ["fetch", "-q", "sshclient"]);
    await git(second, ["merge", "-q", "--no-edit", "sshclient/master"]);
    for (const v of VARIANTS) {
      const extra = v.kind === "directory" ? [`directory=${storeOf(v)}`] : [];
      await git(second, ["annex", "enableremote", "-q", v.name, ...extra], S3RVER_ENV);
      const files = [...filesOf("h", v), ...filesOf("s", v)];
      await git(second, ["annex", "get", "-q", "--from", v.name, ...files], S3RVER_ENV);
      await git(second, ["annex", "fsck", "-q", ...files]);
      await git(second, ["annex", "fsck", "-q", "--fast", "--from", v.name, ...files], S3RVER_ENV);
    }
    // What stock stores directly, the gateway serves.
    const direct = VARIANTS.map((v) => `direct-${v.name}`);
    for (const [i, name] of direct.entries()) {
      await writeRandomFile(join(second, name), SIZES[i % SIZES.length] ?? 10);
    }
    await git(second, ["annex", "add", "-q", ...direct]);
    await git(second, ["commit", "-q", "-m", "direct"]);
    for (const v of VARIANTS) {
      await git(second, ["annex", "copy", "-q", "--to", v.name, `direct-${v.name}`], S3RVER_ENV);
    }
    const client = httpClient();
    await git(client, ["remote", "add", "second", second]);
    await git(client, ["fetch", "-q", "second"]);
    await git(client, ["merge", "-q", "--no-edit", "second/master"]);
    for (const v of VARIANTS) {
      const name = `direct-${v.name}`;
      assert.equal(await present(client, await keyOf(client, name), `origin-${v.name}`), true);
      await git(client, ["annex", "get", "-q", "--from", `origin-${v.name}`, name]);
    }
    await git(client, ["annex", "fsck", "-q", ...direct]);
  });
});
