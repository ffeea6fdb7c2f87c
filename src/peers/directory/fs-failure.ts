/**
 * A directory special remote's file-system failures as the Peer errors
 * the gateway tells apart: refused (no permission, a read-only or full
 * disk, a name too long) or unreachable (anything else). Their messages
 * may reach a client, so they name the operation and the errno code,
 * never a path of this machine (Node's own messages do: kept as `cause`).
 */
import { PeerRefusedError, PeerUnreachableError } from "../peer.js";

const REFUSALS = new Set(["EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ENAMETOOLONG"]);

/** The errno code (`ENOENT`, `ENOSPC`, …) of a failed fs call, if it has one. */
export function errnoOf(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** `e`, a failure of `what`, as a Peer error; a Peer error passes through. */
export function fsFailure(what: string, e: unknown): Error {
  if (e instanceof PeerRefusedError || e instanceof PeerUnreachableError) return e;
  const code = errnoOf(e);
  const message = `directory special remote: ${what} failed${code ? `: ${code}` : ""}`;
  const data = code ? { code } : {};
  return code !== undefined && REFUSALS.has(code)
    ? new PeerRefusedError(message, data, e)
    : new PeerUnreachableError(message, data, e);
}

/** The remote's directory is not there (an unmounted drive): git-annex's words, without the path. */
export function notAccessible(): PeerUnreachableError {
  return new PeerUnreachableError("directory special remote: the directory is not accessible");
}
