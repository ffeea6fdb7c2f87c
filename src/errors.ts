/**
 * Every code an AnnexgateError may carry. The union is closed on purpose:
 * front-ends switch on codes to choose a wire answer, and a new failure
 * must be named here before anything can throw it.
 */
export type ErrorCode =
  | "AG_BAD_DURATION"
  | "AG_BAD_GLOB"
  | "AG_BAD_KEY"
  | "AG_BAD_SETTING"
  | "AG_BAD_SIZE"
  | "AG_BAD_UUID"
  | "AG_BRANCH_CLOSED"
  | "AG_BRANCH_CONFLICT"
  | "AG_BRANCH_CONTENT"
  | "AG_BRANCH_INIT"
  | "AG_BRANCH_PATH"
  | "AG_CHANNEL_STALLED"
  | "AG_CLIENT"
  | "AG_CLIENT_ABORTED"
  | "AG_CLIENT_PROTOCOL"
  | "AG_CLIENT_REFUSED"
  | "AG_CLIENT_UNREACHABLE"
  | "AG_CHANNEL_STATE"
  | "AG_DATA_LENGTH"
  | "AG_DUPLICATE_PEER_KIND"
  | "AG_EXPORT"
  | "AG_FCNTL_LOCK"
  | "AG_GIT"
  | "AG_GPG"
  | "AG_HTTP_ANSWER"
  | "AG_HTTP_API"
  | "AG_HTTP_URL"
  | "AG_INVALID_CONTENT"
  | "AG_LINE_SERVER"
  | "AG_LIVE_SIZES"
  | "AG_NOT_ANNEX_REPO"
  | "AG_NOT_ENOUGH_DATA"
  | "AG_OBJECT_STORE"
  | "AG_PEER"
  | "AG_PEER_PROTOCOL"
  | "AG_PEER_REFUSED"
  | "AG_PEER_UNREACHABLE"
  | "AG_PROTOCOL"
  | "AG_SHELL"
  | "AG_SIM"
  | "AG_SIM_PARSE"
  | "AG_UNKNOWN_REMOTE_KIND"
  | "AG_UNREACHABLE_REMOTE"
  | "AG_UNVERIFIABLE_KEY"
  | "AG_USAGE"
  | "AG_VERIFIER_FINISHED"
  | "AG_WIRE_TEXT";

/**
 * The base of every error annexgate throws on purpose. `code` is stable and
 * meant for programs (front-ends map it to the wire); `data` carries the
 * structured facts; `cause` chains the error that led here.
 */
export class AnnexgateError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    data: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
}
