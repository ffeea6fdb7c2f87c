/**
 * How git-annex understands a git remote's location (Git/Remote.hs
 * `parseRemoteLocation`, Git/Construct.hs, Remote/Git.hs `list`,
 * `tweakurl`, `canproxy`): which transport reaches it, whether it is
 * "cheap" (local: default cost 100, else 200), and whether it can be a
 * proxy (only remotes reached through git-annex-shell or p2phttp can).
 */
import { isAbsolute, resolve } from "node:path";
import type { RemoteTransport } from "./types.js";

export interface Location {
  readonly transport: RemoteTransport;
  /** Not a URL: git-annex's `repoCheap`, which makes the default cost 100. */
  readonly cheap: boolean;
  /** Whether git-annex would let this remote proxy (`canproxy`, before the git-lfs check). */
  readonly canProxy: boolean;
}

const SSH_SCHEMES = new Set(["ssh:", "git+ssh:", "ssh+git:"]);
const URL_STYLE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Whether a URL is an annex+http(s) p2phttp URL (P2P/Http/Url.hs). */
export function isP2PHttpUrl(url: string): boolean {
  return url.startsWith("annex+http://") || url.startsWith("annex+https://");
}

/** `[user@]host:dir` → `ssh://[user@]host/dir`, with `~/` for relative dirs, as git-annex rewrites it. */
function scpToUrl(v: string): string {
  let host: string;
  let dir: string;
  if (v.startsWith("[")) {
    const close = v.indexOf("]");
    if (close < 0) {
      host = v;
      dir = "";
    } else {
      host = v.slice(0, close + 1);
      dir = v.slice(close + 1).replace(/^:/, "");
    }
  } else {
    const colon = v.indexOf(":");
    host = v.slice(0, colon);
    dir = v.slice(colon + 1);
  }
  const slashed =
    dir === "" ? "/~/" : dir.startsWith("/") ? dir : dir.startsWith("~") ? `/${dir}` : `/~/${dir}`;
  return `ssh://${host}${slashed}`;
}

function isScpStyle(v: string): boolean {
  const bracket = v.indexOf("[");
  const beforeBracket = bracket < 0 ? v : v.slice(0, bracket);
  return v.includes(":") && !v.includes("//") && !beforeBracket.includes("::");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function sshTransport(url: string): RemoteTransport {
  // git-annex reads the authority itself (user@host:port); the path goes
  // to git-annex-shell unescaped and untouched ("/~/x" stays so; the far
  // side takes it as relative to the home directory).
  const m = /^[^:]+:\/\/([^/]*)(.*)$/.exec(url);
  if (m === null) return { kind: "unsupported", reason: `cannot parse ssh URL ${url}` };
  const authority = m[1] ?? "";
  const path = safeDecode(m[2] ?? "");
  const at = authority.lastIndexOf("@");
  const user = at < 0 ? "" : authority.slice(0, at + 1);
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  const pm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  if (pm === null || (pm[1] ?? "") === "") {
    return { kind: "unsupported", reason: `cannot parse ssh URL ${url}` };
  }
  const host = `${user}${pm[1]}`;
  const port = pm[2] === undefined || pm[2] === "" ? undefined : Number(pm[2]);
  return port === undefined
    ? { kind: "ssh", host, path: path === "" ? "/" : path }
    : { kind: "ssh", host, port, path: path === "" ? "/" : path };
}

/**
 * The location of a git remote whose (already insteadOf-rewritten) URL is
 * `location`; relative paths are taken from `repoDir`. `p2phttpUrl` is the
 * remote's annex+http(s) URL when it has one (it takes precedence).
 */
export function parseLocation(
  location: string,
  repoDir: string,
  p2phttpUrl: string | null,
): Location {
  const base = baseLocation(location, repoDir);
  if (p2phttpUrl !== null) {
    return { transport: { kind: "p2phttp", url: p2phttpUrl }, cheap: base.cheap, canProxy: true };
  }
  return base;
}

function baseLocation(location: string, repoDir: string): Location {
  if (location.startsWith("gcrypt::")) {
    return {
      transport: { kind: "unsupported", reason: "gcrypt remote" },
      cheap: false,
      canProxy: false,
    };
  }
  if (location.startsWith("tor-annex::") || location.startsWith("p2p-annex::")) {
    return {
      transport: { kind: "unsupported", reason: "P2P address" },
      cheap: false,
      canProxy: false,
    };
  }
  if (isScpStyle(location)) {
    return { transport: sshTransport(scpToUrl(location)), cheap: false, canProxy: true };
  }
  if (URL_STYLE.test(location)) {
    const scheme = location.slice(0, location.indexOf(":") + 1).toLowerCase();
    if (scheme === "file:") {
      const path = safeDecode(location.replace(/^file:\/\/[^/]*/i, ""));
      return { transport: { kind: "local", path }, cheap: true, canProxy: false };
    }
    if (SSH_SCHEMES.has(scheme))
      return { transport: sshTransport(location), cheap: false, canProxy: true };
    return {
      transport: { kind: "unsupported", reason: `${scheme.slice(0, -1)} remote` },
      cheap: false,
      canProxy: true,
    };
  }
  const path = isAbsolute(location) ? location : resolve(repoDir, location);
  return { transport: { kind: "local", path }, cheap: true, canProxy: false };
}
