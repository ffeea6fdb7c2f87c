import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { describe, it, mock } from "node:test";
import { ChannelStalledError, MessageChannel } from "./index.js";

/** Lets callbacks already due (stream events, settled promises) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** An output that takes nothing: its first write fills it for good. */
function stuckOutput(): Writable {
  return new Writable({ highWaterMark: 1, write: () => undefined });
}

describe("MessageChannel stallTimeoutMs", () => {
  it("a reply that never comes fails the receive with ChannelStalledError", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const ch = new MessageChannel(new PassThrough(), new PassThrough(), { stallTimeoutMs: 1000 });
      const reply = ch.receive();
      await settle();
      mock.timers.tick(1000);
      await assert.rejects(reply, ChannelStalledError);
      await assert.rejects(ch.send({ type: "SUCCESS" }), ChannelStalledError);
    } finally {
      mock.timers.reset();
    }
  });

  it("bytes trickling in keep a slow reply alive", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const input = new PassThrough();
      const ch = new MessageChannel(input, new PassThrough(), { stallTimeoutMs: 1000 });
      const reply = ch.receive();
      for (const c of "SUCCES") {
        await settle();
        mock.timers.tick(900);
        input.write(c);
      }
      input.write("S\n");
      assert.deepEqual(await reply, { type: "SUCCESS" });
    } finally {
      mock.timers.reset();
    }
  });

  it("a payload nobody reads is our side's wait, never the peer's stall", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const input = new PassThrough();
      const ch = new MessageChannel(input, new PassThrough(), { stallTimeoutMs: 1000 });
      const size = 512 * 1024;
      input.write(`DATA ${size}\n`);
      input.write(Buffer.alloc(size, 7));
      assert.deepEqual(await ch.receive(), { type: "DATA", length: size });
      const data = ch.receiveData(size);
      data.pause();
      await settle();
      mock.timers.tick(10_000); // the reader takes its time
      let got = 0;
      for await (const c of data) got += (c as Buffer).length;
      assert.equal(got, size);
    } finally {
      mock.timers.reset();
    }
  });

  it("a payload whose bytes stop coming fails with ChannelStalledError", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const input = new PassThrough();
      const ch = new MessageChannel(input, new PassThrough(), { stallTimeoutMs: 1000 });
      input.write("DATA 10\n12345");
      await ch.receive();
      const data = ch.receiveData(10);
      const reading = (async () => {
        for await (const _ of data) {
          // read on
        }
      })();
      await settle();
      mock.timers.tick(1000);
      await assert.rejects(reading, ChannelStalledError);
    } finally {
      mock.timers.reset();
    }
  });

  it("an output that stops taking data fails the send with ChannelStalledError", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const ch = new MessageChannel(new PassThrough(), stuckOutput(), { stallTimeoutMs: 1000 });
      const sending = ch.send({ type: "SUCCESS" });
      await settle();
      mock.timers.tick(1000);
      await assert.rejects(sending, ChannelStalledError);
    } finally {
      mock.timers.reset();
    }
  });

  it("without the option, nothing ever stalls", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const input = new PassThrough();
      const ch = new MessageChannel(input, new PassThrough());
      const reply = ch.receive();
      await settle();
      mock.timers.tick(3_600_000);
      input.write("SUCCESS\n");
      assert.deepEqual(await reply, { type: "SUCCESS" });
    } finally {
      mock.timers.reset();
    }
  });
});
