/**
 * S3 failures as the special-remote seam names them (storage.ts): no
 * answer, or a server error that cannot tell, is PeerUnreachableError; an
 * answer that says no (denied, no such bucket, a bad request) is
 * PeerRefusedError. Messages name the operation, the object and S3's error
 * code, never the endpoint's host or port: they may reach a client. The
 * SDK's error stays the cause, for the gateway's own log.
 */
import { PeerRefusedError, PeerUnreachableError } from "../peer.js";

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

/** The HTTP status an SDK error carries, if S3 answered at all. */
export function s3Status(e: unknown): number | undefined {
  const status = (e as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** S3's error code (NoSuchKey, AccessDenied, ...) or the SDK's error name. */
export function s3ErrorCode(e: unknown): string {
  const name = (e as SdkErrorShape | null)?.name;
  return typeof name === "string" ? name : "Error";
}

/** A typed peer error for a failed S3 request `what` (e.g. "GetObject of KEY"). */
export function s3Failure(what: string, e: unknown): PeerUnreachableError | PeerRefusedError {
  const status = s3Status(e);
  if (status === undefined) {
    const code = (e as SdkErrorShape | null)?.code;
    const why = typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : s3ErrorCode(e);
    return new PeerUnreachableError(
      `S3 ${what} failed: no answer from the S3 server (${why})`,
      {},
      e,
    );
  }
  const message = `S3 ${what} failed: ${status} ${s3ErrorCode(e)}`;
  if (status >= 500) return new PeerUnreachableError(message, { status }, e);
  return new PeerRefusedError(message, { status }, e);
}
