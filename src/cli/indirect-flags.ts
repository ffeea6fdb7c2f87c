/**
 * The `--indirect-*` flags of `annexgate p2phttp`: annexgate's indirect
 * uploads (see protocol/http-indirect.ts), off unless `--indirect-uploads`
 * is given; the others only tune them.
 */
import { DEFAULT_INDIRECT_SETTINGS, type IndirectSettings } from "../proxy/index.js";
import { parseSize } from "../sizes/index.js";
import { UsageError } from "./usage.js";

/** S3's longest validity of a presigned URL (seconds). */
const MAX_EXPIRES_S = 7 * 24 * 3600;

export interface IndirectFlags {
  readonly "indirect-uploads"?: boolean | undefined;
  readonly "indirect-expires"?: string | undefined;
  readonly "indirect-verify"?: string | undefined;
  readonly "indirect-part-size"?: string | undefined;
  readonly "indirect-max-pending"?: string | undefined;
  readonly "indirect-max-pending-per-client"?: string | undefined;
}

function count(text: string | undefined, flag: string, max = Number.MAX_SAFE_INTEGER) {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`--${flag} needs a number from 1 to ${max}`);
  }
  return Number(text);
}

function partSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let n: bigint;
  try {
    n = parseSize(text);
  } catch {
    throw new UsageError(`--indirect-part-size: not a size: ${text}`);
  }
  // S3 refuses to complete an upload whose parts but the last are under 5MiB.
  if (n < 5n * 1024n ** 2n || n > 5n * 1024n ** 3n) {
    throw new UsageError("--indirect-part-size needs a size from 5MiB to 5GiB");
  }
  return Number(n);
}

/** The settings of indirect uploads, or undefined when they are off. */
export function indirectSettings(o: IndirectFlags): IndirectSettings | undefined {
  if (!o["indirect-uploads"]) {
    const stray = Object.entries(o).find(
      ([k, v]) => k.startsWith("indirect-") && k !== "indirect-uploads" && v !== undefined,
    );
    if (stray) throw new UsageError(`--${stray[0]} is for --indirect-uploads`);
    return undefined;
  }
  const verify = o["indirect-verify"] ?? DEFAULT_INDIRECT_SETTINGS.verify;
  if (verify !== "size" && verify !== "content") {
    throw new UsageError("--indirect-verify is size or content");
  }
  const d = DEFAULT_INDIRECT_SETTINGS;
  const size = partSize(o["indirect-part-size"]);
  return {
    expiresSeconds:
      count(o["indirect-expires"], "indirect-expires", MAX_EXPIRES_S) ?? d.expiresSeconds,
    verify,
    ...(size !== undefined ? { partSize: size } : {}),
    maxPending: count(o["indirect-max-pending"], "indirect-max-pending") ?? d.maxPending,
    maxPendingPerClient:
      count(o["indirect-max-pending-per-client"], "indirect-max-pending-per-client") ??
      d.maxPendingPerClient,
  };
}
