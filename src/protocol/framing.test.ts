import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { PassThrough, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
  chunked,
  encodeTranscript,
  payloadArb,
  type TranscriptItem,
  transcriptArb,
} from "./arbitraries.test.js";
import {
  ChannelStateError,
  DataLengthError,
  type Message,
  MessageChannel,
  ProtocolError,
} from "./index.js";

/** A Readable that hands out `chunks` one by one, as a socket would. */
function source(chunks: readonly (Buffer | string)[]): Readable {
  return Readable.from(
    chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "latin1") : c)),
    { objectMode: false },
  );
}

/** A channel reading `chunks`, writing into a PassThrough whose bytes `written()` returns. */
function channelOn(chunks: readonly (Buffer | string)[], opts: { maxLineLength?: number } = {}) {
  const out = new PassThrough();
  const bufs: Buffer[] = [];
  out.on("data", (b: Buffer) => bufs.push(b));
  const ch = new MessageChannel(source(chunks), out, opts);
  return { ch, out, written: () => Buffer.concat(bufs) };
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function rejectsWith(p: Promise<unknown>, reason: string): Promise<ProtocolError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.equal(e.data.reason, reason);
    return e;
  }
  assert.fail(`expected a ProtocolError (${reason})`);
}

/** A connected pair of real loopback TCP sockets. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === "object");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = tcpConnect(addr.port, "127.0.0.1");
  await once(client, "connect");
  const [serverSide] = await accepted;
  server.close();
  return [client, serverSide];
}

describe("lines", () => {
  it("reads messages until a clean end of input", async () => {
    const { ch } = channelOn(["VERSION 1\nCHECK", "PRESENT WORM--x\n", "SUCCESS\n"]);
    assert.deepEqual(await ch.receive(), { type: "VERSION", version: 1 });
    assert.equal((await ch.receive())?.type, "CHECKPRESENT");
    assert.deepEqual(await ch.receive(), { type: "SUCCESS" });
    assert.equal(await ch.receive(), null);
    assert.equal(await ch.receive(), null);
  });

  it("drops a CR before the LF, as git-annex does", async () => {
    const { ch } = channelOn(["VERSION 1\r\nERROR a\r\r\n"]);
    assert.deepEqual(await ch.receive(), { type: "VERSION", version: 1 });
    assert.deepEqual(await ch.receive(), { type: "ERROR", message: "a " });
  });

  it("a malformed line is a ProtocolError and the next line still reads", async () => {
    const { ch } = channelOn(["BOGUS x\nCHECKPRESENT nokey\nVALID\n"]);
    await rejectsWith(ch.receive(), "unknown-command");
    await rejectsWith(ch.receive(), "bad-key");
    assert.deepEqual(await ch.receive(), { type: "VALID" });
  });

  it("input that ends inside a line is a ProtocolError, then the end", async () => {
    const { ch } = channelOn(["VERSION 1\nVERS"]);
    assert.deepEqual(await ch.receive(), { type: "VERSION", version: 1 });
    await rejectsWith(ch.receive(), "truncated-line");
    assert.equal(await ch.receive(), null);
  });

  it("bytes that are not UTF-8: refused in a key, replaced in text", async () => {
    const { ch } = channelOn([
      Buffer.from("CHECKPRESENT WORM--a\xffb\n", "latin1"),
      Buffer.from("ERROR caf\xe9 \xc3\xa9t\xc3\n", "latin1"),
      Buffer.from("PUT a\xed\xa0\x80b WORM--x\n", "latin1"), // an encoded surrogate
      "SUCCESS\n",
    ]);
    await rejectsWith(ch.receive(), "key-not-utf8");
    assert.deepEqual(await ch.receive(), { type: "ERROR", message: "caf\ufffd ét\ufffd" });
    const put = await ch.receive();
    assert.ok(put?.type === "PUT");
    assert.equal(put.associatedFile, "a\ufffd\ufffd\ufffdb");
    assert.deepEqual(await ch.receive(), { type: "SUCCESS" });
  });

  it("an error of the input stream is passed on to the reader, not thrown at the process", async () => {
    const input = new PassThrough();
    const ch = new MessageChannel(input, new PassThrough());
    input.write("VERSION 1\nVERS");
    assert.deepEqual(await ch.receive(), { type: "VERSION", version: 1 });
    const pending = ch.receive();
    input.destroy(new Error("connection reset"));
    await assert.rejects(pending, /connection reset/);
    await assert.rejects(ch.receive(), /connection reset/);
  });

  it("close() ends a receive that is waiting for input with null", async () => {
    const input = new PassThrough();
    const ch = new MessageChannel(input, new PassThrough());
    const pending = ch.receive();
    await ch.close();
    assert.equal(await pending, null);
    assert.ok(input.destroyed);
  });

  it("an over-long line is refused after maxLineLength bytes, not buffered to its end", async () => {
    const LIMIT = 4096;
    const LONG = 8 * 1024 * 1024;
    let pulled = 0;
    let sentTail = false;
    const input = new Readable({
      highWaterMark: 1024,
      read() {
        if (pulled < LONG) {
          pulled += 1024;
          this.push(Buffer.alloc(1024, "x"));
        } else if (!sentTail) {
          sentTail = true;
          this.push("\nVERSION 2\n");
          this.push(null);
        }
      },
    });
    const ch = new MessageChannel(input, new PassThrough(), { maxLineLength: LIMIT });
    const e = await rejectsWith(ch.receive(), "line-too-long");
    assert.match(e.message, /longer than 4096 bytes/);
    assert.ok(pulled < LIMIT + 64 * 1024, `read ${pulled} bytes to refuse the line`);
    // The rest of the line is dropped (without keeping it) and reading goes on.
    assert.deepEqual(await ch.receive(), { type: "VERSION", version: 2 });
    assert.equal(pulled, LONG);
  });

  it("a line of exactly maxLineLength bytes is accepted, one more is not", async () => {
    const ok = `ERROR ${"e".repeat(94)}`;
    const { ch } = channelOn([`${ok}\n${ok}e\nVALID\n`], { maxLineLength: 100 });
    assert.deepEqual(await ch.receive(), { type: "ERROR", message: "e".repeat(94) });
    await rejectsWith(ch.receive(), "line-too-long");
    assert.deepEqual(await ch.receive(), { type: "VALID" });
  });
});

describe("DATA payloads", () => {
  it("yields exactly n bytes, newlines and all, and the next message follows at once", async () => {
    const { ch } = channelOn(["DATA 7\nab\n", "\ncd\nVALID\n"]);
    assert.deepEqual(await ch.receive(), { type: "DATA", length: 7 });
    assert.equal((await collect(ch.receiveData(7))).toString(), "ab\n\ncd\n");
    assert.deepEqual(await ch.receive(), { type: "VALID" });
    assert.equal(await ch.receive(), null);
  });

  it("DATA 0 has an empty payload", async () => {
    const { ch } = channelOn(["DATA 0\nVALID\n"]);
    assert.deepEqual(await ch.receive(), { type: "DATA", length: 0 });
    assert.equal((await collect(ch.receiveData(0))).length, 0);
    assert.deepEqual(await ch.receive(), { type: "VALID" });
  });

  it("any chunking of any transcript reads back the same messages and payloads", async () => {
    const mode = fc.constantFrom("read", "skip", "ignore", "partial");
    await fc.assert(
      fc.asyncProperty(
        transcriptArb,
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
        fc.array(mode, { minLength: 1, maxLength: 5 }),
        async (items: TranscriptItem[], sizes, modes) => {
          const { ch } = channelOn(chunked(encodeTranscript(items), sizes));
          let n = 0;
          for (const item of items) {
            const m = await ch.receive();
            assert.deepEqual(m, item.message);
            if (item.payload === undefined) continue;
            const how = modes[n++ % modes.length];
            if (how === "read") {
              assert.deepEqual(await collect(ch.receiveData(item.payload.length)), item.payload);
            } else if (how === "skip") {
              await ch.skipData(item.payload.length);
            } else if (how === "partial") {
              // Take a little, then abandon the stream: the rest is skipped.
              const r = ch.receiveData(item.payload.length);
              for await (const _ of r) break;
              assert.ok(r.destroyed);
            }
            // "ignore": the next receive() skips the unclaimed payload.
          }
          assert.equal(await ch.receive(), null);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a payload stream abandoned while it waits for input: the rest is skipped when it comes", async () => {
    const input = new PassThrough();
    const ch = new MessageChannel(input, new PassThrough());
    input.write("DATA 10\nabc");
    assert.deepEqual(await ch.receive(), { type: "DATA", length: 10 });
    const r = ch.receiveData(10);
    const [first] = (await once(r, "data")) as [Buffer];
    assert.equal(first.toString(), "abc");
    r.destroy();
    const next = ch.receive();
    input.write("defg");
    input.write("hijVALID\n");
    assert.deepEqual(await next, { type: "VALID" });
  });

  it("input that ends inside a payload errors the data stream (a real process that hangs up)", async () => {
    const child = spawn("sh", ["-c", 'printf "DATA 10\\nabc"'], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const ch = new MessageChannel(child.stdout, child.stdin);
    assert.deepEqual(await ch.receive(), { type: "DATA", length: 10 });
    const got: Buffer[] = [];
    const data = ch.receiveData(10);
    data.on("data", (b: Buffer) => got.push(b));
    const [err] = (await once(data, "error")) as [unknown];
    assert.ok(err instanceof ProtocolError);
    assert.equal(err.data.reason, "truncated-data");
    assert.equal(Buffer.concat(got).toString(), "abc");
    assert.equal(await ch.receive(), null);
    await ch.close();
  });

  it("1 MiB from a real process's stdout, read in small sips and in one gulp, never stalls", async () => {
    for (const sip of [1, 4096, 1 << 20]) {
      const child = spawn(
        "sh",
        ["-c", 'printf "DATA 1048576\\n"; head -c 1048576 /dev/zero; printf "VALID\\n"'],
        { stdio: ["pipe", "pipe", "inherit"] },
      );
      const ch = new MessageChannel(child.stdout, child.stdin);
      assert.deepEqual(await ch.receive(), { type: "DATA", length: 1 << 20 });
      let got = 0;
      await pipeline(
        ch.receiveData(1 << 20),
        new Writable({
          highWaterMark: sip,
          write(chunk: Buffer, _enc, cb) {
            got += chunk.length;
            cb();
          },
        }),
      );
      assert.equal(got, 1 << 20);
      assert.deepEqual(await ch.receive(), { type: "VALID" });
      await ch.close();
    }
  });

  it("a consumer that awaits between chunks never stalls the stream (a read() right after a full push)", async () => {
    // With one microtask hop per chunk, the consumer's next read() used to
    // land after the pump's last push but before the pump was marked idle.
    const N = 4 * 1024 * 1024;
    for (const size of [1024, 100_000]) {
      for (const hops of [0, 1, 2, 3]) {
        const input = new PassThrough({ highWaterMark: 1 << 20 });
        const ch = new MessageChannel(input, new PassThrough());
        input.write(`DATA ${N}\n`);
        let written = 0;
        const feed = () => {
          while (written < N) {
            const n = Math.min(size, N - written);
            written += n;
            if (!input.write(Buffer.alloc(n))) {
              input.once("drain", feed);
              return;
            }
          }
        };
        feed();
        assert.deepEqual(await ch.receive(), { type: "DATA", length: N });
        const consume = async () => {
          let n = 0;
          for await (const c of ch.receiveData(N)) {
            n += (c as Buffer).length;
            for (let i = 0; i < hops; i++) await null;
          }
          return n;
        };
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("stalled"), 5000);
        });
        assert.equal(
          await Promise.race([consume(), stalled]),
          N,
          `chunks of ${size}, ${hops} hops`,
        );
        clearTimeout(timer);
      }
    }
  });

  it("a payload that is skipped but cut short is a ProtocolError", async () => {
    const { ch } = channelOn(["DATA 10\nabc"]);
    await ch.receive();
    await rejectsWith(ch.skipData(10), "truncated-data");
    assert.equal(await ch.receive(), null);
  });

  it("an unclaimed payload cut short makes the next receive a ProtocolError", async () => {
    const { ch } = channelOn(["DATA 10\nabc"]);
    await ch.receive();
    await rejectsWith(ch.receive(), "truncated-data");
    assert.equal(await ch.receive(), null);
  });

  it("the channel refuses to be used out of turn", async () => {
    const { ch } = channelOn(["DATA 3\nabcVALID\nSUCCESS\n"]);
    assert.deepEqual(await ch.receive(), { type: "DATA", length: 3 });
    assert.throws(() => ch.receiveData(4), ChannelStateError);
    assert.throws(() => ch.receiveData(-1), ChannelStateError);
    const r = ch.receiveData(3);
    await assert.rejects(ch.receive(), ChannelStateError);
    assert.throws(() => ch.receiveData(3), ChannelStateError);
    assert.equal((await collect(r)).toString(), "abc");
    const first = ch.receive();
    await assert.rejects(ch.receive(), ChannelStateError);
    assert.deepEqual(await first, { type: "VALID" });
    await ch.close();
    assert.equal(await ch.receive(), null);
    await assert.rejects(ch.send({ type: "SUCCESS" }), ChannelStateError);
  });
});

describe("sending", () => {
  it("writes lines and DATA as git-annex reads them", async () => {
    const { ch, written } = channelOn([]);
    await ch.send({ type: "VERSION", version: 4 });
    await ch.sendData(5, source(["a\nb", "\nc"]));
    await ch.send({ type: "VALID" });
    await ch.close();
    assert.equal(written().toString(), "VERSION 4\nDATA 5\na\nb\ncVALID\n");
  });

  it("sends queued one after another, never interleaved", async () => {
    const { ch, written } = channelOn([]);
    const slow = new Readable({
      read() {
        setTimeout(() => {
          this.push("xy");
          this.push(null);
        }, 20);
      },
    });
    await Promise.all([
      ch.send({ type: "PUT-FROM", offset: 0 }),
      ch.sendData(2, slow),
      ch.send({ type: "VALID" }),
    ]);
    await ch.close();
    assert.equal(written().toString(), "PUT-FROM 0\nDATA 2\nxyVALID\n");
  });

  it("a message that cannot be formatted is refused and nothing is sent", async () => {
    const { ch, written } = channelOn([]);
    await assert.rejects(ch.send({ type: "DATA", length: -1 }), ProtocolError);
    await ch.send({ type: "SUCCESS" });
    await ch.close();
    assert.equal(written().toString(), "SUCCESS\n");
  });

  it("data that runs long: exactly n bytes go out, an error, and the channel goes on", async () => {
    const { ch, written } = channelOn([]);
    await assert.rejects(
      ch.sendData(3, source(["ab", "cd"])),
      (e: unknown) => e instanceof DataLengthError && e.data.reason === "long",
    );
    await ch.send({ type: "INVALID" });
    await ch.close();
    assert.equal(written().toString(), "DATA 3\nabcINVALID\n");
  });

  it("data that ends short ends the output, so the peer cannot take it for whole", async () => {
    const [a, b] = await socketPair();
    const sender = new MessageChannel(a, a);
    const receiver = new MessageChannel(b, b);
    await assert.rejects(
      sender.sendData(10, source(["abc"])),
      (e: unknown) => e instanceof DataLengthError && e.data.reason === "short",
    );
    await assert.rejects(sender.send({ type: "VALID" }), ChannelStateError);
    assert.deepEqual(await receiver.receive(), { type: "DATA", length: 10 });
    await assert.rejects(collect(receiver.receiveData(10)), ProtocolError);
    await sender.close();
    await receiver.close();
  });

  it("a failing data source also ends the output", async () => {
    const { ch, out } = channelOn([]);
    const failing = new Readable({
      read() {
        this.destroy(new Error("disk on fire"));
      },
    });
    await assert.rejects(ch.sendData(10, failing), /disk on fire/);
    assert.ok(out.writableEnded);
  });

  it("writing to a process that has exited rejects instead of crashing", async () => {
    const child = spawn("sh", ["-c", "exit 0"], { stdio: ["pipe", "pipe", "inherit"] });
    await once(child, "exit");
    const ch = new MessageChannel(child.stdout, child.stdin);
    let failed: unknown;
    const deadline = Date.now() + 5000;
    for (let i = 0; i < 1000 && failed === undefined && Date.now() < deadline; i++) {
      try {
        await ch.sendData(65536, source([Buffer.alloc(65536)]));
      } catch (e) {
        failed = e;
      }
    }
    assert.ok(failed instanceof Error, "no write ever failed");
    await ch.close();
  });
});

describe("backpressure over a real socket", () => {
  let pair: [Socket, Socket];
  before(async () => {
    pair = await socketPair();
  });
  after(() => {
    pair[0].destroy();
    pair[1].destroy();
  });

  it("64 MiB through a slow consumer never has more than a few MiB in flight", async () => {
    const TOTAL = 64 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    let produced = 0;
    let consumed = 0;
    let maxInFlight = 0;
    const sent = createHash("sha256");
    const producer = new Readable({
      highWaterMark: CHUNK,
      read() {
        if (produced >= TOTAL) {
          this.push(null);
          return;
        }
        const b = Buffer.alloc(CHUNK, (produced / CHUNK) % 251);
        b.write("\n\nDATA 5\n", 7); // payload bytes that look like protocol
        produced += b.length;
        sent.update(b);
        this.push(b);
      },
    });
    const [a, b] = pair;
    const sender = new MessageChannel(a, a);
    const receiver = new MessageChannel(b, b);
    const sending = (async () => {
      await sender.sendData(TOTAL, producer);
      await sender.send({ type: "VALID" });
    })();

    assert.deepEqual(await receiver.receive(), { type: "DATA", length: TOTAL });
    const got = createHash("sha256");
    let calls = 0;
    const slowConsumer = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        consumed += chunk.length;
        got.update(chunk);
        maxInFlight = Math.max(maxInFlight, produced - consumed);
        // About a millisecond's pause every few chunks: far slower than loopback.
        if (++calls % 4 === 0) setTimeout(cb, 1);
        else setImmediate(cb);
      },
    });
    await pipeline(receiver.receiveData(TOTAL), slowConsumer);
    await sending;
    assert.deepEqual(await receiver.receive(), { type: "VALID" });
    assert.equal(consumed, TOTAL);
    assert.equal(got.digest("hex"), sent.digest("hex"));
    assert.ok(
      maxInFlight < 16 * 1024 * 1024,
      `${(maxInFlight / 1048576).toFixed(1)} MiB were in flight at once`,
    );
  });
});

describe("messages over a real socket, both ways", () => {
  it("what one channel sends the other receives, payloads included", async () => {
    const [a, b] = await socketPair();
    const left = new MessageChannel(a, a);
    const right = new MessageChannel(b, b);
    const items: TranscriptItem[] = fc.sample(transcriptArb, { numRuns: 20, seed: 42 }).flat();
    const payload = fc.sample(payloadArb, { numRuns: 1, seed: 7 })[0] ?? Buffer.alloc(0);
    items.push({ message: { type: "DATA", length: payload.length }, payload });
    const sending = (async () => {
      for (const { message, payload } of items) {
        if (payload === undefined) await left.send(message);
        else await left.sendData(payload.length, source([payload]));
      }
      await left.close();
    })();
    const received: Message[] = [];
    for (;;) {
      const m = await right.receive();
      if (m === null) break;
      received.push(m);
      if (m.type === "DATA") {
        const bytes = await collect(right.receiveData(m.length));
        assert.deepEqual(bytes, items[received.length - 1]?.payload);
      }
    }
    await sending;
    assert.deepEqual(
      received,
      items.map((i) => i.message),
    );
    await right.close();
  });
});
