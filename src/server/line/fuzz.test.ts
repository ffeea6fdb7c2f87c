/**
 * Hostile clients against serveLine on a real repository: sessions made of
 * valid requests, mutated ones and random bytes, cut off at random points.
 * Bounded by count and time. Each session must end (no hang), end cleanly
 * or with a LineServerError (never a crash), and leave in the repository
 * only content that matches its key.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { prng } from "../../../test/helpers/prng.js";
import { formatKey, type Key, parseKey } from "../../keys/index.js";
import { openedRepository } from "../../peers/local/repository.fixture.js";
import { MessageChannel } from "../../protocol/index.js";
import { gitServiceRunner } from "./connect.js";
import { LineServerError, serveLine } from "./server.js";

const MAX_SESSIONS = 3000;
// At least this many sessions are driven however long they take (a loaded
// machine is slow, not wrong); beyond it, the run stops at MAX_MS.
const MIN_SESSIONS = 200;
const MAX_MS = 10_000;
// A bound on one session, far above what one takes: only a hang reaches it.
const PER_SESSION_MS = 60_000;

interface Item {
  readonly data: Buffer;
  readonly key: Key;
}

function item(tag: string, size: number): Item {
  const data = Buffer.alloc(size, tag);
  const hex = createHash("sha256").update(data).digest("hex");
  return { data, key: parseKey(`SHA256E-s${size}--${hex}`) };
}

describe("fuzz: hostile sessions against serveLine", () => {
  const fx = openedRepository("annexgate-line-fuzz-", "fuzzed");
  const items = [item("a", 10), item("b", 3000), item("c", 70_000), item("d", 0)];

  /** One request, sometimes with the bytes that should follow it, sometimes wrong ones. */
  function request(rand: () => number): Buffer {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const it = pick(items);
    const k = formatKey(it.key);
    const offset = Math.floor(rand() * (it.data.length + 3));
    const body = (n: number) => {
      // The right bytes, or bytes that are wrong, short or long.
      const r = rand();
      if (r < 0.6) return it.data.subarray(offset, offset + n);
      if (r < 0.8) return Buffer.alloc(n, "x");
      return it.data.subarray(offset, offset + Math.floor(rand() * (n + 5)));
    };
    const line = pick([
      () => `VERSION ${Math.floor(rand() * 6)}`,
      () => `CHECKPRESENT ${k}`,
      () => `LOCKCONTENT ${k}`,
      () => "UNLOCKCONTENT",
      () => `REMOVE ${k}`,
      () => `REMOVE-BEFORE ${Math.floor(rand() * 1e9)} ${k}`,
      () => "GETTIMESTAMP",
      () => `GET ${offset} f ${k}`,
      () => `PUT f ${k}`,
      () => `PUT  ${k}`,
      () => `DATA ${it.data.length - Math.min(offset, it.data.length)}`,
      () => "DATA-PRESENT",
      () => pick(["VALID", "INVALID", "SUCCESS", "FAILURE", "SUCCESS-PLUS a", "ERROR oops"]),
      () => `BYPASS ${pick(["", "x", "00000000-0000-0000-0000-000000000001"])}`,
      () => `AUTH x y`,
      () => "NOTIFYCHANGE",
      () => `CONNECT ${pick(["git-upload-pack", "git-receive-pack", "bogus"])}`,
    ])();
    let out = Buffer.from(`${line}\n`);
    if (line.startsWith("DATA ")) {
      out = Buffer.concat([out, body(Number(line.slice(5)))]);
    }
    return out;
  }

  function session(rand: () => number): Buffer {
    const parts: Buffer[] = [];
    const n = 1 + Math.floor(rand() * 12);
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.75) parts.push(request(rand));
      else if (r < 0.9) {
        // A mutated request: flipped, dropped or inserted bytes.
        const b = Buffer.from(request(rand));
        for (let m = 0; m < 1 + Math.floor(rand() * 3); m++) {
          const at = Math.floor(rand() * b.length);
          b[at] = Math.floor(rand() * 256);
        }
        parts.push(b);
      } else {
        const junk = Buffer.alloc(Math.floor(rand() * 200));
        for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
        parts.push(junk);
      }
    }
    const all = Buffer.concat(parts);
    // Hang up anywhere.
    return rand() < 0.3 ? all.subarray(0, Math.floor(rand() * all.length)) : all;
  }

  it(`up to ${MAX_SESSIONS} sessions or ${MAX_MS / 1000} s: each ends, never crashes, stores only good content`, async (t) => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    const rand = prng(seed);
    const started = Date.now();
    const tally = { sessions: 0, closed: 0, clientError: 0, gaveUp: 0, errorsSent: 0 };
    const more = () => tally.sessions < MIN_SESSIONS || Date.now() - started < MAX_MS;
    for (; tally.sessions < MAX_SESSIONS && more(); tally.sessions++) {
      const input = session(rand);
      const toServer = new PassThrough();
      const fromServer = new PassThrough();
      let output = "";
      fromServer.on("data", (d: Buffer) => {
        output += d.toString("latin1");
      });
      const ended = serveLine(new MessageChannel(toServer, fromServer), {
        peer: fx.repo.peer,
        mode: rand() < 0.2 ? "readonly" : "readwrite",
        // Sometimes CONNECT reaches a real git (fed whatever follows).
        ...(rand() < 0.05 ? { connect: gitServiceRunner(fx.dir, { stderr: "ignore" }) } : {}),
      });
      toServer.end(input);
      let timer: NodeJS.Timeout | undefined;
      try {
        const end = await Promise.race([
          ended,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("hung")), PER_SESSION_MS);
          }),
        ]);
        if (end.reason === "client-error") tally.clientError++;
        else tally.closed++;
      } catch (e) {
        if (!(e instanceof LineServerError)) {
          throw new Error(
            `session failed (FUZZ_SEED=${seed}, #${tally.sessions}): ${JSON.stringify(input.toString("latin1").slice(0, 1500))}`,
            { cause: e },
          );
        }
        tally.gaveUp++;
      } finally {
        clearTimeout(timer);
      }
      tally.errorsSent += output.split("\nERROR ").length - 1;
    }
    t.diagnostic(`seed ${seed}: ${JSON.stringify(tally)} in ${Date.now() - started} ms`);
    assert.ok(tally.sessions >= MIN_SESSIONS, `only ${tally.sessions} sessions`);
    assert.ok(tally.errorsSent > 50, `only ${tally.errorsSent} ERROR replies`);
    for (const it of items) {
      if (await fx.repo.store.has(it.key)) {
        assert.deepEqual(await readFile(fx.repo.store.objectFile(it.key)), it.data);
      }
    }
    // The repository still serves a plain session.
    const toServer = new PassThrough();
    const fromServer = new PassThrough();
    const client = new MessageChannel(fromServer, toServer);
    const ended = serveLine(new MessageChannel(toServer, fromServer), {
      peer: fx.repo.peer,
      mode: "readwrite",
    });
    assert.equal((await client.receive())?.type, "AUTH-SUCCESS");
    await client.send({ type: "CHECKPRESENT", key: (items[0] as Item).key });
    assert.ok(["SUCCESS", "FAILURE"].includes((await client.receive())?.type ?? ""));
    toServer.end();
    assert.deepEqual(await ended, { reason: "closed" });
  });
});
