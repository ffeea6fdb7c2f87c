/**
 * What the client library throws: one base class, and one class for each
 * way a request can fail, so callers can tell a server that said no from
 * one that could not be reached or one that answered nonsense.
 */
import { AnnexgateError, type ErrorCode } from "../errors.js";

/** A failure on this side (a bad URL, a closed client, a key without a size). */
export class ClientError extends AnnexgateError {
  static readonly errorCode: ErrorCode = "AG_CLIENT";
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super((new.target as typeof ClientError).errorCode, message, data, cause);
  }
}

/** No answer: the connection failed, broke off, or timed out. */
export class UnreachableError extends ClientError {
  static override readonly errorCode: ErrorCode = "AG_CLIENT_UNREACHABLE";
}

/**
 * The server answered with another status than 200: `data.status` and
 * `data.body` (its first 4 KiB) say what; `data.unsupported` is set when the
 * server lacks the operation at every version the client may use.
 */
export class RefusedError extends ClientError {
  static override readonly errorCode: ErrorCode = "AG_CLIENT_REFUSED";
  get status(): number | undefined {
    const s = this.data.status;
    return typeof s === "number" ? s : undefined;
  }
}

/** The server answered something the API does not allow. */
export class ProtocolError extends ClientError {
  static override readonly errorCode: ErrorCode = "AG_CLIENT_PROTOCOL";
}

/** The caller's signal aborted the request. */
export class AbortedError extends ClientError {
  static override readonly errorCode: ErrorCode = "AG_CLIENT_ABORTED";
}
