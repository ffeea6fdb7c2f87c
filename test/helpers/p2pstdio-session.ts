/**
 * A raw client of `annexgate shell p2pstdio`, run as a child process with
 * stdin and stdout pipes as ssh runs it, for tests that need to stop
 * anywhere: in the middle of a line, inside DATA, before VALID. Nothing is
 * parsed beyond lines and byte counts, so the test says exactly what is on
 * the wire; every wait is for an event (a line, bytes, the exit) and is
 * bounded by a deadline.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { ANNEXGATE_BIN } from "./servers.js";

/** How long a wait for the server may take before the test fails (a loaded machine is slow). */
export const SESSION_DEADLINE_MS = 30_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ShellSession {
  /** Every session still running, so a failed test can end them all. */
  private static readonly running = new Set<ShellSession>();

  /** Kill every session still running (an after() hook: a failed test leaves none behind). */
  static async killAll(): Promise<void> {
    const left = [...ShellSession.running];
    for (const s of left) s.child.kill("SIGKILL");
    await Promise.all(left.map((s) => s.exited));
  }

  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<Exit>;
  /** What the server sent and the test has not read yet, in arrival order (joined only for lines). */
  private parts: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private wake: (() => void) | null = null;
  private err = "";

  /** `annexgate shell p2pstdio DIR CLIENTUUID [--uuid UUID]` with `env` added. */
  constructor(dir: string, clientUuid: string, uuid: string | undefined, env: NodeJS.ProcessEnv) {
    const args = [ANNEXGATE_BIN, "shell", "p2pstdio", dir, clientUuid];
    if (uuid !== undefined) args.push("--uuid", uuid);
    this.child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    ShellSession.running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        ShellSession.running.delete(this);
        resolve({ code, signal });
      });
    });
    // Writes after a cut-off fail with EPIPE; the test decides what matters.
    this.child.stdin.on("error", () => undefined);
    this.child.stdout.on("error", () => undefined);
    this.child.stdout.on("data", (d: Buffer) => {
      this.parts.push(d);
      this.buffered += d.length;
      this.notify();
    });
    this.child.stdout.on("close", () => {
      this.ended = true;
      this.notify();
    });
    this.child.stderr.on("data", (d: Buffer) => {
      this.err = (this.err + d.toString("utf8")).slice(-8192);
    });
  }

  /** What the server wrote on stderr (its last 8 KiB). */
  stderr(): string {
    return this.err;
  }

  write(data: string | Buffer): void {
    this.child.stdin.write(data);
  }

  /** The next line the server sends, without its newline. */
  async line(): Promise<string> {
    await this.until(() => this.joined().indexOf(0x0a) >= 0, "a line");
    const buf = this.joined();
    const i = buf.indexOf(0x0a);
    this.keep(buf.subarray(i + 1));
    return buf.subarray(0, i).toString("utf8");
  }

  /** Exactly `n` bytes of DATA payload. */
  async bytes(n: number): Promise<Buffer> {
    await this.until(() => this.buffered >= n, `${n} bytes`);
    const buf = this.joined();
    this.keep(buf.subarray(n));
    return buf.subarray(0, n);
  }

  private joined(): Buffer {
    if (this.parts.length !== 1) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0] as Buffer;
  }

  private keep(rest: Buffer): void {
    this.parts = [rest];
    this.buffered = rest.length;
  }

  /** AUTH-SUCCESS, then VERSION 4 agreed. Returns the UUID the server announced. */
  async handshake(): Promise<string> {
    const hello = await this.line();
    if (!hello.startsWith("AUTH-SUCCESS ")) throw new Error(`expected AUTH-SUCCESS, got ${hello}`);
    this.write("VERSION 4\n");
    const v = await this.line();
    if (v !== "VERSION 4") throw new Error(`expected VERSION 4, got ${v}`);
    return hello.slice("AUTH-SUCCESS ".length);
  }

  /** Clean cut-off: stdin closed (end of input), what the server still says is read and dropped. */
  closeInput(): void {
    this.child.stdin.end();
    this.child.stdout.resume();
  }

  /** Abrupt cut-off: both pipes destroyed (the server's writes then fail with EPIPE). */
  destroyPipes(): void {
    this.child.stdin.destroy();
    this.child.stdout.destroy();
  }

  /** The exit, which must come within `ms`; the process is killed (and the test fails) otherwise. */
  async exitWithin(ms = SESSION_DEADLINE_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => {
      timer = setTimeout(() => r("late"), ms);
    });
    const r = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (r === "late") {
      this.child.kill("SIGKILL");
      await this.exited;
      throw new Error(`annexgate shell did not exit within ${ms} ms; stderr: ${this.err}`);
    }
    return r;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async until(ready: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + SESSION_DEADLINE_MS;
    while (!ready()) {
      if (this.ended) throw new Error(`the server closed its output before ${what}: ${this.err}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`nothing (${what}) from the server within the deadline: ${this.err}`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }
}
