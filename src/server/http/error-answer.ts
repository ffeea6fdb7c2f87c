/**
 * The one place an error becomes an HTTP answer. A request the API
 * refuses gets its status and message; anything else is a 500 whose body
 * is the request's id, never the error itself (a system error names server
 * paths, a node's error its host name, a stack the code): the id goes to
 * the log with the real error, so an operator can find it. A repository
 * behind the gateway that fails (unreachable, refusing, broken) is a 502:
 * the gateway itself is fine, and the log says which node and why, with
 * no stack (it is an expected condition, not a bug).
 */
import {
  PeerProtocolError,
  PeerRefusedError,
  PeerUnreachableError,
  UnknownRemoteKindError,
  UnreachableRemoteError,
} from "../../peers/index.js";
import { HttpApiError } from "../../protocol/index.js";
import { QueueFullError } from "../../util/index.js";

export interface ErrorAnswer {
  readonly status: number;
  readonly body: string;
  /** For a 5xx: what to log (the real error; the caller adds the request's id). */
  readonly log?: {
    readonly level: "warn" | "error";
    readonly msg: string;
    readonly err: string;
  };
}

/** The answer to a request with id `id` that failed with `err`. */
export function errorAnswer(err: unknown, id: string): ErrorAnswer {
  if (err instanceof HttpApiError) return { status: err.status, body: err.message };
  if (err instanceof QueueFullError) {
    return { status: 503, body: "server busy: too many transfers are waiting, try again later" };
  }
  // A refusal in git-annex's own words, meant for the client (an export
  // remote refusing to drop a file of its tree): stock's p2phttp answers
  // such an ERROR as a 500 whose body is the message.
  // It is logged too: a stock client does not show a 500's body.
  if (err instanceof PeerRefusedError && err.data.forClient === true) {
    return {
      status: 500,
      body: err.message,
      log: { level: "warn", msg: "refused", err: err.message },
    };
  }
  const node = nodeFailure(err);
  if (node !== undefined) {
    return {
      status: 502,
      body: `a repository behind this gateway ${node} (id ${id})`,
      log: { level: "warn", msg: "node failure", err: chain(err as Error) },
    };
  }
  const detail = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  return {
    status: 500,
    body: `internal error (id ${id})`,
    log: { level: "error", msg: "internal error", err: detail },
  };
}

/** What a node's failure says to a client, or undefined when it is not one. */
function nodeFailure(err: unknown): string | undefined {
  if (err instanceof PeerUnreachableError) return "did not answer";
  // A remote the gateway could not open (its configuration, credentials,
  // keys): the gateway is fine, that repository cannot be reached.
  if (err instanceof UnreachableRemoteError || err instanceof UnknownRemoteKindError) {
    return "cannot be reached";
  }
  if (err instanceof PeerRefusedError) return "refused the request";
  if (err instanceof PeerProtocolError) return "answered out of protocol";
  return undefined;
}

/** An error's message and its causes' messages, without stacks. */
function chain(err: Error): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" <- ");
}
