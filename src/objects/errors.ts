/**
 * The object store's typed failures. Their messages may reach a client (as
 * a p2p ERROR or an HTTP 500 body), so they name the operation and the
 * errno code, never a path of this machine; the path is in `data`.
 */
import { AnnexgateError } from "../errors.js";

export class ObjectStoreError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_OBJECT_STORE", message, data, cause);
  }
}

/** The errno code (`ENOENT`, `ENOSPC`, …) of a failed fs call, if it has one. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * `e` as an ObjectStoreError saying what failed: a typed error passes
 * through unchanged, anything else (a disk full, a permission refused, a
 * path component that is not a directory) is wrapped with its cause.
 */
export function storeFailure(what: string, e: unknown, path?: string): AnnexgateError {
  if (e instanceof AnnexgateError) return e;
  const code = errnoCode(e);
  return new ObjectStoreError(
    `${what} failed${code ? `: ${code}` : ""}`,
    { ...(code ? { code } : {}), ...(path !== undefined ? { path } : {}) },
    e,
  );
}
