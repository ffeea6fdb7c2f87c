/**
 * The bytes of one DATA message a line-protocol client sends, as the
 * stream a Peer's store reads.
 */
import { PassThrough } from "node:stream";
import { AnnexgateError } from "../../errors.js";
import { type Message, type MessageChannel, ProtocolError } from "../../protocol/index.js";
import { LastChunk, writeOrDrop } from "../../util/index.js";
import { LineServerError } from "./line-server-error.js";
import { protocolError, VALIDITY_VERSION } from "./wire.js";

/** The sender said INVALID: what it sent is not the key's content. */
class InvalidContentError extends AnnexgateError {
  constructor() {
    super("AG_INVALID_CONTENT", "the sender reported the content as INVALID");
  }
}

/**
 * The bytes of one DATA message, as the stream handed to Peer.store. The
 * last chunk is held back until the sender's VALID / INVALID (protocol
 * version 1 on) has arrived: on INVALID the stream errors instead of
 * ending, so nothing is stored. The DATA bytes are always read to their
 * end, whatever the Peer does with the stream, so the channel stays in step.
 */
export class IncomingContent {
  readonly stream = new PassThrough({ highWaterMark: 256 * 1024 });
  /** Resolves once the bytes and the validity message are read; rejects when the input broke. */
  readonly settled: Promise<void>;

  readonly #channel: MessageChannel;
  readonly #length: number;
  readonly #version: number;
  constructor(channel: MessageChannel, length: number, version: number) {
    this.#channel = channel;
    this.#length = length;
    this.#version = version;
    this.settled = this.#pump();
    // Awaited after the Peer is done; until then a rejection is not unhandled.
    this.settled.catch(() => undefined);
    // The Peer may never look at an error; the loop does.
    this.stream.on("error", () => undefined);
  }

  /** The Peer is done with the stream: drop what it did not read. */
  discard(): void {
    if (!this.stream.writableEnded) this.stream.destroy();
    else this.stream.resume();
  }

  async #pump(): Promise<void> {
    const src = this.#channel.receiveData(this.#length);
    const last = new LastChunk();
    try {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        const before = last.hold(chunk);
        if (before) await writeOrDrop(this.stream, before);
      }
    } catch (e) {
      // The input broke inside the DATA. What did arrive is passed on and
      // the stream ends short: nothing is stored, and a Peer that keeps
      // partial uploads can resume from there, as git-annex's temp file does.
      const held = last.take();
      if (held) await writeOrDrop(this.stream, held);
      if (!this.stream.destroyed) this.stream.end();
      throw e;
    }
    // All the bytes are here. A validity that cannot be read (the client
    // hung up before VALID) counts as unknown, and unknown as valid: the
    // Peer verifies, as git-annex then does.
    let valid = true;
    let broken: unknown = null;
    if (this.#version >= VALIDITY_VERSION) {
      try {
        valid = await this.#receiveValidity();
      } catch (e) {
        broken = e;
      }
    }
    try {
      if (valid) {
        const held = last.take();
        if (held) await writeOrDrop(this.stream, held);
        if (!this.stream.destroyed) this.stream.end();
      } else {
        this.stream.destroy(new InvalidContentError());
      }
    } finally {
      // Whatever happened, the Peer is not left waiting for more bytes.
      if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.destroy();
    }
    if (broken !== null) throw broken;
  }

  /**
   * VALID → true, INVALID → false; anything else gets `ERROR expected VALID
   * or INVALID` and counts as valid, since the content is verified anyway
   * (git-annex then forces verification). End of input throws.
   */
  async #receiveValidity(): Promise<boolean> {
    let m: Message | null;
    try {
      m = await this.#channel.receive();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      m = protocolError("");
    }
    if (m === null) throw new LineServerError("connection closed after DATA");
    if (m.type === "VALID") return true;
    if (m.type === "INVALID") return false;
    await this.#channel.send(protocolError("expected VALID or INVALID"));
    return true;
  }
}
