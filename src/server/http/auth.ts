/**
 * Who may do what, decided as `git annex p2phttp` decides it: the
 * `--wideopen` / `--unauth-*` flags set what anonymous clients may do, and
 * `--authenv` (https only) / `--authenv-http` admit users named in the
 * environment as `GIT_ANNEX_P2PHTTP_PASSWORD_<user>` with optional
 * `GIT_ANNEX_P2PHTTP_PERMISSIONS_<user>` = readonly | appendonly.
 */
import { type ActionClass, HttpApiError } from "../../protocol/index.js";

export type ServeMode = "readwrite" | "appendonly" | "readonly";

export interface AuthOptions {
  readonly wideOpen?: boolean;
  readonly unauthReadOnly?: boolean;
  readonly unauthAppendOnly?: boolean;
  readonly unauthNoLocking?: boolean;
  readonly authEnv?: boolean;
  readonly authEnvHttp?: boolean;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** The result of checking one request: allowed (in a mode), or an HTTP status. */
export type AuthDecision =
  | { readonly allow: true; readonly mode: ServeMode }
  | { readonly allow: false; readonly status: 401 | 403 };

interface ModeForRequest {
  readonly mode: ServeMode | null; // null: cannot serve requests without auth
  readonly unauthLocking: boolean;
  readonly authAllowed: boolean;
}

/** Users and their permissions, read from an environment. */
export function usersFromEnv(
  env: NodeJS.ProcessEnv,
): Map<string, { password: string; mode: ServeMode }> {
  const users = new Map<string, { password: string; mode: ServeMode }>();
  const perms = new Map<string, ServeMode>();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (k.startsWith("GIT_ANNEX_P2PHTTP_PERMISSIONS_")) {
      const user = k.slice("GIT_ANNEX_P2PHTTP_PERMISSIONS_".length);
      if (v === "readonly" || v === "appendonly") perms.set(user, v);
    }
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (k.startsWith("GIT_ANNEX_P2PHTTP_PASSWORD_")) {
      const user = k.slice("GIT_ANNEX_P2PHTTP_PASSWORD_".length);
      users.set(user, { password: v, mode: perms.get(user) ?? "readwrite" });
    }
  }
  return users;
}

/* git-annex's B64.decode (sandi Base64Url): url alphabet, "=" padding required. */
const B64URL_PADDED = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

/**
 * Parse an `Authorization` header as git-annex does (P2P/Http/Types.hs,
 * `FromHttpApiData Auth`): the scheme "basic" in any case, spaces, then
 * padded base64url (the alphabet git-annex's client encodes with, not the
 * standard one) of "user:password"; the user ends at the first ":", and
 * without one the password is empty. Null when there is no header.
 *
 * @throws HttpApiError 400 for any other header, as git-annex refuses the
 *   request before looking at the repository or the credentials.
 * @example
 * parseBasicAuth("Basic dTphPj8-") // { user: "u", password: "a>?>" }
 */
export function parseBasicAuth(header: string | undefined): Credentials | null {
  if (header === undefined) return null;
  const m = /^([^ \t\n\r\f\v\xa0]*)[ \t\n\r\f\v\xa0]*(.*)$/s.exec(header);
  const b64 = m?.[2] ?? "";
  if (m?.[1]?.toLowerCase() !== "basic" || !B64URL_PADDED.test(b64) || b64 === "") {
    throw new HttpApiError(
      400,
      "Error parsing header Authorization failed: invalid basic auth header",
    );
  }
  const decoded = Buffer.from(b64, "base64url").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { user: decoded, password: "" };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class Authorizer {
  readonly #users: Map<string, { password: string; mode: ServeMode }>;

  readonly #opts: AuthOptions;
  constructor(opts: AuthOptions, env: NodeJS.ProcessEnv = process.env) {
    this.#opts = opts;
    this.#users = opts.authEnv || opts.authEnvHttp ? usersFromEnv(env) : new Map();
  }

  #anonymous(): ModeForRequest {
    const o = this.#opts;
    const canAuth = Boolean(o.authEnv || o.authEnvHttp);
    const unauthLocking = !o.unauthNoLocking;
    if (o.wideOpen) return { mode: "readwrite", unauthLocking, authAllowed: false };
    if (o.unauthAppendOnly) return { mode: "appendonly", unauthLocking, authAllowed: canAuth };
    if (o.unauthReadOnly) return { mode: "readonly", unauthLocking, authAllowed: canAuth };
    return { mode: null, unauthLocking, authAllowed: canAuth };
  }

  #modeFor(secure: boolean, creds: Credentials | null): ModeForRequest {
    if (creds) {
      const checks = (secure && this.#opts.authEnv) || (!secure && this.#opts.authEnvHttp);
      if (checks) {
        const u = this.#users.get(creds.user);
        if (u && u.password === creds.password) {
          return { mode: u.mode, unauthLocking: false, authAllowed: false };
        }
      }
      // Bad or unusable credentials: treated as an anonymous request with
      // authentication turned off, as git-annex does.
      const anon = new Authorizer({
        ...this.#opts,
        authEnv: false,
        authEnvHttp: false,
      }).#anonymous();
      return anon;
    }
    return this.#anonymous();
  }

  /** The user of `creds` when the server checks users and their password is right; else undefined. */
  authenticatedUser(secure: boolean, creds: Credentials | null): string | undefined {
    if (!creds) return undefined;
    const checks = (secure && this.#opts.authEnv) || (!secure && this.#opts.authEnvHttp);
    const u = checks ? this.#users.get(creds.user) : undefined;
    return u && u.password === creds.password ? creds.user : undefined;
  }

  decide(secure: boolean, creds: Credentials | null, action: ActionClass): AuthDecision {
    const m = this.#modeFor(secure, creds);
    if (m.mode === null) return { allow: false, status: 401 };
    const refuse: AuthDecision = { allow: false, status: m.authAllowed ? 401 : 403 };
    if (m.mode === "readwrite") return { allow: true, mode: "readwrite" };
    if (m.unauthLocking && action === "lock") return { allow: true, mode: "readonly" };
    if (m.mode === "appendonly")
      return action === "remove" ? refuse : { allow: true, mode: "appendonly" };
    return action === "read" ? { allow: true, mode: "readonly" } : refuse;
  }
}
