/**
 * Which p2phttp API version a client uses with one server: the highest both
 * have, found as git-annex's client finds it (try the highest, fall to the
 * next lower one while the server answers that it lacks the version), then
 * remembered. Shared by the gateway's HTTP Peer and the client library; each
 * says how its errors show a version miss and how to refuse an operation no
 * version serves.
 */
import { type ApiVersion, type Operation, versionsToTry } from "./httpapi.js";

export class VersionFallback {
  #highest: ApiVersion;
  #confirmed = false;
  readonly #isMiss: (e: unknown) => boolean;
  readonly #unsupported: (op: Operation, highest: ApiVersion) => Error;

  /**
   * `isMiss` tells an error that is the server saying it lacks the version
   * (see isVersionMiss); `unsupported` makes the error for an operation the
   * server has at no version tried.
   */
  constructor(
    maxVersion: ApiVersion,
    isMiss: (e: unknown) => boolean,
    unsupported: (op: Operation, highest: ApiVersion) => Error,
  ) {
    this.#highest = maxVersion;
    this.#isMiss = isMiss;
    this.#unsupported = unsupported;
  }

  /** The version in use: the highest the server has been seen to serve. */
  get version(): ApiVersion {
    return this.#highest;
  }

  /** True once a request has settled which version the server serves. */
  get confirmed(): boolean {
    return this.#confirmed;
  }

  /**
   * `attempt` at each version of `op` from the highest down, until one is
   * not a miss; the version that works is remembered. Once confirmed, a
   * miss is an error like any other.
   */
  async run<T>(op: Operation, attempt: (v: ApiVersion) => Promise<T>): Promise<T> {
    let last: unknown = this.#unsupported(op, this.#highest);
    for (const v of versionsToTry(op, this.#highest)) {
      try {
        const result = await attempt(v);
        if (!this.#confirmed || v < this.#highest) {
          this.#highest = v;
          this.#confirmed = true;
        }
        return result;
      } catch (e) {
        if (this.#confirmed || !this.#isMiss(e)) throw e;
        last = e;
      }
    }
    throw last;
  }
}
