/**
 * Which repository a git-annex-shell command line names, and whether
 * GIT_ANNEX_SHELL_DIRECTORY lets it be reached (CmdLine/GitAnnexShell/Checks.hs
 * checkDirectory).
 *
 * git-annex compares the two directories as text, collapsing ".." in
 * absolute and home-relative paths, and then opens the requested path as the
 * operating system resolves it, through symlinks. So with the allowed
 * directory ~/allowed, a request for ~/link/../allowed passes its check when
 * written absolutely and opens whatever is beside link's target. Here a ".."
 * in the requested path is never collapsed: such a path matches only an
 * allowed directory written the same way, and is refused otherwise, with the
 * message git-annex gives for a directory that differs.
 */
import { realpath } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, normalize } from "node:path";
import { ShellError } from "./shell-error.js";

export const DIRECTORY_ENV = "GIT_ANNEX_SHELL_DIRECTORY";

/**
 * A path with repeated and trailing slashes and "." segments dropped, and
 * ".." kept, as Haskell's `normalise` leaves it (it does not know symlinks).
 *
 * @example
 * cleanPath("/srv//a/./b/../c/") // "/srv/a/b/../c"
 */
export function cleanPath(p: string): string {
  const parts = p.split("/").filter((s) => s !== "" && s !== ".");
  const joined = parts.join("/");
  if (p.startsWith("/")) return `/${joined}`;
  return joined === "" ? "." : joined;
}

function hasDotDot(p: string): boolean {
  return p.split("/").includes("..");
}

/** "~/" and what follows for a path inside home, as git-annex's relHome shows it. */
function relHome(home: string, p: string): string {
  const h = cleanPath(home);
  if (p === h) return "~/";
  if (h === "/") return `~${p}`;
  return p.startsWith(`${h}/`) ? `~/${p.slice(h.length + 1)}` : p;
}

/**
 * How a directory is compared and shown: "~/…" as written, "/~/…" as
 * "~/…", anything else made absolute from home and shown home-relative.
 * `collapse` says whether ".." may be collapsed (only for the allowed
 * directory, which the administrator wrote).
 */
function canonDir(home: string, d: string, collapse: boolean): string {
  if (d.startsWith("~/")) return d;
  if (d.startsWith("/~/")) return d.slice(1);
  const abs = isAbsolute(d) ? d : `${home}/${d}`;
  const p = collapse || !hasDotDot(abs) ? normalize(abs) : cleanPath(abs);
  return relHome(home, p.length > 1 ? p.replace(/\/+$/, "") : p);
}

/** Haskell's equalFilePath: the same after `normalise`, ignoring a trailing slash. */
function sameDir(a: string, b: string): boolean {
  return cleanPath(a) === cleanPath(b);
}

/**
 * GIT_ANNEX_SHELL_DIRECTORY: refuse any directory but the one allowed.
 *
 * @throws ShellError "Only allowed to access A not D", as git-annex-shell.
 */
export function checkDirectory(env: NodeJS.ProcessEnv, dir: string | undefined): void {
  const allowed = env[DIRECTORY_ENV];
  if (allowed === undefined) return;
  const home = env.HOME ?? homedir();
  if (dir === undefined) {
    throw new ShellError(
      `Only allowed to access ${allowed} and could not determine directory from command line`,
    );
  }
  if (sameDir(allowed, dir)) return;
  const a = canonDir(home, allowed, true);
  const d = canonDir(home, dir, false);
  if (!sameDir(a, d)) throw new ShellError(`Only allowed to access ${a} not ${d}`);
}

/**
 * The repository a client names: absolute, or relative to the home
 * directory; a leading "~/" or "/~/" is the home directory. It is resolved
 * as the operating system resolves it (through symlinks, ".." after them),
 * as git-annex and git-shell open it, so content and git refs of one
 * command line always land in the same repository. A path that does not
 * exist is returned as written (the caller reports it).
 */
export async function repositoryPath(env: NodeJS.ProcessEnv, dir: string): Promise<string> {
  const home = env.HOME ?? homedir();
  let p: string;
  if (dir === "~" || dir === "/~") p = home;
  else if (dir.startsWith("~/")) p = `${home}/${dir.slice(2)}`;
  else if (dir.startsWith("/~/")) p = `${home}/${dir.slice(3)}`;
  else p = isAbsolute(dir) ? dir : `${home}/${dir}`;
  try {
    return await realpath(p);
  } catch {
    return p;
  }
}
