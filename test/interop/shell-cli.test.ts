/**
 * annexgate's git-annex-shell against stock git-annex-shell, side by side:
 * the same arguments, environment and stdin, and the same stdout, stderr
 * and exit status — for the argument forms (`-c`, login-shell strings),
 * configlist, refusals (--uuid, GIT_ANNEX_SHELL_*), git-shell passthrough,
 * and whole p2pstdio sessions in each serve mode (on copies of one
 * repository, so both start from the same state and UUID).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { ANNEXGATE_GIT_ANNEX_SHELL } from "../helpers/sshd.js";

interface Outcome {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function runShell(
  program: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  input: Buffer | string = "",
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
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

const CLIENT = "00000000-1111-2222-3333-444444444444";
const WRONG = "11111111-2222-3333-4444-555555555555";

function sha256eKey(data: Buffer): string {
  return `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}.txt`;
}

describe("annexgate's git-annex-shell against stock git-annex-shell", () => {
  let dir = "";
  let repo = "";
  let plain = "";
  let notRepo = "";
  let stock = "";
  const content = Buffer.from("the content\n");
  const key = sha256eKey(content);

  before(async () => {
    dir = await makeTempDir("annexgate-shell-cli-");
    stock = (await run("sh", ["-c", "command -v git-annex-shell"])).trim();
    repo = join(dir, "repo");
    await gitAnnexRepo(repo, "served");
    await writeFile(join(repo, "f.txt"), content);
    await run("git", ["annex", "add", "-q", "f.txt"], { cwd: repo });
    await run("git", ["commit", "-q", "-m", "f"], { cwd: repo });
    plain = join(dir, "plain");
    await run("git", ["init", "-q", plain]);
    notRepo = join(dir, "not-a-repo");
    await mkdir(notRepo);
  });

  after(async () => {
    if (dir) await removeDir(dir);
  });

  /** Both shells, same call; returns [stock, annexgate]. */
  async function both(
    args: readonly string[],
    env: Readonly<Record<string, string>> = {},
    input: Buffer | string = "",
  ): Promise<[Outcome, Outcome]> {
    const a = await runShell(stock, args, env, input);
    const b = await runShell(ANNEXGATE_GIT_ANNEX_SHELL, args, env, input);
    return [a, b];
  }

  function same(a: Outcome, b: Outcome, what: string): void {
    assert.equal(
      b.code,
      a.code,
      `${what}: exit status\nstock: ${a.stderr}\nannexgate: ${b.stderr}`,
    );
    assert.equal(b.stdout.toString("latin1"), a.stdout.toString("latin1"), `${what}: stdout`);
    assert.equal(b.stderr, a.stderr, `${what}: stderr`);
  }

  it("configlist, in each argument form", async () => {
    for (const args of [
      ["configlist", repo],
      ["-c", `git-annex-shell 'configlist' '${repo}'`],
      ["-c", "-c", `git-annex-shell 'configlist' '${repo}' --debug`],
      ["configlist", plain],
      ["configlist", repo, "--uuid", WRONG],
      ["configlist", plain, `--uuid=${WRONG}`],
    ]) {
      const [a, b] = await both(args);
      same(a, b, args.join(" "));
    }
    const [a] = await both(["configlist", repo]);
    assert.match(a.stdout.toString(), /^annex\.uuid=[0-9a-f-]{36}\ncore\.gcrypt-id=\n$/);
  });

  it("refuses p2pstdio the same way: missing UUID, not a git-annex repository, wrong --uuid, no such directory", async () => {
    for (const args of [
      ["p2pstdio", repo],
      ["p2pstdio", repo, CLIENT, "extra"],
      ["p2pstdio", plain, CLIENT],
      ["p2pstdio", repo, CLIENT, "--uuid", WRONG],
      ["p2pstdio", plain, CLIENT, "--uuid", WRONG],
      ["p2pstdio", join(dir, "nowhere"), CLIENT],
    ]) {
      const [a, b] = await both(args);
      same(a, b, args.join(" "));
    }
    // A directory that is not a git repository: git's own complaint comes
    // first from stock; the refusal itself is the same.
    const [a, b] = await both(["p2pstdio", notRepo, CLIENT]);
    assert.equal(b.code, a.code);
    assert.equal(b.stderr.trim().split("\n").at(-1), a.stderr.trim().split("\n").at(-1));
  });

  it("honours GIT_ANNEX_SHELL_DIRECTORY and GIT_ANNEX_SHELL_LIMITED", async () => {
    const cases: [string[], Record<string, string>][] = [
      [["configlist", repo], { GIT_ANNEX_SHELL_DIRECTORY: plain }],
      [["configlist", repo], { GIT_ANNEX_SHELL_DIRECTORY: `${repo}/` }],
      [["p2pstdio", repo, CLIENT], { GIT_ANNEX_SHELL_DIRECTORY: plain }],
      [["-c", `git-upload-pack '${repo}'`], { GIT_ANNEX_SHELL_LIMITED: "1" }],
      [["-c", `git-upload-pack '${repo}'`], { GIT_ANNEX_SHELL_DIRECTORY: plain }],
      [["-c", `git-receive-pack '${repo}'`], { GIT_ANNEX_SHELL_LIMITED: "yes" }],
      // Set but empty counts as unset.
      [["configlist", repo], { GIT_ANNEX_SHELL_DIRECTORY: repo, GIT_ANNEX_SHELL_LIMITED: "" }],
    ];
    for (const [args, env] of cases) {
      const [a, b] = await both(args, env, "0000");
      same(a, b, `${JSON.stringify(env)} ${args.join(" ")}`);
    }
  });

  it("hands git's commands to git-shell: the same ref advertisement, the same refusal of others", async () => {
    for (const args of [
      ["-c", `git-upload-pack '${repo}'`],
      ["-c", `git-receive-pack '${repo}'`],
    ]) {
      const [a, b] = await both(args, {}, "0000");
      assert.equal(b.code, a.code, args.join(" "));
      assert.equal(b.stdout.toString(), a.stdout.toString(), args.join(" "));
      assert.match(b.stdout.toString(), /refs\/heads\/git-annex/);
    }
    // A known difference: given as separate words, stock hands git-shell
    // two arguments, which it refuses; annexgate quotes them into one line.
    const [split, splitOurs] = await both(["git-upload-pack", repo], {}, "0000");
    assert.equal(split.code, 1);
    assert.match(split.stderr, /git-shell failed/);
    assert.equal(splitOurs.code, 0, splitOurs.stderr);
    assert.match(splitOurs.stdout.toString(), /refs\/heads\/git-annex/);
    const [a, b] = await both(["-c", "rm -rf /"]);
    assert.equal(a.code, 1);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /git-annex: git-shell failed/);
    const [none, noneOurs] = await both([]);
    assert.equal(noneOurs.code, none.code);
    assert.equal(noneOurs.stderr.split("\n")[0], none.stderr.split("\n")[0]);
  });

  for (const mode of ["readwrite", "readonly", "appendonly"] as const) {
    it(`serves the same p2pstdio session byte for byte (${mode})`, async () => {
      const env: Record<string, string> =
        mode === "readonly"
          ? { GIT_ANNEX_SHELL_READONLY: "1" }
          : mode === "appendonly"
            ? { GIT_ANNEX_SHELL_APPENDONLY: "1" }
            : {};
      const fresh = Buffer.from(`fresh content for ${mode}\n`);
      const freshKey = sha256eKey(fresh);
      const absent = sha256eKey(Buffer.from("never stored\n"));
      const lines: (string | Buffer)[] = [
        "VERSION 9",
        `CHECKPRESENT ${key}`,
        `CHECKPRESENT ${absent}`,
        "NOT A COMMAND",
        `CHECKPRESENT bad-key`,
        "SUCCESS",
        `LOCKCONTENT ${key}`,
        "UNLOCKCONTENT",
        `LOCKCONTENT ${key}`,
        `CHECKPRESENT ${key}`,
        `LOCKCONTENT ${absent}`,
        `GET 0 f.txt ${key}`,
        "SUCCESS",
        `GET 4 f.txt ${key}`,
        "VALID",
        `GET 0 %%weird%name ${absent}`,
        "FAILURE",
        `PUT f.txt ${key}`,
      ];
      if (mode !== "readonly") {
        lines.push(`PUT new.txt ${freshKey}`, `DATA ${fresh.length}`);
        lines.push(Buffer.concat([fresh, Buffer.from("VALID")]));
        lines.push(`CHECKPRESENT ${freshKey}`, `PUT new.txt ${freshKey}`);
      } else {
        lines.push(`PUT new.txt ${freshKey}`);
      }
      lines.push(
        `REMOVE-BEFORE 0 ${key}`,
        `REMOVE ${key}`,
        `CHECKPRESENT ${key}`,
        `REMOVE ${absent}`,
        "VERSION 1",
        `GET 0 f.txt ${mode === "readwrite" ? freshKey : key}`,
        "SUCCESS",
        "BYPASS",
        "ERROR done here",
        `CHECKPRESENT ${key}`,
      );
      const input = Buffer.concat(
        lines.map((l) =>
          Buffer.isBuffer(l) ? Buffer.concat([l, Buffer.from("\n")]) : Buffer.from(`${l}\n`),
        ),
      );
      const stockRepo = join(dir, `stock-${mode}`);
      const oursRepo = join(dir, `ours-${mode}`);
      await run("cp", ["-a", repo, stockRepo]);
      await run("cp", ["-a", repo, oursRepo]);
      const a = await runShell(stock, ["p2pstdio", stockRepo, CLIENT], env, input);
      const b = await runShell(
        ANNEXGATE_GIT_ANNEX_SHELL,
        ["p2pstdio", oursRepo, CLIENT],
        env,
        input,
      );
      same(a, b, `p2pstdio session (${mode})`);
      const text = b.stdout.toString();
      assert.match(
        text,
        /^AUTH-SUCCESS [0-9a-f-]{36}\nVERSION 4\nSUCCESS\nFAILURE\nERROR unknown command\n/,
      );
      if (mode === "readwrite")
        assert.match(text, /\nPUT-FROM 0\nSUCCESS\nSUCCESS\nALREADY-HAVE\n/);
      // Both repositories end in the same state.
      for (const k of [key, freshKey]) {
        const inStock = await run("git", ["annex", "contentlocation", k], { cwd: stockRepo }).then(
          () => true,
          () => false,
        );
        const inOurs = await run("git", ["annex", "contentlocation", k], { cwd: oursRepo }).then(
          () => true,
          () => false,
        );
        assert.equal(inOurs, inStock, `${k} present after the ${mode} session`);
      }
    });
  }
});
