/**
 * A server run under `valgrind --tool=callgrind`, every process it starts
 * too, and the instructions its process tree executes during a phase of
 * work: all counters zeroed before the phase, all dumped after it, and the
 * totals of every dump written meanwhile (the phase's dumps, and the final
 * counts of processes that ended during it) added up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../test/helpers/index.js";
import { freePort, waitForPort } from "../test/helpers/servers.js";

/** Node starts in under a second natively, but in tens of seconds under valgrind. */
const START_LIMIT_MS = 600_000;

export class CountedServer {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly port: number;
  #stderr = "";

  private constructor(child: ChildProcess, dir: string, port: number) {
    this.#child = child;
    this.#dir = dir;
    this.port = port;
    child.stderr?.on("data", (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-20_000);
    });
  }

  /**
   * Starts `node [nodeArgs] main p2phttp --bind 127.0.0.1 --port P args` in
   * `repo` under callgrind, its dumps in `dir`, and waits until it listens.
   */
  static async start(opts: {
    readonly main: string;
    readonly nodeArgs: readonly string[];
    readonly repo: string;
    readonly args: readonly string[];
    readonly dir: string;
    readonly env: NodeJS.ProcessEnv;
  }): Promise<CountedServer> {
    const port = await freePort();
    const valgrind = [
      "--tool=callgrind",
      "--trace-children=yes",
      `--vgdb-prefix=${join(opts.dir, "vgdb")}`,
      `--callgrind-out-file=${join(opts.dir, "cg.%p.out")}`,
      `--log-file=${join(opts.dir, "valgrind.%p.log")}`,
    ];
    const child = spawn(
      "valgrind",
      [
        ...valgrind,
        process.execPath,
        ...opts.nodeArgs,
        opts.main,
        "p2phttp",
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        ...opts.args,
      ],
      { cwd: opts.repo, env: { ...process.env, ...opts.env }, stdio: ["ignore", "ignore", "pipe"] },
    );
    const server = new CountedServer(child, opts.dir, port);
    await waitForPort(port, child, () => server.#stderr, START_LIMIT_MS);
    return server;
  }

  async #control(flag: string): Promise<void> {
    await run("callgrind_control", [`--vgdb-prefix=${join(this.#dir, "vgdb")}`, flag]);
  }

  /** Instructions the server's process tree executed while `work` ran. */
  async count(work: () => Promise<unknown>): Promise<number> {
    const before = new Set(await readdir(this.#dir));
    await this.#control("--zero");
    await work();
    await this.#control("--dump");
    let total = 0;
    const byCommand = new Map<string, number>();
    for (const f of await readdir(this.#dir)) {
      if (before.has(f) || !f.startsWith("cg.")) continue;
      const text = await readFile(join(this.#dir, f), "utf8");
      const m = /^totals: (\d+)$/m.exec(text);
      if (m?.[1] === undefined) continue;
      total += Number(m[1]);
      const command = commandName(/^cmd: (.*)$/m.exec(text)?.[1] ?? "?");
      byCommand.set(command, (byCommand.get(command) ?? 0) + Number(m[1]));
    }
    if (process.env.BENCH_IR_BY_COMMAND === "1") {
      const parts = [...byCommand].sort((a, b) => b[1] - a[1]);
      console.log(
        `      by command: ${parts.map(([c, n]) => `${c} ${(n / 1e6).toFixed(1)}`).join(", ")}`,
      );
    }
    return total;
  }

  /** SIGTERM, then wait for the tree to exit (SIGKILL after a minute). */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.#child.once("exit", () => r()));
    this.#child.kill("SIGTERM");
    const t = setTimeout(() => this.#child.kill("SIGKILL"), 60_000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * A dump's command, short: the program's base name and, for git, its
 * subcommand ("node", "git cat-file", "perl").
 */
function commandName(cmd: string): string {
  const [program = "?", ...args] = cmd.trim().split(/\s+/);
  const base = program.slice(program.lastIndexOf("/") + 1);
  if (base !== "git") return base;
  const sub = args.find((a) => !a.startsWith("-") && !a.includes("="));
  return sub === undefined ? "git" : `git ${sub}`;
}
