/**
 * The one place where the line-protocol front-end turns Peer results,
 * permission refusals and errors into protocol messages
 * (design/p2p_protocol: "Checking if content is present" … "Storing
 * content on the server"). Handlers call these and never build replies
 * themselves.
 */
import type {
  LockResult,
  PresenceResult,
  PutOffsetResult,
  RemoveResult,
  StoreResult,
} from "../../peers/index.js";
import type { Message } from "../../protocol/index.js";
import type { ServeMode } from "../http/auth.js";

/**
 * SUCCESS-PLUS, FAILURE-PLUS and ALREADY-HAVE-PLUS exist from protocol
 * version 2 on ("In protocol version 2 and above, the server can optionally
 * reply with SUCCESS-PLUS …"); older clients get the plain reply.
 */
export const PLUS_VERSION = 2;

/** VALID / INVALID follow every DATA from protocol version 1 on. */
export const VALIDITY_VERSION = 1;

/** DATA-PRESENT is understood from protocol version 4 on. */
export const DATA_PRESENT_VERSION = 4;

/** What git-annex's serverLoop answers to a line it cannot parse. */
export const UNKNOWN_COMMAND = "unknown command";
/** … and to a message that is not a request. */
export const UNEXPECTED_COMMAND = "unexpected command";

const READ_ONLY = "this repository is read-only; write access denied";
const APPEND_ONLY = "this repository is append-only; removal denied";

function plain(ok: boolean): Message {
  return ok ? { type: "SUCCESS" } : { type: "FAILURE" };
}

function withPlus(version: number, ok: boolean, uuids: readonly string[]): Message {
  if (version < PLUS_VERSION || uuids.length === 0) return plain(ok);
  return ok ? { type: "SUCCESS-PLUS", uuids } : { type: "FAILURE-PLUS", uuids };
}

/** CHECKPRESENT → SUCCESS when present, else FAILURE. */
export function presenceReply(r: PresenceResult): Message {
  return plain(r.present);
}

/** LOCKCONTENT → SUCCESS when the lock is held, else (absent, or no locking here) FAILURE. */
export function lockReply(r: LockResult): Message {
  return plain(r.kind === "locked");
}

/**
 * LOCKCONTENT whose lock could not be taken (the Peer threw): FAILURE, as
 * git-annex answers; its client takes nothing else after LOCKCONTENT.
 */
export function lockErrorReply(_err: unknown): Message {
  return plain(false);
}

/** REMOVE / REMOVE-BEFORE → SUCCESS[-PLUS] / FAILURE[-PLUS]. */
export function removeReply(version: number, r: RemoveResult): Message {
  return withPlus(version, r.removed, r.plusUuids);
}

/** After DATA (or DATA-PRESENT) → SUCCESS[-PLUS] / FAILURE[-PLUS]. */
export function storeReply(version: number, r: StoreResult): Message {
  return withPlus(version, r.stored, r.plusUuids);
}

/** PUT → ALREADY-HAVE[-PLUS], or PUT-FROM the offset to resume from. */
export function putOffsetReply(version: number, r: PutOffsetResult): Message {
  if (!r.alreadyHave) return { type: "PUT-FROM", offset: r.offset };
  if (version < PLUS_VERSION || r.plusUuids.length === 0) return { type: "ALREADY-HAVE" };
  return { type: "ALREADY-HAVE-PLUS", uuids: r.plusUuids };
}

/** What a request needs to be allowed in a ServeMode. */
export type Permission = "store" | "remove" | "receive-pack";

/**
 * The ERROR git-annex (P2P/Protocol.hs checkPUTServerMode,
 * checkREMOVEServerMode, checkCONNECTServerMode) sends when the mode does
 * not allow a request, or null when it is allowed.
 */
export function refusal(mode: ServeMode, need: Permission): Message | null {
  if (mode === "readwrite") return null;
  if (mode === "readonly") return { type: "ERROR", message: READ_ONLY };
  // append-only: storing is allowed; removing is not, and neither is a push,
  // since git's protocol could overwrite refs.
  if (need === "store") return null;
  return { type: "ERROR", message: need === "remove" ? APPEND_ONLY : READ_ONLY };
}

/** ERROR with a message, for a Peer that failed before any data was sent. */
export function errorReply(err: unknown): Message {
  const text = err instanceof Error ? err.message : String(err);
  // A message is one line.
  return { type: "ERROR", message: text.replace(/[\r\n]+/g, " ").trim() || "failed" };
}

export function protocolError(message: string): Message {
  return { type: "ERROR", message };
}
