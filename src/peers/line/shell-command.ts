import type { SpawnSpec } from "./connection.js";

/**
 * The command git-annex runs to reach a repository: `git-annex-shell
 * p2pstdio DIR CLIENTUUID [--uuid UUID]`, locally, or through `ssh HOST -T`
 * with the remote command quoted for the far side's shell.
 *
 * @example
 * const spec = gitAnnexShellCommand({ host: "gw", dir: "/srv/annex", clientUuid, uuid });
 * const peer = new LinePeer({ ...spec, uuid });
 */
export function gitAnnexShellCommand(o: {
  readonly dir: string;
  readonly clientUuid: string;
  readonly uuid?: string;
  /** Reach it over ssh at this host (`user@host` allowed). */
  readonly host?: string;
  /** Options for ssh before the host (e.g. ["-p", "2222"]). */
  readonly sshOptions?: readonly string[];
  /** The ssh program (default "ssh"). */
  readonly ssh?: string;
  /** The shell program (default "git-annex-shell"). */
  readonly shell?: string;
}): SpawnSpec {
  const shell = o.shell ?? "git-annex-shell";
  const uuidCheck = o.uuid !== undefined ? ["--uuid", o.uuid] : [];
  if (o.host === undefined) {
    return { command: shell, args: ["p2pstdio", o.dir, o.clientUuid, ...uuidCheck] };
  }
  // As git-annex words it (Remote/Helper/Ssh.hs): the program bare (a
  // git-annex-shell used as login shell looks for "git-annex-shell " at the
  // start), its parameters quoted for the far side's shell.
  const quote = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
  const remote = [shell, ...["p2pstdio", o.dir, o.clientUuid].map(quote), ...uuidCheck.map(quote)];
  return {
    command: o.ssh ?? "ssh",
    args: [...(o.sshOptions ?? []), o.host, "-T", remote.join(" ")],
  };
}
