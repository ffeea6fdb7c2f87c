/**
 * The small exchanges a LinePeer's requests share: the answers after a
 * transfer, an empty invalid DATA, a request the version lacks, and an
 * abort that kills the connection.
 */
import { Readable } from "node:stream";
import { type PeerError, PeerRefusedError, PeerUnreachableError } from "../peer.js";
import type { Connection } from "./connection.js";

const NO_UUIDS: readonly string[] = [];

/** A request the negotiated protocol version lacks (refused before anything is sent). */
export function unsupported(what: string, needs: number, version: number): PeerError {
  return new PeerRefusedError(
    `${what} needs protocol version ${needs}; the server speaks ${version}`,
    {
      unsupported: true,
      needs,
      version,
    },
  );
}

/** An abort kills the connection (the only way to stop a request mid-way); returns the unhook. */
export function abortKills(c: Connection, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const onAbort = () => {
    void c.kill();
  };
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** VALID/INVALID after DATA (version 1 on; before that, data is taken as valid). */
export async function readValidity(c: Connection): Promise<boolean> {
  if (c.version < 1) return true;
  return (await c.expect("VALID", "INVALID")).type === "VALID";
}

/** After PUT-FROM: DATA 0 marked INVALID, and the server's (failing) answer. */
export async function sendEmptyInvalid(c: Connection): Promise<void> {
  try {
    await c.ch.sendData(0, Readable.from([]));
  } catch (e) {
    throw c.fail(PeerUnreachableError, "sending DATA 0 failed", e);
  }
  if (c.version >= 1) await c.send({ type: "INVALID" });
  await successOrFailure(c);
}

/** SUCCESS / FAILURE, and from version 2 their -PLUS forms. */
export async function successOrFailure(
  c: Connection,
): Promise<{ ok: boolean; plusUuids: readonly string[] }> {
  const r = await c.expect("SUCCESS", "FAILURE", "SUCCESS-PLUS", "FAILURE-PLUS");
  switch (r.type) {
    case "SUCCESS":
      return { ok: true, plusUuids: NO_UUIDS };
    case "FAILURE":
      return { ok: false, plusUuids: NO_UUIDS };
    case "SUCCESS-PLUS":
      return { ok: true, plusUuids: r.uuids };
    case "FAILURE-PLUS":
      return { ok: false, plusUuids: r.uuids };
  }
}
