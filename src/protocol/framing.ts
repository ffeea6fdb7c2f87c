// Over 400 lines: MessageChannel is one state machine (lines, DATA payloads, sends) over one stream pair
/**
 * @module
 * The line protocol's framing over a byte-stream pair (a child's stdio, a
 * socket, process.stdin/stdout): "\n"-terminated message lines, and the raw
 * bytes that follow a `DATA n` line (design/p2p_protocol "Binary data":
 * exactly n bytes, no newline after them; the next message follows at once).
 *
 * Bytes move with backpressure both ways: the input is read only when a
 * line or payload bytes are wanted (a slow consumer of `receiveData` pauses
 * the peer), and every write waits for 'drain' when the output is full.
 * Memory per channel is bounded by `maxLineLength` plus a few stream buffers.
 */
import { Readable, type Writable } from "node:stream";
import { AnnexgateError } from "../errors.js";
import { LengthBudget, StallTimer, waitForDrain } from "../util/index.js";
import { formatMessage, type Message, ProtocolError, parseMessage } from "./messages.js";
import { decodeLenientText } from "./wire-text.js";

/** The default bound on one line's length, in bytes (git-annex itself refuses lines over 32768 characters). */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/* How many bytes a receiveData stream holds before it stops reading the input. */
const DATA_HIGH_WATER_MARK = 64 * 1024;

/**
 * The channel was used out of turn: two receives at once, a receive while a
 * `receiveData` stream is still unread, a payload length other than the one
 * just announced, or any use after `close()` (or after a failed DATA send
 * closed the output). A bug in the caller, not in the peer.
 */
export class ChannelStateError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("AG_CHANNEL_STATE", message, data);
  }
}

/**
 * The far side owed the channel something (the next bytes of a reply or
 * payload being waited for, or room to write) and moved nothing for
 * `stallTimeoutMs`. The channel is then unusable both ways.
 */
export class ChannelStalledError extends AnnexgateError {
  constructor(ms: number) {
    super("AG_CHANNEL_STALLED", `the other side made no progress for ${ms} ms`, { ms });
  }
}

/**
 * The stream given to `sendData` did not hold exactly the promised number of
 * bytes. `data.reason` is "short" (the output has been ended, since the peer
 * can only be told by closing the connection) or "long" (exactly the promised
 * bytes were sent and the rest dropped, so the connection is still usable).
 */
export class DataLengthError extends AnnexgateError {
  constructor(reason: "short" | "long", expected: number, sent: number, cause?: unknown) {
    super(
      "AG_DATA_LENGTH",
      reason === "short"
        ? `data ended after ${sent} of ${expected} bytes`
        : `data ran longer than ${expected} bytes`,
      { reason, expected, sent },
      cause,
    );
  }
}

export interface MessageChannelOptions {
  /** Longest line accepted, in bytes without the "\n" (default `DEFAULT_MAX_LINE_LENGTH`). */
  readonly maxLineLength?: number;
  /**
   * Fail with ChannelStalledError once the far side owes progress (bytes
   * being waited for, room to write) and makes none for this long (ms;
   * default: wait for ever). Time spent waiting on our own side (a slow
   * reader of `receiveData`, a slow source for `sendData`) does not count.
   */
  readonly stallTimeoutMs?: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

function checkLength(length: number, what: string): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new ChannelStateError(`${what}: bad length ${length}`, { length });
  }
}

/**
 * Messages and DATA payloads over one input and one output stream.
 *
 * Receiving is strictly in turn: one `receive()` at a time; after a `DATA n`
 * message, `receiveData(n)` (or `skipData(n)`) claims the n payload bytes.
 * Whatever part of an announced payload the caller leaves unread — it never
 * asked for it, or destroyed the `receiveData` stream early — is skipped by
 * the next `receive()`, so the framing never loses its place.
 *
 * Sending is serialized: concurrent `send`/`sendData` calls go out one after
 * another, never interleaved.
 *
 * @example
 * const ch = new MessageChannel(child.stdout, child.stdin);
 * await ch.send({ type: "VERSION", version: MAX_PROTOCOL_VERSION });
 * const reply = await ch.receive(); // { type: "VERSION", version: 4 }
 */
export class MessageChannel {
  readonly #input: Readable;
  readonly #output: Writable;
  readonly #maxLineLength: number;

  /* Input bytes already read from the stream but not yet consumed, in order. */
  readonly #pending: Buffer[] = [];
  #inputEnded = false;
  #inputError: unknown;
  #waiters: (() => void)[] = [];

  /* After an over-long line: the rest of it, up to its "\n", is still to be dropped. */
  #discardingLine = false;
  /* Payload bytes still to be dropped (an abandoned or unclaimed DATA payload). */
  #skip = 0;
  /* The length of the last DATA message received, until its payload is claimed. */
  #announced: number | null = null;
  /* A receive() or skipData() is running. */
  #busy = false;
  /* A receiveData stream that has not yet delivered all its bytes. */
  #data: Readable | null = null;
  /* Settles when the last receiveData stream's reading loop has stopped touching the input. */
  #dataPump: Promise<void> = Promise.resolve();

  #sendChain: Promise<unknown> = Promise.resolve();
  #outputError: unknown;
  #outputBroken: Error | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  readonly #stall: StallTimer | undefined;

  constructor(input: Readable, output: Writable, opts: MessageChannelOptions = {}) {
    const max = opts.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new ChannelStateError(`bad maxLineLength ${max}`, { maxLineLength: max });
    }
    this.#input = input;
    this.#output = output;
    this.#maxLineLength = max;
    const stallMs = opts.stallTimeoutMs;
    this.#stall =
      stallMs === undefined ? undefined : new StallTimer(stallMs, () => this.#stalled());
    const wake = () => {
      this.#stall?.progress();
      this.#wake();
    };
    input.on("readable", wake);
    input.on("end", () => {
      this.#inputEnded = true;
      wake();
    });
    // A stream destroyed without 'end' has no more bytes either; what was
    // cut short (a line, a payload) reports it as truncated.
    input.on("close", () => {
      this.#inputEnded = true;
      wake();
    });
    input.on("error", (e) => {
      this.#inputError ??= e;
      wake();
    });
    output.on("error", (e) => {
      this.#outputError ??= e;
    });
    output.on("drain", () => this.#stall?.progress());
    if (input.readableEnded || input.destroyed) this.#inputEnded = true;
    if (input.errored !== null && input.errored !== undefined) this.#inputError = input.errored;
  }

  /**
   * The next message; `null` at a clean end of input (or after `close()`).
   *
   * @throws ProtocolError for a malformed line (unknown command, bad field,
   * longer than `maxLineLength`, or cut off by the end of input); the line is
   * consumed and the channel stays usable: the next call reads the next line.
   * An error of the input stream itself is thrown as it is.
   * @throws ChannelStateError when called out of turn.
   */
  async receive(): Promise<Message | null> {
    if (this.#busy) throw new ChannelStateError("receive() while another read is running");
    if (this.#data !== null) {
      throw new ChannelStateError("receive() while a DATA payload is still being read");
    }
    this.#busy = true;
    try {
      await this.#dataPump;
      if (this.#closed) return null;
      if (this.#announced !== null) {
        this.#skip += this.#announced;
        this.#announced = null;
      }
      await this.#discardPayload();
      const line = await this.#readLine();
      if (line === null) return null;
      const m = parseMessage(line);
      if (m.type === "DATA") this.#announced = m.length;
      return m;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * After a `DATA n` message has been received: a stream of exactly the next
   * n bytes. It reads the input only as fast as it is consumed, so a slow
   * consumer holds back the peer instead of filling memory. If the input ends
   * (or fails) before n bytes, the stream is destroyed with a ProtocolError
   * (reason "truncated-data") or the input's error, so a store never
   * completes from a truncated payload.
   *
   * Read it to its end (or destroy it) before the next `receive()`; bytes it
   * did not deliver are then skipped.
   *
   * @throws ChannelStateError when called out of turn, or with a length other
   * than the one just announced.
   */
  receiveData(length: number): Readable {
    this.#claimPayload(length, "receiveData");
    const previous = this.#dataPump;
    let remaining = length;
    let pumping = false;
    const reader: Readable = new Readable({
      highWaterMark: DATA_HIGH_WATER_MARK,
      read: () => {
        if (pumping) return;
        pumping = true;
        this.#dataPump = pump();
      },
      destroy: (err, cb) => {
        // Whatever was not delivered is still in the input: skip it later.
        this.#skip += remaining;
        remaining = 0;
        if (this.#data === reader) this.#data = null;
        cb(err);
      },
    });
    const finish = (last: Buffer | null) => {
      if (this.#data === reader) this.#data = null;
      if (last !== null) reader.push(last);
      reader.push(null);
    };
    const pump = async (): Promise<void> => {
      try {
        await previous;
        await this.#discardPayload();
        for (;;) {
          if (reader.destroyed) return;
          if (remaining === 0) return finish(null);
          const chunk = await this.#nextChunk();
          if (reader.destroyed) {
            if (chunk !== null) this.#unread(chunk);
            return;
          }
          if (chunk === null) {
            throw new ProtocolError(
              `input ended after ${length - remaining} of ${length} bytes of DATA`,
              { reason: "truncated-data", expected: length, received: length - remaining },
            );
          }
          let part = chunk;
          if (chunk.length > remaining) {
            part = chunk.subarray(0, remaining);
            this.#unread(chunk.subarray(remaining));
          }
          remaining -= part.length;
          if (remaining === 0) return finish(part);
          if (!reader.push(part)) return;
        }
      } catch (e) {
        remaining = 0;
        if (this.#data === reader) this.#data = null;
        reader.destroy(e instanceof Error ? e : new Error(String(e)));
      } finally {
        // Cleared as the pump returns, not a microtask later: a read() that
        // comes in between (after a push that filled the buffer) must start
        // a new pump, or the stream stalls for good.
        pumping = false;
      }
    };
    if (length === 0) finish(null);
    else this.#data = reader;
    return reader;
  }

  /**
   * Drop the n payload bytes after a `DATA n` message (for a payload the
   * caller does not want).
   *
   * @throws ProtocolError (reason "truncated-data") if the input ends first.
   * @throws ChannelStateError when called out of turn.
   */
  async skipData(length: number): Promise<void> {
    this.#claimPayload(length, "skipData");
    this.#busy = true;
    try {
      await this.#dataPump;
      this.#skip += length;
      await this.#discardPayload();
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Send one message, waiting for 'drain' if the output is full.
   *
   * @throws ProtocolError if the message cannot be formatted (nothing is sent).
   * @throws ChannelStateError after `close()` or a failed DATA send; an error
   * of the output stream is thrown as it is.
   */
  send(m: Message): Promise<void> {
    let line: Buffer;
    try {
      line = Buffer.from(`${formatMessage(m)}\n`, "utf8");
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#enqueue(() => this.#write(line));
  }

  /**
   * Send `DATA n`, then exactly n bytes read from `data`, waiting for 'drain'
   * whenever the output is full (and so reading `data` no faster than the
   * peer takes it).
   *
   * If `data` ends short (or fails) the peer cannot be told except by closing
   * the connection: the output is ended, later sends fail, and this rejects
   * with a DataLengthError "short" (or `data`'s error). If `data` runs long,
   * exactly n bytes are sent, the rest is dropped and this rejects with a
   * DataLengthError "long"; the connection stays usable (the caller would
   * send INVALID).
   */
  sendData(length: number, data: Readable): Promise<void> {
    try {
      checkLength(length, "sendData");
    } catch (e) {
      data.destroy();
      return Promise.reject(e);
    }
    return this.#enqueue(async () => {
      await this.#write(Buffer.from(`DATA ${length}\n`, "utf8"));
      const budget = new LengthBudget(length);
      let sent = 0; // what was written: a failed write is not counted
      try {
        for await (const c of data) {
          const chunk: Buffer = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
          const fit = budget.take(chunk);
          if (fit.length > 0) await this.#write(fit);
          sent = budget.passed;
          if (budget.long) throw new DataLengthError("long", length, sent);
        }
      } catch (e) {
        if (sent < length) this.#breakOutput(e);
        throw e;
      }
      if (sent < length) {
        const e = new DataLengthError("short", length, sent);
        this.#breakOutput(e);
        throw e;
      }
    });
  }

  /**
   * Finish: wait for queued sends, end the output (waiting until it is
   * flushed), and stop reading the input (destroying it). Pending and later
   * `receive()` calls give `null`; a `receiveData` stream still running is
   * destroyed. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<void> {
    await this.#sendChain.catch(() => undefined);
    this.#closed = true;
    this.#stall?.stop();
    this.#wake();
    this.#data?.destroy(new ChannelStateError("channel closed"));
    await endWritable(this.#output);
    this.#input.destroy();
  }

  #claimPayload(length: number, what: string): void {
    checkLength(length, what);
    if (this.#closed) throw new ChannelStateError(`${what}() after close()`);
    if (this.#busy) throw new ChannelStateError(`${what}() while a receive is running`);
    if (this.#data !== null) {
      throw new ChannelStateError(`${what}() while a DATA payload is still being read`);
    }
    if (this.#announced !== null && this.#announced !== length) {
      throw new ChannelStateError(
        `${what}(${length}) after DATA ${this.#announced} was announced`,
        { length, announced: this.#announced },
      );
    }
    this.#announced = null;
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  /** The next bytes of input (never empty); null once the input has ended. */
  async #nextChunk(): Promise<Buffer | null> {
    for (;;) {
      const b = this.#pending.shift();
      if (b !== undefined) return b;
      if (this.#inputError !== undefined) throw this.#inputError;
      if (this.#closed) return null;
      const c: unknown = this.#input.read();
      if (c !== null) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(String(c), "utf8");
        if (chunk.length > 0) return chunk;
        continue;
      }
      if (this.#inputEnded) return null;
      const waited = this.#stall?.begin();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      waited?.();
    }
  }

  #unread(b: Buffer): void {
    if (b.length > 0) this.#pending.unshift(b);
  }

  async #discardPayload(): Promise<void> {
    while (this.#skip > 0) {
      const chunk = await this.#nextChunk();
      if (chunk === null) {
        const skipped = this.#skip;
        this.#skip = 0;
        throw new ProtocolError(`input ended ${skipped} bytes before the end of a DATA payload`, {
          reason: "truncated-data",
          missing: skipped,
        });
      }
      if (chunk.length > this.#skip) this.#unread(chunk.subarray(this.#skip));
      this.#skip -= Math.min(chunk.length, this.#skip);
    }
  }

  async #readLine(): Promise<string | null> {
    while (this.#discardingLine) {
      const chunk = await this.#nextChunk();
      if (chunk === null) {
        this.#discardingLine = false;
        return null;
      }
      const nl = chunk.indexOf(NEWLINE);
      if (nl >= 0) {
        this.#unread(chunk.subarray(nl + 1));
        this.#discardingLine = false;
      }
    }
    const parts: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = await this.#nextChunk();
      if (chunk === null) {
        if (length === 0) return null;
        throw new ProtocolError("input ended in the middle of a line", {
          reason: "truncated-line",
        });
      }
      const nl = chunk.indexOf(NEWLINE);
      const take = nl < 0 ? chunk.length : nl;
      if (length + take > this.#maxLineLength) {
        if (nl < 0) this.#discardingLine = true;
        else this.#unread(chunk.subarray(nl + 1));
        throw new ProtocolError(`line longer than ${this.#maxLineLength} bytes`, {
          reason: "line-too-long",
          maxLineLength: this.#maxLineLength,
        });
      }
      if (nl < 0) {
        parts.push(chunk);
        length += chunk.length;
        continue;
      }
      parts.push(chunk.subarray(0, nl));
      length += nl;
      this.#unread(chunk.subarray(nl + 1));
      let line = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
      // As git-annex's getProtocolLine: a CR before the LF is dropped.
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
      return decodeLenientText(line);
    }
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#sendChain.then(op);
    this.#sendChain = run.catch(() => undefined);
    return run;
  }

  #checkOutput(): void {
    if (this.#outputError !== undefined) throw this.#outputError;
    if (this.#outputBroken !== null) {
      throw new ChannelStateError("output closed after a failed DATA send");
    }
    if (this.#closed) throw new ChannelStateError("send after close()");
    if (this.#output.destroyed || this.#output.writableEnded) {
      throw new ChannelStateError("output is closed");
    }
  }

  async #write(chunk: Buffer): Promise<void> {
    this.#checkOutput();
    if (this.#output.write(chunk)) return;
    const waited = this.#stall?.begin();
    try {
      await waitForDrain(
        this.#output,
        () => this.#outputError ?? new ChannelStateError("output closed while sending"),
      );
    } finally {
      waited?.();
    }
  }

  /** The far side stalled: every read and write now fails with that. */
  #stalled(): void {
    const e = new ChannelStalledError(this.#stall?.ms ?? 0);
    this.#inputError ??= e;
    this.#outputError ??= e;
    this.#wake();
    this.#output.destroy(e);
  }

  #breakOutput(cause: unknown): void {
    if (this.#outputBroken !== null) return;
    this.#outputBroken = cause instanceof Error ? cause : new Error(String(cause));
    if (!this.#output.destroyed && !this.#output.writableEnded) this.#output.end();
  }
}

function endWritable(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (out.destroyed || out.writableFinished) return resolve();
    const done = () => {
      out.off("finish", done);
      out.off("close", done);
      out.off("error", done);
      resolve();
    };
    out.on("finish", done);
    out.on("close", done);
    out.on("error", done);
    if (!out.writableEnded) out.end();
  });
}
