/**
 * Hostile input for the line protocol: random and mutated byte streams fed to
 * MessageChannel.receive in a loop, bounded by count and by time. Nothing may
 * crash, throw anything but a ProtocolError, or hang; every ProtocolError's
 * message must be sendable back as an ERROR line; and every line the channel
 * reads must come out exactly as parseMessage says it should.
 */
import assert from "node:assert/strict";
import { Readable, Writable } from "node:stream";
import { describe, it } from "node:test";
import fc from "fast-check";
import { prng } from "../../test/helpers/prng.js";
import {
  assertUsableAsErrorReply,
  chunked,
  encodeTranscript,
  transcriptArb,
} from "./arbitraries.test.js";
import {
  formatMessage,
  type Message,
  MessageChannel,
  ProtocolError,
  parseMessage,
} from "./index.js";

const MAX_INPUTS = 20_000;
// At least this many inputs are driven however long they take (a loaded
// machine is slow, not wrong); beyond it, the run stops at MAX_MS.
const MIN_INPUTS = 1_500;
const MAX_MS = 20_000;
// A bound on one input, far above what one takes: only a hang reaches it.
const PER_INPUT_MS = 60_000;
const MAX_STEPS = 10_000;

const KNOWN_REASONS = new Set([
  "unknown-command",
  "bad-fields",
  "bad-number",
  "bad-key",
  "key-not-utf8",
  "bad-uuid",
  "bad-token",
  "bad-associated-file",
  "bad-service",
  "line-too-long",
  "truncated-line",
  "truncated-data",
]);

const K = "SHA256E-s6--5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03.txt";

/* Both directions of real git-annex-shell p2pstdio sessions, payloads included. */
const REAL_SESSIONS: readonly string[] = [
  "AUTH-SUCCESS 6b0b97b9-aa6c-4472-a2b1-164085a4042f\nVERSION 4\nSUCCESS\nTIMESTAMP 4414\n" +
    "DATA 6\nhello\nVALID\nERROR unknown command\nERROR unknown command\nPUT-FROM 0\n" +
    "SUCCESS\nSUCCESS\nSUCCESS\n",
  `VERSION 4\nCHECKPRESENT ${K}\nGETTIMESTAMP\nGET 0 f.txt ${K}\nSUCCESS\nBOGUS\n` +
    "CHECKPRESENT bad\nPUT a%b WORM-s3-m1--x\nDATA 3\nab\nVALID\nLOCKCONTENT WORM-s3-m1--x\n" +
    "UNLOCKCONTENT\nREMOVE WORM-s3-m1--x\nNOTIFYCHANGE\n",
  `VERSION 4\nBYPASS ac000000-0000-8000-0000-000000000001\nPUT sub%dir/my%file%50%%.txt ${K}\n` +
    "DATA 6\nhello\nINVALID\nREMOVE-BEFORE 4714 WORM--x\nSUCCESS-PLUS 1 2 3\nCONNECTDONE -9\n",
];

const TOKENS = [
  "DATA ",
  "DATA 0\n",
  "DATA 99999999999\n",
  "DATA 9007199254740993\n",
  "VERSION ",
  "GET 0 ",
  "PUT ",
  "%",
  "%%",
  " ",
  "\t",
  "\r",
  "\n",
  "\r\n",
  "-",
  "--",
  "/",
  "\u00a0",
  "\u3000",
  "\0",
  "\xff",
  "\xc3",
  "\xed\xa0\x80",
  "😀",
  "ERROR ",
  "SUCCESS-PLUS ",
  "CONNECTDONE -",
  "__proto__",
];

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T;
}

function token(rand: () => number): Buffer {
  const t = pick(rand, TOKENS);
  return Buffer.from(t, /[\x80-\xff]/.test(t) && !/[^\0-\xff]/.test(t) ? "latin1" : "utf8");
}

/** One random edit of `input`. */
function mutate(rand: () => number, input: Buffer, maxLine: number): Buffer {
  const at = Math.floor(rand() * (input.length + 1));
  const span = Math.floor(rand() * 20);
  switch (Math.floor(rand() * 9)) {
    case 0: {
      const b = Buffer.from(input);
      if (b.length > 0) b[at % b.length] = Math.floor(rand() * 256);
      return b;
    }
    case 1:
      return Buffer.concat([input.subarray(0, at), randomBytes(rand, span), input.subarray(at)]);
    case 2:
      return Buffer.concat([input.subarray(0, at), input.subarray(at + span)]);
    case 3:
      return Buffer.concat([input.subarray(0, at + span), input.subarray(at)]);
    case 4:
      return input.subarray(0, at);
    case 5:
      return Buffer.concat([input.subarray(0, at), token(rand), input.subarray(at)]);
    case 6: {
      // A DATA length that is wrong by a little, or wildly.
      const text = input.toString("latin1");
      const m = /DATA [0-9]+/.exec(text.slice(at)) ?? /DATA [0-9]+/.exec(text);
      if (m === null) return Buffer.concat([input, Buffer.from(`DATA ${span}\n`)]);
      const start = text.indexOf(m[0], m.index);
      const n = rand() < 0.5 ? String(span) : String(Math.floor(rand() * 1e17));
      return Buffer.from(
        `${text.slice(0, start)}DATA ${n}${text.slice(start + m[0].length)}`,
        "latin1",
      );
    }
    case 7: {
      // A line longer than the limit, in the middle of things.
      const long = Buffer.alloc(
        maxLine + 1 + Math.floor(rand() * maxLine),
        pick(rand, [120, 32, 37]),
      );
      return Buffer.concat([input.subarray(0, at), long, input.subarray(at)]);
    }
    default: {
      // Swap two lines.
      const lines = input.toString("latin1").split("\n");
      const i = Math.floor(rand() * lines.length);
      const j = Math.floor(rand() * lines.length);
      [lines[i], lines[j]] = [lines[j] ?? "", lines[i] ?? ""];
      return Buffer.from(lines.join("\n"), "latin1");
    }
  }
}

const seedTranscripts: Buffer[] = [
  ...REAL_SESSIONS.map((s) => Buffer.from(s, "utf8")),
  ...fc.sample(transcriptArb, { numRuns: 60, seed: 20250416 }).map(encodeTranscript),
];

function makeInput(rand: () => number, maxLine: number): Buffer {
  const r = rand();
  if (r < 0.15) return randomBytes(rand, Math.floor(rand() * 2000));
  if (r < 0.3) {
    const parts: Buffer[] = [];
    const n = Math.floor(rand() * 40);
    for (let i = 0; i < n; i++) parts.push(rand() < 0.7 ? token(rand) : randomBytes(rand, 3));
    return Buffer.concat(parts);
  }
  let input = pick(rand, seedTranscripts);
  const edits = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < edits; i++) input = mutate(rand, input, maxLine);
  return input;
}

interface Tally {
  messages: number;
  errors: number;
  payloads: number;
}

const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * What receive() must give for `input` when it holds no DATA line: one
 * result per line, each exactly parseMessage's verdict on it (for lines that
 * are valid UTF-8; the others need only be a message or a ProtocolError).
 */
function expectedResults(input: Buffer, maxLine: number): (Message | string | undefined)[] | null {
  const out: (Message | string | undefined)[] = [];
  let at = 0;
  while (at < input.length) {
    const nl = input.indexOf(10, at);
    if (nl < 0) {
      out.push(input.length - at > maxLine ? "line-too-long" : "truncated-line");
      break;
    }
    let line = input.subarray(at, nl);
    at = nl + 1;
    if (line.length > maxLine) {
      out.push("line-too-long");
      continue;
    }
    if (line.at(-1) === 13) line = line.subarray(0, -1);
    let text: string;
    try {
      text = STRICT.decode(line);
    } catch {
      out.push(undefined);
      continue;
    }
    try {
      const m = parseMessage(text);
      if (m.type === "DATA") return null;
      out.push(m);
    } catch (e) {
      assert.ok(e instanceof ProtocolError);
      out.push(String(e.data.reason));
    }
  }
  return out;
}

async function drive(
  input: Buffer,
  rand: () => number,
  maxLine: number,
  tally: Tally,
): Promise<(Message | string)[]> {
  const sizes = Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
    rand() < 0.5 ? 1 + Math.floor(rand() * 8) : 1 + Math.floor(rand() * 4096),
  );
  const ch = new MessageChannel(
    Readable.from(chunked(input, sizes), { objectMode: false }),
    sink(),
    {
      maxLineLength: maxLine,
    },
  );
  const results: (Message | string)[] = [];
  for (let step = 0; step < MAX_STEPS; step++) {
    let m: Message | null;
    try {
      m = await ch.receive();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      assert.ok(KNOWN_REASONS.has(String(e.data.reason)), String(e.data.reason));
      assertUsableAsErrorReply(e.message);
      tally.errors++;
      results.push(String(e.data.reason));
      continue;
    }
    if (m === null) break;
    tally.messages++;
    results.push(m);
    // Whatever parsed must format, and read back the same.
    assert.deepEqual(parseMessage(formatMessage(m)), m);
    if (m.type !== "DATA") continue;
    tally.payloads++;
    const how = rand();
    if (how < 0.4) {
      try {
        let n = 0;
        for await (const c of ch.receiveData(m.length)) n += (c as Buffer).length;
        assert.equal(n, m.length);
      } catch (e) {
        assert.ok(e instanceof ProtocolError && e.data.reason === "truncated-data", String(e));
        assertUsableAsErrorReply(e.message);
      }
    } else if (how < 0.6) {
      try {
        await ch.skipData(m.length);
      } catch (e) {
        assert.ok(e instanceof ProtocolError && e.data.reason === "truncated-data", String(e));
      }
    } else if (how < 0.8) {
      try {
        for await (const _ of ch.receiveData(m.length)) break;
      } catch (e) {
        assert.ok(e instanceof ProtocolError && e.data.reason === "truncated-data", String(e));
      }
    }
    // Otherwise leave the payload for the next receive() to skip.
  }
  await ch.close();
  return results;
}

/** An output that takes everything (nothing is sent while receiving, but close() ends it). */
function sink(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

describe("fuzz: random and mutated byte streams through MessageChannel.receive", () => {
  it(`up to ${MAX_INPUTS} inputs or ${MAX_MS / 1000} s: no crash, no hang, a usable ERROR for each bad line`, async (t) => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    const rand = prng(seed);
    const tally: Tally = { messages: 0, errors: 0, payloads: 0 };
    const started = Date.now();
    let inputs = 0;
    let compared = 0;
    const more = () => inputs < MIN_INPUTS || Date.now() - started < MAX_MS;
    for (; inputs < MAX_INPUTS && more(); inputs++) {
      const maxLine = rand() < 0.8 ? 64 + Math.floor(rand() * 512) : 65536;
      const input = makeInput(rand, maxLine);
      let timer: NodeJS.Timeout | undefined;
      try {
        const results = await Promise.race([
          drive(input, rand, maxLine, tally),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`hung for ${PER_INPUT_MS} ms`)),
              PER_INPUT_MS,
            );
          }),
        ]);
        const expected = expectedResults(input, maxLine);
        if (expected !== null) {
          compared++;
          assert.equal(results.length, expected.length);
          expected.forEach((x, i) => {
            if (x !== undefined) assert.deepEqual(results[i], x);
          });
        }
      } catch (e) {
        throw new Error(
          `fuzz failure (FUZZ_SEED=${seed}, input #${inputs}, maxLineLength ${maxLine}): ` +
            `${JSON.stringify(input.toString("latin1").slice(0, 2000))}`,
          { cause: e },
        );
      } finally {
        clearTimeout(timer);
      }
    }
    t.diagnostic(
      `seed ${seed}: ${inputs} inputs in ${Date.now() - started} ms, ${compared} compared line by line; ${JSON.stringify(tally)}`,
    );
    // The run must have exercised every path, not passed by doing nothing.
    assert.ok(inputs >= MIN_INPUTS, `only ${inputs} inputs`);
    assert.ok(
      tally.messages > 1000 && tally.errors > 1000 && tally.payloads > 100,
      JSON.stringify(tally),
    );
    assert.ok(compared > 100, `only ${compared} inputs compared line by line`);
  });
});
