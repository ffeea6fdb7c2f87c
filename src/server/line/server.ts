/**
 * The line-protocol front-end: git-annex's P2P protocol served over any
 * byte stream pair (stdio for `git-annex-shell p2pstdio`, a socket, an
 * in-memory pair in tests) for one Peer. It follows git-annex's
 * `serveAuthed` (P2P/Protocol.hs): each request becomes Peer calls, and
 * wire.ts turns their results into replies.
 *
 * Loop rules, as git-annex's serverLoop has them: a line that does not
 * parse gets `ERROR unknown command` and the loop goes on; a message that
 * is not a request gets `ERROR unexpected command`; an ERROR from the
 * client ends the loop (its state is unknown); so does the end of input.
 */
import { PassThrough, type Readable } from "node:stream";
import type { Key } from "../../keys/index.js";
import type { ContentLock, Peer, PeerContext } from "../../peers/index.js";
import {
  DataLengthError,
  KEY_NOT_UTF8,
  type Message,
  type MessageChannel,
  negotiateVersion,
  ProtocolError,
} from "../../protocol/index.js";
import { relayService } from "./connect.js";
import { IncomingContent } from "./incoming-content.js";
import { LineServerError } from "./line-server-error.js";
import type { LineServeEnd, LineServeOptions } from "./options.js";
import {
  DATA_PRESENT_VERSION,
  errorReply,
  lockErrorReply,
  lockReply,
  PLUS_VERSION,
  presenceReply,
  protocolError,
  putOffsetReply,
  refusal,
  removeReply,
  storeReply,
  UNEXPECTED_COMMAND,
  UNKNOWN_COMMAND,
  VALIDITY_VERSION,
} from "./wire.js";

export type { LineServeEnd, LineServeOptions };
export { LineServerError };

type Step = "continue" | LineServeEnd;

const CLOSED: LineServeEnd = { reason: "closed" };

/**
 * Serve the protocol on `channel` for `opts.peer` until the client hangs
 * up, sends ERROR, or CONNECTs. Throws LineServerError (only) when the
 * connection cannot go on: NOTIFYCHANGE, CONNECT without a service runner,
 * promised data that could not be sent, streams that failed.
 *
 * @example
 * const channel = new MessageChannel(process.stdin, process.stdout);
 * await serveLine(channel, { peer: repo.peer, mode: "readwrite", clientUuid });
 */
export async function serveLine(
  channel: MessageChannel,
  opts: LineServeOptions,
): Promise<LineServeEnd> {
  const session = new LineSession(channel, opts);
  try {
    return await session.run();
  } catch (e) {
    if (e instanceof LineServerError) throw e;
    // The streams failed (the client went away mid-reply, say): the
    // connection is over, as git-annex's protocol failures end it.
    throw new LineServerError(
      `protocol connection failed: ${e instanceof Error ? e.message : String(e)}`,
      {},
      e,
    );
  } finally {
    session.close();
  }
}

class LineSession {
  #version = 0;
  #bypass: readonly string[] = [];
  readonly #aborter = new AbortController();
  readonly #peer: Peer;

  readonly #channel: MessageChannel;
  readonly #opts: LineServeOptions;
  constructor(channel: MessageChannel, opts: LineServeOptions) {
    this.#channel = channel;
    this.#opts = opts;
    this.#peer = opts.peer;
  }

  close(): void {
    this.#aborter.abort(new LineServerError("connection ended"));
  }

  #ctx(): PeerContext {
    return {
      ...(this.#opts.clientUuid !== undefined ? { clientUuid: this.#opts.clientUuid } : {}),
      bypass: this.#bypass,
      signal: this.#aborter.signal,
    };
  }

  /**
   * The next message; null at the end of input; for a line that does not
   * parse, the text of the ERROR to answer: git-annex's "unknown command",
   * or, for a key that is not UTF-8 (which git-annex would take as bytes
   * and annexgate refuses), a reason the client can act on.
   */
  async #nextOrError(): Promise<Message | null | string> {
    try {
      return await this.#channel.receive();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Input that ended inside a line or a DATA payload is the end.
      const reason = e.data.reason;
      if (reason === "truncated-line" || reason === "truncated-data") return null;
      return reason === "key-not-utf8" ? KEY_NOT_UTF8 : UNKNOWN_COMMAND;
    }
  }

  /** As `nextOrError`, a line that does not parse being `undefined`. */
  async #next(): Promise<Message | null | undefined> {
    const m = await this.#nextOrError();
    return typeof m === "string" ? undefined : m;
  }

  async run(): Promise<LineServeEnd> {
    if (this.#opts.announce ?? true) {
      await this.#channel.send({ type: "AUTH-SUCCESS", uuid: this.#peer.uuid });
    }
    for (;;) {
      const m = await this.#nextOrError();
      if (m === null) return CLOSED;
      if (typeof m === "string") {
        await this.#channel.send(protocolError(m));
        continue;
      }
      if (m.type === "ERROR") return { reason: "client-error", message: m.message };
      const step = await this.#handle(m);
      if (step !== "continue") return step;
    }
  }

  async #handle(m: Message): Promise<Step> {
    switch (m.type) {
      case "VERSION": {
        this.#version = negotiateVersion(m.version);
        await this.#channel.send({ type: "VERSION", version: this.#version });
        return "continue";
      }
      case "BYPASS":
        // No reply (design/p2p_protocol, "Cluster cycle prevention").
        this.#bypass = m.uuids;
        return "continue";
      case "CHECKPRESENT":
        return this.#reply(async () =>
          presenceReply(await this.#peer.checkPresent(m.key, this.#ctx())),
        );
      case "LOCKCONTENT":
        return this.#lockContent(m.key);
      case "REMOVE":
        return this.#remove(m.key, undefined);
      case "REMOVE-BEFORE":
        return this.#remove(m.key, m.timestamp);
      case "GETTIMESTAMP":
        return this.#reply(async () => ({
          type: "TIMESTAMP",
          timestamp: await this.#peer.getTimestamp(this.#ctx()),
        }));
      case "PUT":
        return this.#put(m.key, m.associatedFile);
      case "GET":
        return this.#get(m.key, m.offset);
      case "CONNECT":
        return this.#connect(m.service);
      case "NOTIFYCHANGE":
        // As stock git-annex-shell p2pstdio: it has no change notification
        // on this connection, and gives up.
        throw new LineServerError("change notification not available");
      default:
        await this.#channel.send(protocolError(UNEXPECTED_COMMAND));
        return "continue";
    }
  }

  /** Send what `make` answers, or ERROR with the Peer's failure. */
  async #reply(make: () => Promise<Message>): Promise<Step> {
    let answer: Message;
    try {
      answer = await make();
    } catch (e) {
      answer = errorReply(e);
    }
    await this.#channel.send(answer);
    return "continue";
  }

  async #lockContent(key: Key): Promise<Step> {
    let answer: Message;
    let lock: ContentLock | undefined;
    try {
      const r = await this.#peer.lockContent(key, this.#ctx());
      if (r.kind === "locked") lock = r.lock;
      answer = lockReply(r);
    } catch (e) {
      answer = lockErrorReply(e);
    }
    await this.#channel.send(answer);
    if (!lock) return "continue";
    // Locked until the client's next message, which must be UNLOCKCONTENT,
    // or until the connection ends.
    try {
      const next = await this.#next();
      if (next === null) return CLOSED;
      if (next?.type !== "UNLOCKCONTENT") {
        await this.#channel.send(protocolError("expected UNLOCKCONTENT"));
      }
      return "continue";
    } finally {
      await lock.release();
    }
  }

  async #remove(key: Key, before: number | undefined): Promise<Step> {
    const refused = refusal(this.#opts.mode, "remove");
    if (refused) {
      await this.#channel.send(refused);
      return "continue";
    }
    return this.#reply(async () =>
      removeReply(
        this.#version,
        await this.#peer.remove(key, before === undefined ? {} : { before }, this.#ctx()),
      ),
    );
  }

  async #put(key: Key, associatedFile: string | null): Promise<Step> {
    const refused = refusal(this.#opts.mode, "store");
    if (refused) {
      await this.#channel.send(refused);
      return "continue";
    }
    let offsetReply: Message;
    try {
      offsetReply = putOffsetReply(
        this.#version,
        await this.#peer.putOffset(key, {
          ...this.#ctx(),
          ...(associatedFile !== null ? { associatedFile } : {}),
        }),
      );
    } catch (e) {
      await this.#channel.send(errorReply(e));
      return "continue";
    }
    await this.#channel.send(offsetReply);
    if (offsetReply.type !== "PUT-FROM") return "continue";
    const offset = offsetReply.offset;

    const m = await this.#next();
    if (m === null) return CLOSED;
    // The client gave up on this PUT; no reply is expected.
    if (m?.type === "ERROR") return "continue";
    if (m?.type === "DATA-PRESENT" && this.#version >= DATA_PRESENT_VERSION) {
      return this.#reply(async () =>
        storeReply(this.#version, await this.#peer.storePresent(key, this.#ctx())),
      );
    }
    if (m?.type !== "DATA") {
      await this.#channel.send(protocolError("expected DATA"));
      return "continue";
    }
    const incoming = new IncomingContent(this.#channel, m.length, this.#version);
    let answer: Message;
    try {
      const stored = await this.#peer.store(
        {
          key,
          offset,
          length: m.length,
          data: incoming.stream,
          ...(associatedFile !== null ? { associatedFile } : {}),
        },
        this.#ctx(),
      );
      answer = storeReply(this.#version, stored);
    } catch (e) {
      answer = errorReply(e);
    } finally {
      incoming.discard();
    }
    try {
      await incoming.settled;
    } catch {
      // The input ended or broke inside the DATA: nothing more can be read.
      return CLOSED;
    }
    await this.#channel.send(answer);
    return "continue";
  }

  async #get(key: Key, offset: number): Promise<Step> {
    let got: Awaited<ReturnType<Peer["retrieve"]>>;
    try {
      got = await this.#peer.retrieve(key, offset, this.#ctx());
    } catch (e) {
      // Nothing sent yet: the client takes ERROR in place of DATA as a failure.
      await this.#channel.send(errorReply(e));
      return "continue";
    }
    let valid: boolean;
    if (!got) {
      // Content not available: empty data, INVALID (git-annex's sendContent).
      await this.#channel.sendData(0, emptyStream());
      valid = false;
    } else {
      valid = true;
      try {
        await this.#channel.sendData(got.length, got.data);
      } catch (e) {
        got.data.destroy();
        // More bytes than promised: the promised ones went out, and INVALID
        // says they are not the content.
        if (e instanceof DataLengthError && e.data.reason === "long") valid = false;
        // Fewer: the only way out is to hang up (design/p2p_protocol,
        // "Binary data").
        else throw new LineServerError("could not send the promised data", {}, e);
      }
      valid = (await got.valid.catch(() => false)) && valid;
    }
    if (this.#version >= VALIDITY_VERSION) {
      await this.#channel.send({ type: valid ? "VALID" : "INVALID" });
    }
    return this.#receiveTransferResult();
  }

  /** After sending content, the client says SUCCESS[-PLUS] or FAILURE[-PLUS]. */
  async #receiveTransferResult(): Promise<Step> {
    const m = await this.#next();
    if (m === null) return CLOSED;
    const plus = this.#version >= PLUS_VERSION;
    const ok =
      m !== undefined &&
      (m.type === "SUCCESS" ||
        m.type === "FAILURE" ||
        m.type === "ERROR" ||
        (plus && (m.type === "SUCCESS-PLUS" || m.type === "FAILURE-PLUS")));
    if (!ok) {
      await this.#channel.send(
        protocolError(
          plus
            ? "expected SUCCESS or SUCCESS-PLUS or FAILURE or FAILURE-PLUS"
            : "expected SUCCESS or FAILURE",
        ),
      );
    }
    return "continue";
  }

  async #connect(service: "git-upload-pack" | "git-receive-pack"): Promise<Step> {
    if (service === "git-receive-pack") {
      const refused = refusal(this.#opts.mode, "receive-pack");
      if (refused) {
        await this.#channel.send(refused);
        return this.#opts.continueAfterRefusedConnect ? "continue" : { reason: "refused-connect" };
      }
    }
    if (!this.#opts.connect) {
      throw new LineServerError("relaying to git not supported on this connection");
    }
    const exitCode = await relayService(this.#channel, this.#opts.connect(service));
    return { reason: "connected", exitCode };
  }
}

function emptyStream(): Readable {
  const s = new PassThrough();
  s.end();
  return s;
}
