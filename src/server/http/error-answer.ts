/**
 * The one place an error becomes an HTTP answer. A request the API
 * refuses gets its status and message; anything else is a 500 whose body
 * is a short id, never the error itself (a system error names server
 * paths, a node's error its host name, a stack the code): the id goes to
 * the log with the real error, so an operator can find it.
 */
import { randomBytes } from "node:crypto";
import { HttpApiError } from "../../protocol/index.js";
import { QueueFullError } from "../../util/index.js";

export interface ErrorAnswer {
  readonly status: number;
  readonly body: string;
  /** For a 500: the line to log (id, then the real error). */
  readonly logLine?: string;
}

export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpApiError) return { status: err.status, body: err.message };
  if (err instanceof QueueFullError) {
    return { status: 503, body: "server busy: too many transfers are waiting, try again later" };
  }
  const id = randomBytes(4).toString("hex");
  const detail = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  return {
    status: 500,
    body: `internal error (id ${id})`,
    logLine: `p2phttp: internal error ${id}: ${detail}`,
  };
}
