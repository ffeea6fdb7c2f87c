/**
 * Live sizes shared between processes: separate node processes (the
 * racer, live-sizes-racer.ts), each with its own fcntl helper, reserve
 * room in one repository as concurrent ssh logins do.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FcntlLocks } from "../locks/index.js";
import { parseRecord, SharedLiveSizes } from "./index.js";

const RACER = join(dirname(fileURLToPath(import.meta.url)), "live-sizes-racer.js");
const NODE = "00000000-0000-4000-8000-00000000000a";
const UNIT = 1000n;

class Racer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<void>;
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string) => void)[] = [];
  #stderr = "";

  constructor(dir: string, room: bigint) {
    this.child = spawn(process.execPath, [RACER, dir, NODE, String(room)]);
    this.child.stderr.on("data", (d: Buffer) => {
      this.#stderr += d.toString();
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const w = this.#waiting.shift();
      if (w) w(line);
      else this.#lines.push(line);
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  /** The next line the racer prints (failing if it exits first). */
  next(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      this.#waiting.push(resolve);
      void this.exited.then(() => reject(new Error(`racer exited: ${this.#stderr}`)));
    });
  }

  async ask(command: string): Promise<string> {
    this.child.stdin.write(`${command}\n`);
    return this.next();
  }

  /** Ends the racer cleanly (it closes its records). */
  async end(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

async function startRacers(dir: string, n: number, room: bigint): Promise<Racer[]> {
  const racers = Array.from({ length: n }, () => new Racer(dir, room));
  for (const r of racers) assert.equal(await r.next(), "ready");
  return racers;
}

/** Waits for a process to be gone, bounded: a SIGKILLed racer's lock helper sees its pipe close. */
async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still there`);
    await new Promise((r) => setImmediate(r));
  }
}

describe("live sizes shared between processes", { timeout: 120_000 }, () => {
  let root = "";
  let n = 0;
  const fresh = () => join(root, `live${n++}`);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "annexgate-live-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("6 processes reserving into room for 3: exactly 3 succeed", async () => {
    const dir = fresh();
    const racers = await startRacers(dir, 6, 3n * UNIT);
    for (const r of racers) assert.equal(await r.ask("refresh 0"), "refreshed");
    const answers = await Promise.all(racers.map((r) => r.ask(`reserve ${UNIT}`)));
    assert.equal(answers.filter((a) => a === "reserved").length, 3, answers.join(" "));
    assert.equal(answers.filter((a) => a === "full").length, 3, answers.join(" "));
    // Each winner's record names its store; the losers' hold none.
    let inFlight = 0;
    for (const f of (await readdir(dir)).filter((f) => f.endsWith(".json"))) {
      inFlight += parseRecord(await readFile(join(dir, f), "utf8"))?.inFlight.length ?? 0;
    }
    assert.equal(inFlight, 3);
    // A winner gives its room back: one more fits, then none.
    const winner = racers[answers.indexOf("reserved")] as Racer;
    assert.equal(await winner.ask("release"), "released");
    const loser = racers[answers.indexOf("full")] as Racer;
    assert.equal(await loser.ask(`reserve ${UNIT}`), "reserved");
    assert.equal(await loser.ask(`reserve ${UNIT}`), "full");
    await Promise.all(racers.map((r) => r.end()));
  });

  it("a process SIGKILLed while holding a reservation gives its room back", async () => {
    const dir = fresh();
    const [holder, other] = (await startRacers(dir, 2, UNIT)) as [Racer, Racer];
    for (const r of [holder, other]) assert.equal(await r.ask("refresh 0"), "refreshed");
    assert.equal(await holder.ask(`reserve ${UNIT}`), "reserved");
    assert.equal(await other.ask(`reserve ${UNIT}`), "full");
    const helper = Number(await holder.ask("helper"));
    assert.ok(helper > 0);
    holder.child.kill("SIGKILL");
    await holder.exited;
    await gone(helper);
    // The next process, and the one that was refused, see the room back.
    const [next] = (await startRacers(dir, 1, UNIT)) as [Racer];
    assert.equal(await next.ask("refresh 0"), "refreshed");
    assert.equal(await next.ask(`reserve ${UNIT}`), "reserved");
    assert.equal(await other.ask(`reserve ${UNIT}`), "full");
    assert.equal(await next.ask("release"), "released");
    assert.equal(await other.ask(`reserve ${UNIT}`), "reserved");
    // The dead process's record is gone.
    const records = (await readdir(dir)).filter((f) => f.endsWith(".json"));
    assert.equal(records.length, 2, records.join(" "));
    await Promise.all([next.end(), other.end()]);
  });

  it("a store that ended elsewhere counts until the branch sizes read include it, and only once", async () => {
    const dir = fresh();
    const [a, b] = (await startRacers(dir, 2, 3n * UNIT)) as [Racer, Racer];
    for (const r of [a, b]) assert.equal(await r.ask("refresh 0"), "refreshed");
    assert.equal(await a.ask(`reserve ${UNIT}`), "reserved");
    assert.equal(await a.ask("commit"), "committed");
    // a leaves; its ended store stays counted for b, whose sizes predate it.
    await a.end();
    assert.equal(await b.ask(`reserve ${UNIT}`), "reserved");
    assert.equal(await b.ask(`reserve ${UNIT}`), "reserved");
    assert.equal(await b.ask(`reserve ${UNIT}`), "full");
    assert.equal(await b.ask("size"), String(3n * UNIT));
    // b reads sizes that include a's store: counted once, not twice.
    assert.equal(await b.ask(`refresh ${UNIT}`), "refreshed");
    assert.equal(await b.ask("release"), "released");
    assert.equal(await b.ask(`reserve ${UNIT}`), "reserved");
    assert.equal(await b.ask("size"), String(3n * UNIT));
    // No process needs a's record any more: it was tidied away.
    const records = (await readdir(dir)).filter((f) => f.endsWith(".json"));
    assert.equal(records.length, 1, records.join(" "));
    await b.end();
    assert.deepEqual(
      (await readdir(dir)).filter(
        (f) => f.endsWith(".json") || (f.endsWith(".lock") && f !== "lock"),
      ),
      [],
    );
  });
});

describe("live sizes shared between processes, in this process", () => {
  it("a repository without a maximum size never touches the shared folder", async () => {
    const root = await mkdtemp(join(tmpdir(), "annexgate-live-"));
    const dir = join(root, "live");
    const locks = new FcntlLocks();
    try {
      const live = new SharedLiveSizes({ dir, locks });
      await live.refreshWith(async () => new Map([[NODE, 5n]]), new Map());
      const [r] = await live.reserveAll([NODE], UNIT, "KEY");
      assert.ok(r);
      r.commit();
      assert.equal(live.size(NODE), 5n + UNIT);
      await live.close();
      await assert.rejects(readdir(dir), { code: "ENOENT" });
      assert.equal(locks.helperPid(), null, "no lock helper was started");
    } finally {
      locks.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it("records that are not what a process writes are ignored", () => {
    const store = { uuid: NODE, key: "K", bytes: "10" };
    assert.ok(parseRecord(JSON.stringify({ mark: 1, inFlight: [store], ended: [] })));
    for (const bad of [
      "",
      "not json",
      "null",
      JSON.stringify({ mark: -1, inFlight: [], ended: [] }),
      JSON.stringify({ mark: 1, inFlight: [{ ...store, bytes: "-5" }], ended: [] }),
      JSON.stringify({ mark: 1, inFlight: [{ ...store, bytes: 10 }], ended: [] }),
      JSON.stringify({ mark: 1, inFlight: [], ended: [store] }),
      JSON.stringify({ mark: 1, inFlight: [null], ended: [] }),
    ]) {
      assert.equal(parseRecord(bad), null, bad);
    }
  });
});
