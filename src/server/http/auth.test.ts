import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type ActionClass, HttpApiError } from "../../protocol/index.js";
import {
  type AuthDecision,
  type AuthOptions,
  Authorizer,
  type Credentials,
  parseBasicAuth,
  type ServeMode,
  usersFromEnv,
} from "./auth.js";

/*
 * A second, independent statement of git-annex's rules, written from
 * Command/P2PHttp.hs `mkGetServerMode` and P2P/Http/State.hs
 * `checkAuthActionClass` (git-annex 10.20250416), kept close to their shape
 * so the two can be read side by side. The Authorizer must agree with it on
 * every combination.
 */
type ServerMode =
  | { kind: "CannotServeRequests" }
  | {
      kind: "ServerMode";
      serverMode: ServeMode;
      unauthenticatedLockingAllowed: boolean;
      authenticationAllowed: boolean;
    };

type Flags = Required<AuthOptions>;

function mkGetServerMode(
  authenv: ReadonlyMap<string, ServeMode>,
  o: Flags,
  secure: boolean,
  auth: Credentials | null,
): ServerMode {
  if (auth === null) {
    const canauth = o.authEnv || o.authEnvHttp;
    const unauthlock = !o.unauthNoLocking;
    const serving = (serverMode: ServeMode, authenticationAllowed: boolean): ServerMode => ({
      kind: "ServerMode",
      serverMode,
      unauthenticatedLockingAllowed: unauthlock,
      authenticationAllowed,
    });
    if (o.wideOpen) return serving("readwrite", false);
    if (o.unauthAppendOnly) return serving("appendonly", canauth);
    if (o.unauthReadOnly) return serving("readonly", canauth);
    return { kind: "CannotServeRequests" };
  }
  const noauth = () =>
    mkGetServerMode(authenv, { ...o, authEnv: false, authEnvHttp: false }, secure, null);
  const checks = (secure && o.authEnv) || (!secure && o.authEnvHttp);
  if (!checks) return noauth();
  // The map is keyed by the whole Auth (user and password).
  const servermode = authenv.get(`${auth.user}\0${auth.password}`);
  if (servermode === undefined) return noauth();
  return {
    kind: "ServerMode",
    serverMode: servermode,
    authenticationAllowed: false,
    unauthenticatedLockingAllowed: false,
  };
}

function checkAuthActionClass(sm: ServerMode, action: ActionClass): AuthDecision {
  if (sm.kind === "CannotServeRequests") return { allow: false, status: 401 };
  const forbiddenWithoutAuth: AuthDecision = {
    allow: false,
    status: sm.authenticationAllowed ? 401 : 403,
  };
  if (sm.serverMode === "readwrite") return { allow: true, mode: "readwrite" };
  if (sm.unauthenticatedLockingAllowed && action === "lock") {
    return { allow: true, mode: "readonly" };
  }
  if (sm.serverMode === "appendonly") {
    return action === "remove" ? forbiddenWithoutAuth : { allow: true, mode: "appendonly" };
  }
  return action === "read" ? { allow: true, mode: "readonly" } : forbiddenWithoutAuth;
}

const ENV: NodeJS.ProcessEnv = {
  GIT_ANNEX_P2PHTTP_PASSWORD_alice: "alice-secret",
  GIT_ANNEX_P2PHTTP_PASSWORD_bob: "bob-secret",
  GIT_ANNEX_P2PHTTP_PERMISSIONS_bob: "readonly",
  GIT_ANNEX_P2PHTTP_PASSWORD_carol: "carol:secret",
  GIT_ANNEX_P2PHTTP_PERMISSIONS_carol: "appendonly",
  // permissions but no password: not a user
  GIT_ANNEX_P2PHTTP_PERMISSIONS_dave: "readonly",
  // an unknown permission word: full access, as git-annex ignores it
  GIT_ANNEX_P2PHTTP_PASSWORD_erin: "erin-secret",
  GIT_ANNEX_P2PHTTP_PERMISSIONS_erin: "ReadOnly",
  // an empty password is a password
  GIT_ANNEX_P2PHTTP_PASSWORD_frank: "",
  PATH: "/usr/bin",
};

/** git-annex's getAuthEnv, as the model's map. */
const AUTHENV = new Map<string, ServeMode>([
  ["alice\0alice-secret", "readwrite"],
  ["bob\0bob-secret", "readonly"],
  ["carol\0carol:secret", "appendonly"],
  ["erin\0erin-secret", "readwrite"],
  ["frank\0", "readwrite"],
]);

const CREDENTIALS: ReadonlyArray<readonly [string, Credentials | null]> = [
  ["no credentials", null],
  ["alice (readwrite)", { user: "alice", password: "alice-secret" }],
  ["bob (readonly)", { user: "bob", password: "bob-secret" }],
  ["carol (appendonly)", { user: "carol", password: "carol:secret" }],
  ["erin (bad permission word)", { user: "erin", password: "erin-secret" }],
  ["frank (empty password)", { user: "frank", password: "" }],
  ["alice, wrong password", { user: "alice", password: "nope" }],
  ["bob with alice's password", { user: "bob", password: "alice-secret" }],
  ["dave (permissions only)", { user: "dave", password: "" }],
  ["unknown user", { user: "mallory", password: "x" }],
];

const ACTIONS: readonly ActionClass[] = ["read", "write", "remove", "lock"];
const FLAG_NAMES = [
  "wideOpen",
  "unauthReadOnly",
  "unauthAppendOnly",
  "unauthNoLocking",
  "authEnv",
  "authEnvHttp",
] as const;

function allFlagSets(): Flags[] {
  const out: Flags[] = [];
  for (let bits = 0; bits < 1 << FLAG_NAMES.length; bits++) {
    const f = Object.fromEntries(FLAG_NAMES.map((n, i) => [n, (bits & (1 << i)) !== 0]));
    out.push(f as Flags);
  }
  return out;
}

function flagText(f: Flags): string {
  const on = FLAG_NAMES.filter((n) => f[n]);
  return on.length === 0 ? "(no flags)" : on.join(" ");
}

describe("Authorizer", () => {
  it("agrees with git-annex's rules on every combination", () => {
    let checked = 0;
    for (const flags of allFlagSets()) {
      const authorizer = new Authorizer(flags, ENV);
      for (const secure of [false, true]) {
        for (const [credName, creds] of CREDENTIALS) {
          for (const action of ACTIONS) {
            const want = checkAuthActionClass(
              mkGetServerMode(AUTHENV, flags, secure, creds),
              action,
            );
            const got = authorizer.decide(secure, creds, action);
            assert.deepEqual(
              got,
              want,
              `${flagText(flags)}, ${secure ? "https" : "http"}, ${credName}, ${action}`,
            );
            checked++;
          }
        }
      }
    }
    assert.equal(checked, 64 * 2 * CREDENTIALS.length * 4);
  });

  // Rows worked out by hand from the Haskell, so that the model above is not
  // the only witness.
  const ALICE = { user: "alice", password: "alice-secret" };
  const BOB = { user: "bob", password: "bob-secret" };
  const CAROL = { user: "carol", password: "carol:secret" };
  const WRONG = { user: "alice", password: "nope" };
  const rows: ReadonlyArray<
    readonly [AuthOptions, boolean, Credentials | null, ActionClass, AuthDecision]
  > = [
    [{}, false, null, "read", { allow: false, status: 401 }],
    [{}, false, ALICE, "read", { allow: false, status: 401 }],
    [{ wideOpen: true }, false, null, "remove", { allow: true, mode: "readwrite" }],
    [
      { wideOpen: true, unauthNoLocking: true },
      false,
      null,
      "lock",
      { allow: true, mode: "readwrite" },
    ],
    [{ unauthReadOnly: true }, false, null, "read", { allow: true, mode: "readonly" }],
    [{ unauthReadOnly: true }, false, null, "write", { allow: false, status: 403 }],
    [{ unauthReadOnly: true }, false, null, "lock", { allow: true, mode: "readonly" }],
    [
      { unauthReadOnly: true, unauthNoLocking: true },
      false,
      null,
      "lock",
      { allow: false, status: 403 },
    ],
    [
      { unauthReadOnly: true, authEnvHttp: true },
      false,
      null,
      "write",
      { allow: false, status: 401 },
    ],
    [{ unauthAppendOnly: true }, false, null, "write", { allow: true, mode: "appendonly" }],
    [{ unauthAppendOnly: true }, false, null, "remove", { allow: false, status: 403 }],
    [{ unauthAppendOnly: true }, false, null, "lock", { allow: true, mode: "readonly" }],
    [
      { unauthAppendOnly: true, unauthNoLocking: true },
      false,
      null,
      "lock",
      { allow: true, mode: "appendonly" },
    ],
    [
      { unauthAppendOnly: true, unauthReadOnly: true },
      false,
      null,
      "write",
      { allow: true, mode: "appendonly" },
    ],
    [
      { wideOpen: true, unauthReadOnly: true },
      false,
      null,
      "write",
      { allow: true, mode: "readwrite" },
    ],
    [{ authEnvHttp: true }, false, null, "read", { allow: false, status: 401 }],
    [{ authEnvHttp: true }, false, ALICE, "remove", { allow: true, mode: "readwrite" }],
    [{ authEnvHttp: true }, true, ALICE, "read", { allow: false, status: 401 }],
    [{ authEnv: true }, false, ALICE, "read", { allow: false, status: 401 }],
    [{ authEnv: true }, true, ALICE, "remove", { allow: true, mode: "readwrite" }],
    [{ authEnvHttp: true }, false, WRONG, "read", { allow: false, status: 401 }],
    [
      { authEnvHttp: true, unauthReadOnly: true },
      false,
      WRONG,
      "read",
      { allow: true, mode: "readonly" },
    ],
    // Bad credentials switch authentication off: refused outright.
    [
      { authEnvHttp: true, unauthReadOnly: true },
      false,
      WRONG,
      "write",
      { allow: false, status: 403 },
    ],
    [{ authEnvHttp: true }, false, BOB, "read", { allow: true, mode: "readonly" }],
    [{ authEnvHttp: true }, false, BOB, "write", { allow: false, status: 403 }],
    // An authenticated user never gets the unauthenticated locking allowance.
    [{ authEnvHttp: true }, false, BOB, "lock", { allow: false, status: 403 }],
    [{ authEnvHttp: true }, false, CAROL, "write", { allow: true, mode: "appendonly" }],
    [{ authEnvHttp: true }, false, CAROL, "lock", { allow: true, mode: "appendonly" }],
    [{ authEnvHttp: true }, false, CAROL, "remove", { allow: false, status: 403 }],
    // A readonly user on a wide-open server is held to readonly.
    [{ wideOpen: true, authEnvHttp: true }, false, BOB, "write", { allow: false, status: 403 }],
    [
      { wideOpen: true, authEnvHttp: true },
      false,
      WRONG,
      "write",
      { allow: true, mode: "readwrite" },
    ],
  ];
  for (const [opts, secure, creds, action, want] of rows) {
    const name = `${flagText({ ...Object.fromEntries(FLAG_NAMES.map((n) => [n, false])), ...opts } as Flags)}, ${secure ? "https" : "http"}, ${creds ? creds.user + (creds === WRONG ? " (wrong)" : "") : "anonymous"}, ${action}`;
    it(name, () => {
      assert.deepEqual(new Authorizer(opts, ENV).decide(secure, creds, action), want);
    });
  }

  it("reads users only when authentication is on", () => {
    const a = new Authorizer({ unauthReadOnly: true }, ENV);
    assert.deepEqual(a.decide(false, { user: "alice", password: "alice-secret" }, "write"), {
      allow: false,
      status: 403,
    });
  });
});

describe("usersFromEnv", () => {
  it("reads passwords and permissions as git-annex's getAuthEnv does", () => {
    const users = usersFromEnv(ENV);
    assert.deepEqual(
      [...users.entries()].sort(([a], [b]) => a.localeCompare(b)),
      [
        ["alice", { password: "alice-secret", mode: "readwrite" }],
        ["bob", { password: "bob-secret", mode: "readonly" }],
        ["carol", { password: "carol:secret", mode: "appendonly" }],
        ["erin", { password: "erin-secret", mode: "readwrite" }],
        ["frank", { password: "", mode: "readwrite" }],
      ],
    );
  });

  it("finds nothing in an environment without users", () => {
    assert.equal(usersFromEnv({ HOME: "/root", GIT_ANNEX_P2PHTTP_PASSWORD: "x" }).size, 0);
  });
});

describe("parseBasicAuth", () => {
  /** How git-annex's client writes the header (P2P/Http/Types.hs toHeader). */
  const gitAnnexHeader = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`)
      .toString("base64")
      .replace(/\+/g, "-")
      .replace(/\//g, "_")}`;

  const refused = (header: string) =>
    assert.throws(
      () => parseBasicAuth(header),
      (e: unknown) => {
        assert.ok(e instanceof HttpApiError, String(e));
        assert.equal(e.status, 400);
        assert.equal(
          e.message,
          "Error parsing header Authorization failed: invalid basic auth header",
        );
        return true;
      },
      header,
    );

  it("answers null for no header", () => {
    assert.equal(parseBasicAuth(undefined), null);
  });

  it("reads what git-annex's client sends, whatever the password", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 12 }).filter((u) => !u.includes(":")),
        fc.string({ unit: "grapheme", maxLength: 24 }),
        (user, password) => {
          assert.deepEqual(parseBasicAuth(gitAnnexHeader(user, password)), { user, password });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("reads base64url, which git-annex uses on both ends", () => {
    // "u:a>?>" is dTphPj8+ in standard base64, dTphPj8- in base64url.
    assert.deepEqual(parseBasicAuth("Basic dTphPj8-"), { user: "u", password: "a>?>" });
    assert.deepEqual(parseBasicAuth(gitAnnexHeader("u", "a~~~")), { user: "u", password: "a~~~" });
  });

  it("splits at the first colon; the password may hold more", () => {
    assert.deepEqual(parseBasicAuth(gitAnnexHeader("carol", "carol:secret")), {
      user: "carol",
      password: "carol:secret",
    });
    assert.deepEqual(parseBasicAuth(gitAnnexHeader("", "")), { user: "", password: "" });
  });

  it("takes text without a colon as a user with an empty password", () => {
    // git-annex: B.split ':' "v" = ["v"] -> Auth "v" ""
    assert.deepEqual(parseBasicAuth(`Basic ${Buffer.from("v").toString("base64")}`), {
      user: "v",
      password: "",
    });
  });

  it("matches the scheme without regard to case and skips spaces after it", () => {
    const b64 = Buffer.from("alice:pw").toString("base64");
    for (const h of [
      `Basic ${b64}`,
      `basic ${b64}`,
      `BASIC ${b64}`,
      `bAsIc   ${b64}`,
      `Basic\t${b64}`,
    ]) {
      assert.deepEqual(parseBasicAuth(h), { user: "alice", password: "pw" }, h);
    }
  });

  it("refuses with 400 what git-annex refuses", () => {
    // Each answered 400 by `git annex p2phttp` 10.20250416.
    for (const h of [
      "Bearer xyz",
      "Basic !!!",
      "Basic",
      "Basic ",
      "Basic dTphPj8+", // standard base64 alphabet
      "Basic dTphPj8", // unpadded
      "Basic dQ",
      "Basic dTphPj8-=", // wrong padding
      "Basic dTphPj8+ extra",
      "Digest username=alice",
      "",
      "Basicdg==",
    ]) {
      refused(h);
    }
  });
});
