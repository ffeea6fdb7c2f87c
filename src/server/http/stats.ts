/**
 * What a running p2phttp server holds, as counts: a request that was cut
 * off must leave every one of them where it was. Tests read them in the
 * server's process; operators can see leaks the same way.
 */
import { readdirSync } from "node:fs";

export interface ServerStats {
  /** Requests received since the server started (only ever grows). */
  readonly requestsSeen: number;
  /** Requests in progress (answered or not, until their work is done). */
  readonly requests: number;
  /** Transfer slots (--jobs) held. */
  readonly transferSlots: number;
  /** Transfer slots there are (--jobs): a setting, not a holding. */
  readonly transferSlotsTotal: number;
  /** Transfers waiting for a slot. */
  readonly queuedTransfers: number;
  /** Per-key turns held or awaited in this process's object stores. */
  readonly keyLocks: number;
  /** Content locks held in this process's object stores. */
  readonly contentLocks: number;
  /** Locks handed out by lockcontent and not yet released. */
  readonly heldLocks: number;
  /** Of those, the ones kept by an open keeplocked request. */
  readonly keptLocks: number;
  /** Open file descriptors of the process (-1 where /proc is not there). */
  readonly openFds: number;
}

export function openFileDescriptors(): number {
  try {
    // Listing the folder opens one more descriptor, itself listed.
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return -1;
  }
}
