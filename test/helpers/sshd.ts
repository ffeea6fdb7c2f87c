/**
 * A real OpenSSH sshd on loopback for tests and benchmarks: its own host
 * key, config, authorized_keys and pid file in a temp directory, started
 * with `-D -e -f CONFIG` on a free port, key authentication only.
 *
 * How a login reaches a git-annex-shell: the client key's authorized_keys
 * line has `command="… git-annex-shell -c \"$SSH_ORIGINAL_COMMAND\""`, the
 * form git-annex-shell's own documentation gives, so every ssh command a
 * client runs (git-annex-shell p2pstdio / configlist, git-upload-pack,
 * git-receive-pack) goes through the chosen git-annex-shell: annexgate's
 * bin/git-annex-shell or stock git-annex's. `useShell` rewrites that line;
 * sshd reads the file at each login, so the switch needs no restart.
 *
 * How a client reaches the sshd: git-annex takes `ssh` from PATH (GIT_SSH
 * is not used for its own calls), so `clientEnv()` puts first on PATH a
 * small `ssh` that adds the port, the client key and a private
 * known_hosts, then runs the real /usr/bin/ssh. Clients also need
 * annex.sshcaching=false (`clientGitConfig`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { makeTempDir, removeDir, run } from "./index.js";
import { ANNEXGATE_BIN, freePort } from "./servers.js";

export const SSHD = "/usr/sbin/sshd";
export const SSH = "/usr/bin/ssh";

/** The package's bin/git-annex-shell (next to dist/). */
export const ANNEXGATE_GIT_ANNEX_SHELL = resolve(
  dirname(ANNEXGATE_BIN),
  "..",
  "..",
  "..",
  "bin",
  "git-annex-shell",
);

export type ShellKind = "annexgate" | "stock";

export interface TestSshd {
  readonly port: number;
  /** Temp directory with keys, config and the `ssh` wrapper. */
  readonly dir: string;
  /** The ssh host name clients use: remote URLs are `localhost:/path`. */
  readonly host: string;
  /** Environment for a client process: the `ssh` wrapper first on PATH. */
  clientEnv(): Record<string, string>;
  /**
   * Make logins run annexgate's or stock git-annex-shell, with extra
   * environment (e.g. GIT_ANNEX_SHELL_READONLY=1) set for it.
   */
  useShell(
    kind: ShellKind,
    env?: Readonly<Record<string, string>>,
    /** Another annexgate git-annex-shell than this checkout's (an installed one). */
    program?: string,
  ): Promise<void>;
  /** What sshd printed on stderr. */
  log(): string;
  /** One line per login so far: "annexgate|stock SSH_ORIGINAL_COMMAND". */
  logins(): Promise<string[]>;
  stop(): Promise<void>;
}

function shellQuoteForAuthorizedKeys(value: string): string {
  // Inside command="…": a double quote must be escaped; values here are
  // paths and flags without quotes or spaces, checked below.
  if (/["\\\s]/.test(value)) throw new Error(`cannot put ${value} in authorized_keys`);
  return value;
}

async function which(cmd: string): Promise<string> {
  return (await run("sh", ["-c", `command -v ${cmd}`])).trim();
}

async function waitForSsh(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited early: ${log()}`);
    const banner = await new Promise<string>((done) => {
      const sock = connect(port, "127.0.0.1");
      let got = "";
      sock.once("data", (d) => {
        got = d.toString();
        sock.destroy();
      });
      sock.once("close", () => done(got));
      sock.once("error", () => done(""));
      sock.setTimeout(2000, () => sock.destroy());
    });
    if (banner.startsWith("SSH-")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

/**
 * Start an sshd whose logins run `shell` (annexgate's git-annex-shell by
 * default). Needs /usr/sbin/sshd (openssh-server, installed by
 * scripts/setup-git-annex.sh).
 */
export async function startSshd(
  shell: ShellKind = "annexgate",
  shellEnv: Readonly<Record<string, string>> = {},
): Promise<TestSshd> {
  const dir = await makeTempDir("annexgate-sshd-");
  try {
    // sshd refuses to start without its privilege separation directory.
    await mkdir("/run/sshd", { recursive: true, mode: 0o755 }).catch(() => undefined);
    const hostKey = join(dir, "host_ed25519");
    const clientKey = join(dir, "client_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sshd", "-f", hostKey]);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "client", "-f", clientKey]);
    const clientPub = (await run("cat", [`${clientKey}.pub`])).trim();
    const authorizedKeys = join(dir, "authorized_keys");
    const loginsFile = join(dir, "logins.log");
    const stockShell = await which("git-annex-shell");

    const useShell = async (
      kind: ShellKind,
      env: Readonly<Record<string, string>> = {},
      annexgateShell = ANNEXGATE_GIT_ANNEX_SHELL,
    ) => {
      const assignments = Object.entries(env).map(
        ([k, v]) => `${k}=${shellQuoteForAuthorizedKeys(v)}`,
      );
      if (kind === "annexgate") {
        // The login's PATH may not have the node running the tests; name it.
        assignments.push(`ANNEXGATE_NODE=${shellQuoteForAuthorizedKeys(process.execPath)}`);
      }
      const program = kind === "annexgate" ? annexgateShell : stockShell;
      const command = [
        // Each login is noted: which shell ran which command.
        `echo ${kind} \\"$SSH_ORIGINAL_COMMAND\\" >> ${shellQuoteForAuthorizedKeys(loginsFile)};`,
        ...assignments,
        "exec",
        shellQuoteForAuthorizedKeys(program),
      ].join(" ");
      const line = `command="${command} -c \\"$SSH_ORIGINAL_COMMAND\\"",restrict ${clientPub}\n`;
      await writeFile(authorizedKeys, line, { mode: 0o600 });
    };
    await useShell(shell, shellEnv);

    const port = await freePort();
    const config = join(dir, "sshd_config");
    await writeFile(
      config,
      [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        "StrictModes no",
        "UsePAM no",
        "PermitRootLogin yes",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UseDNS no",
        "PrintMotd no",
        "LogLevel ERROR",
        // sshd runs each login's command as `bash -c` (root's login
        // shell), and bash then reads ~/.bashrc unless it is nested: on a
        // developer machine that can run version managers for a second or
        // more per login. What is tested is git-annex-shell, not dotfiles.
        "SetEnv SHLVL=1",
        "",
      ].join("\n"),
    );

    const binDir = join(dir, "bin");
    await mkdir(binDir);
    const wrapper = join(binDir, "ssh");
    await writeFile(
      wrapper,
      [
        "#!/bin/sh",
        "# Reaches the test sshd: its port, the client key, a private known_hosts.",
        `exec ${SSH} -F /dev/null -p ${port} -i ${clientKey} -o IdentitiesOnly=yes \\`,
        `  -o UserKnownHostsFile=${join(dir, "known_hosts")} -o StrictHostKeyChecking=no \\`,
        '  -o BatchMode=yes -o ControlPath=none -o LogLevel=ERROR "$@"',
        "",
      ].join("\n"),
    );
    await chmod(wrapper, 0o755);

    const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      await removeDir(dir);
    };
    try {
      await waitForSsh(port, child, () => err);
    } catch (e) {
      await stop();
      throw e;
    }
    return {
      port,
      dir,
      host: "localhost",
      clientEnv: () => ({ PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}` }),
      useShell,
      log: () => err,
      logins: async () => {
        const text = await readFile(loginsFile, "utf8").catch(() => "");
        return text.split("\n").filter((l) => l !== "");
      },
      stop,
    };
  } catch (e) {
    await removeDir(dir).catch(() => undefined);
    throw e;
  }
}

/** Git config a client repository needs to reach a TestSshd (set before `git annex init`). */
export const clientGitConfig: ReadonlyArray<readonly [string, string]> = [
  ["annex.sshcaching", "false"],
];
