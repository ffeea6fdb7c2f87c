import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { mkdir, readdir, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../test/helpers/index.js";
import { keyFile } from "../keys/index.js";
import { FcntlLocks } from "../locks/index.js";
import { BadDurationError, BadSizeError } from "../sizes/index.js";
import {
  DEFAULT_TMP_LIMITS,
  ObjectStore,
  type PartialUpload,
  partialsToReclaim,
  reclaimPeriodMs,
  repositoryLayout,
  TmpReclaimer,
  tmpLimitsFrom,
} from "./index.js";
import { until, uploadUnderWay } from "./store.fixture.js";

const DAY = 86_400_000;
const NOW = Date.parse("2026-06-01T00:00:00Z");

describe("tmpLimitsFrom", () => {
  it("keeps partial uploads a week, with no cap, unless told otherwise", () => {
    assert.deepEqual(tmpLimitsFrom({}), DEFAULT_TMP_LIMITS);
    assert.deepEqual(DEFAULT_TMP_LIMITS, { maxAgeMs: 7 * DAY, maxBytes: null });
  });

  it("reads git-annex durations and sizes, and 'none'", () => {
    assert.deepEqual(tmpLimitsFrom({ maxAge: "1d12h", maxSize: "10MiB" }), {
      maxAgeMs: 1.5 * DAY,
      maxBytes: 10 * 1024 * 1024,
    });
    assert.deepEqual(tmpLimitsFrom({ maxAge: "none", maxSize: "none" }), {
      maxAgeMs: null,
      maxBytes: null,
    });
    assert.deepEqual(tmpLimitsFrom({ maxSize: "0" }), { maxAgeMs: 7 * DAY, maxBytes: 0 });
  });

  it("refuses what git-annex would not read, and negative sizes", () => {
    assert.throws(() => tmpLimitsFrom({ maxAge: "1 week" }), BadDurationError);
    assert.throws(() => tmpLimitsFrom({ maxAge: "" }), BadDurationError);
    assert.throws(() => tmpLimitsFrom({ maxSize: "lots" }), BadSizeError);
    assert.throws(() => tmpLimitsFrom({ maxSize: "-5mb" }), BadSizeError);
  });

  it("looks every eighth of the age, between a minute and an hour", () => {
    assert.equal(reclaimPeriodMs(DEFAULT_TMP_LIMITS), 3_600_000);
    assert.equal(reclaimPeriodMs({ maxAgeMs: 1000, maxBytes: null }), 60_000);
    assert.equal(reclaimPeriodMs({ maxAgeMs: 80 * 60_000, maxBytes: null }), 600_000);
    assert.equal(reclaimPeriodMs({ maxAgeMs: null, maxBytes: 5 }), 3_600_000);
  });
});

describe("partialsToReclaim", () => {
  const p = (name: string, size: number, ageDays: number): PartialUpload => ({
    name,
    size,
    mtimeMs: NOW - ageDays * DAY,
  });
  const none = () => false;
  const names = (ps: PartialUpload[]) => ps.map((x) => x.name);

  it("chooses those older than the age, oldest first", () => {
    const files = [p("a", 10, 1), p("b", 10, 9), p("c", 10, 8), p("d", 10, 7)];
    const limits = { maxAgeMs: 7 * DAY, maxBytes: null };
    // exactly the age is not older than it
    assert.deepEqual(names(partialsToReclaim(files, limits, NOW, none)), ["b", "c"]);
  });

  it("then the oldest until the total is within the cap", () => {
    const files = [p("new", 40, 0), p("old", 30, 3), p("mid", 20, 2), p("older", 50, 4)];
    const limits = { maxAgeMs: null, maxBytes: 70 };
    assert.deepEqual(names(partialsToReclaim(files, limits, NOW, none)), ["older", "old"]);
    const exact = { maxAgeMs: null, maxBytes: 140 };
    assert.deepEqual(names(partialsToReclaim(files, exact, NOW, none)), []);
  });

  it("counts what is in use towards the cap but never chooses it", () => {
    const files = [p("busy", 100, 30), p("b", 10, 2), p("c", 10, 1)];
    const limits = { maxAgeMs: 7 * DAY, maxBytes: 105 };
    const inUse = (n: string) => n === "busy";
    assert.deepEqual(names(partialsToReclaim(files, limits, NOW, inUse)), ["b", "c"]);
  });

  it("removes by age first, then by size from what is left", () => {
    const files = [p("ancient", 100, 10), p("x", 30, 2), p("y", 30, 1)];
    const limits = { maxAgeMs: 7 * DAY, maxBytes: 40 };
    assert.deepEqual(names(partialsToReclaim(files, limits, NOW, none)), ["ancient", "x"]);
  });
});

describe("TmpReclaimer", () => {
  let dir: string;
  let store: ObjectStore;
  let tmpDir: string;

  beforeEach(async () => {
    dir = await makeTempDir();
    const annex = join(dir, "repo", ".git", "annex");
    await mkdir(annex, { recursive: true });
    store = new ObjectStore(repositoryLayout(annex, "mixed"));
    tmpDir = store.layout.tmpDir;
    await mkdir(tmpDir, { recursive: true });
  });

  afterEach(async () => {
    await removeDir(dir);
  });

  async function partial(name: string, size: number, ageDays: number): Promise<void> {
    const file = join(tmpDir, name);
    await writeFile(file, Buffer.alloc(size, 7));
    const t = new Date(NOW - ageDays * DAY);
    await utimes(file, t, t);
  }

  const left = async () => (await readdir(tmpDir)).sort();

  it("removes old partial uploads and their work directories, keeps the rest", async () => {
    await partial("OLD", 100, 8);
    await mkdir(join(tmpDir, "work.OLD", "x"), { recursive: true });
    await partial("RECENT", 50, 1);
    const r = new TmpReclaimer(store, DEFAULT_TMP_LIMITS, { now: () => NOW });
    const report = await r.reclaim();
    assert.deepEqual(report, { removed: ["OLD"], freedBytes: 100, keptBytes: 50 });
    assert.deepEqual(await left(), ["RECENT"]);
  });

  it("keeps the total within the cap, oldest first", async () => {
    await partial("A", 100, 3);
    await partial("B", 100, 2);
    await partial("C", 100, 1);
    const r = new TmpReclaimer(store, { maxAgeMs: null, maxBytes: 150 }, { now: () => NOW });
    assert.deepEqual((await r.reclaim()).removed, ["A", "B"]);
    assert.deepEqual(await left(), ["C"]);
  });

  it("answers a missing temp directory with nothing to do", async () => {
    await removeDir(tmpDir);
    const r = new TmpReclaimer(store, { maxAgeMs: 0, maxBytes: 0 }, { now: () => NOW });
    assert.deepEqual(await r.reclaim(), { removed: [], freedBytes: 0, keptBytes: 0 });
  });

  it("never removes a temp file this process is receiving", async () => {
    const data = Buffer.alloc(4096, 1);
    const { sender, receiving } = await uploadUnderWay(store, data, 1000);
    const r = new TmpReclaimer(store, { maxAgeMs: 0, maxBytes: 0 }, { now: () => NOW + DAY });
    assert.deepEqual((await r.reclaim()).removed, []);
    sender.end(data.subarray(1000));
    assert.deepEqual(await receiving, { ok: true });
  });

  it("never removes a temp file a stock git-annex holds its download lock on", async () => {
    await partial("KEY1", 10, 30);
    await partial("KEY2", 10, 30);
    const lck = join(dir, "repo", ".git", "annex", "transfer", "download", "lck", "lck.KEY1");
    await mkdir(join(lck, ".."), { recursive: true });
    // Another process: fcntl locks never conflict within one.
    const other = new FcntlLocks();
    const held = await other.tryLock(lck, "exclusive");
    assert.ok(held);
    try {
      const r = new TmpReclaimer(store, DEFAULT_TMP_LIMITS, { now: () => NOW });
      assert.deepEqual((await r.reclaim()).removed, ["KEY2"]);
      assert.deepEqual(await left(), ["KEY1"]);
      await held.release();
      assert.deepEqual((await r.reclaim()).removed, ["KEY1"]);
    } finally {
      await held.release();
      other.close();
    }
    // The lock file was looked at, not removed: it is stock git-annex's.
    assert.ok(await stat(lck));
  });

  it("reclaims at start and again when a new upload starts over the cap", async () => {
    await partial("ANCIENT", 10, 30);
    await partial("OLDER", 3000, 2);
    const r = new TmpReclaimer(store, { maxAgeMs: 7 * DAY, maxBytes: 4000 }, { now: () => NOW });
    assert.deepEqual((await r.start()).removed, ["ANCIENT"]);
    const data = Buffer.alloc(2048, 3);
    const { key, sender, receiving } = await uploadUnderWay(store, data, 1500);
    // 3000 + 1500 is over the cap: the new upload's start set a round off.
    await until("the older partial reclaimed", async () => !(await left()).includes("OLDER"));
    assert.deepEqual(await left(), [keyFile(key)]);
    sender.destroy();
    assert.deepEqual(await receiving, { ok: false, reason: "aborted" });
    await r.stop();
  });

  it("looks again once an abandoned upload leaves its temp file over the cap", async () => {
    const r = new TmpReclaimer(store, { maxAgeMs: null, maxBytes: 1000 }, { now: () => NOW });
    await r.start();
    const data = Buffer.alloc(2048, 5);
    const { sender, receiving } = await uploadUnderWay(store, data, 1500);
    // Over the cap, but being written: kept.
    assert.deepEqual((await r.reclaim()).removed, []);
    sender.destroy();
    assert.deepEqual(await receiving, { ok: false, reason: "aborted" });
    await until("the abandoned partial reclaimed", async () => (await left()).length === 0);
    await r.stop();
  });

  it("leaves a file that grew after it was looked at", async () => {
    await partial("GROWING", 10, 30);
    const r = new TmpReclaimer(store, DEFAULT_TMP_LIMITS, {
      // The clock is read between the listing and the removal: the file
      // grows there, as if a resumed upload had just written to it.
      now: () => {
        appendFileSync(join(tmpDir, "GROWING"), Buffer.alloc(20, 1));
        return NOW;
      },
    });
    assert.deepEqual((await r.reclaim()).removed, []);
    assert.equal((await stat(join(tmpDir, "GROWING"))).size, 30);
  });
});
