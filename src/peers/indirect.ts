/**
 * Indirect uploads, as a remote's storage offers them (annexgate's
 * extension; see protocol/http-indirect.ts): the client uploads a key's
 * content straight to the storage, to a staging object of its own that
 * presigned URLs name, never to the key's object; the gateway then checks
 * the staged object and only then publishes it under the key's name.
 *
 * A staging is plain data (names, an upload id, a deadline), so any
 * connection to the same remote can publish or discard it, and an
 * operator can tell leftovers by their names (`sweep`).
 */
import type { Key } from "../keys/index.js";

/** How the client uploads: one PUT, or one PUT per part. */
export type IndirectPlan =
  | {
      readonly kind: "put";
      readonly url: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: "parts";
      readonly parts: readonly {
        readonly offset: number;
        readonly length: number;
        readonly url: string;
      }[];
    };

/** A staging just made: what the gateway keeps, and what the client is told. */
export interface IndirectStaged {
  readonly staging: IndirectStaging;
  readonly plan: IndirectPlan;
}

/**
 * One staged upload, waiting for the client's DATA-PRESENT: what the
 * gateway keeps of it (small; the URLs are not kept).
 */
export interface IndirectStaging {
  /** The staging object's name in the storage (never a key's object). */
  readonly stagingName: string;
  /** The multipart upload the parts go to, when the plan has parts. */
  readonly uploadId?: string;
  /** The content's size (the key's). */
  readonly size: number;
  /** Part size of a multipart plan (every part but the last has it). */
  readonly partSize?: number;
  /** The URLs stop working this long after they were made. */
  readonly expiresSeconds: number;
  /** After this (ms since the epoch) the staging is garbage: never published, and swept. */
  readonly deadline: number;
}

/** How much of the staged object the gateway checks before publishing it. */
export type IndirectVerify = "size" | "content";

/**
 * What publishing found; `readBack` bytes were read from the storage to
 * check the content; `already`: the key's object was there already, and
 * was left as it was (nothing of the upload published).
 */
export type IndirectOutcome =
  | { readonly published: true; readonly readBack: number; readonly already?: true }
  | { readonly published: false; readonly reason: string; readonly readBack: number };

/** A storage's indirect uploads. */
export interface IndirectStorage {
  /**
   * Make a staging for content of `size` bytes, with URLs valid for
   * `expiresSeconds`, in parts of `partSize` when the content is larger
   * than one part (the storage's own part size when not given). A
   * string: why this content cannot be uploaded indirectly (too large,
   * say).
   */
  stage(
    size: number,
    opts: { readonly expiresSeconds: number; readonly partSize?: number },
  ): Promise<IndirectStaged | string>;
  /**
   * Finish the upload and seal it (so that no URL the client holds can
   * change it any more), check the sealed object against `key` (its
   * size; with "content", its content too), and only then publish it as
   * the key's object, never over an object the key has already (then
   * `already`). The staging is gone afterwards either way.
   */
  publish(staging: IndirectStaging, key: Key, verify: IndirectVerify): Promise<IndirectOutcome>;
  /** Give up a staging: its object and parts are removed. */
  discard(staging: IndirectStaging): Promise<void>;
  /**
   * Remove stagings past their deadline that are not in `live` (staging
   * names): those left by clients that never finished, by uploads after
   * the gateway was done with them, or by a gateway that stopped.
   * Answers how many were removed.
   */
  sweep(live: ReadonlySet<string>): Promise<number>;
}

/** Why a remote offers no indirect uploads, in words that name no host or path. */
export interface IndirectUnavailable {
  readonly unavailable: string;
}
