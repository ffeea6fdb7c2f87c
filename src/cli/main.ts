#!/usr/bin/env node
/**
 * The `annexgate` command. Sub-command names and flags mirror git-annex's.
 * This is the only place that wires layers together.
 */
import { AnnexgateError } from "../errors.js";
import { P2PHTTP_HELP } from "./p2phttp-help.js";
import { UsageError } from "./usage.js";

type Command = (argv: readonly string[]) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: git-annex-shell is
 * started for every ssh login, and loading every layer for a configlist
 * would be most of its start-up time.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  extendcluster: async () => (await import("./cluster-config.js")).extendClusterCommand,
  group: async () => (await import("./group.js")).groupCommand,
  groupwanted: async () => (await import("./wanted.js")).groupwantedCommand,
  info: async () => (await import("./info.js")).infoCommand,
  init: async () => (await import("./init.js")).initCommand,
  "install-hooks": async () => (await import("./install-hooks.js")).installHooksCommand,
  initcluster: async () => (await import("./cluster-config.js")).initClusterCommand,
  matchexpression: async () => (await import("./matchexpression.js")).matchexpressionCommand,
  maxsize: async () => (await import("./maxsize.js")).maxsizeCommand,
  mincopies: async () => (await import("./numcopies.js")).mincopiesCommand,
  numcopies: async () => (await import("./numcopies.js")).numcopiesCommand,
  p2phttp: async () => (await import("./p2phttp.js")).p2phttpCommand,
  "post-receive": async () => (await import("./post-receive.js")).postReceiveCommand,
  required: async () => (await import("./wanted.js")).requiredCommand,
  sim: async () => (await import("./sim.js")).simCommand,
  shell: async () => (await import("./shell.js")).shellCommand,
  ungroup: async () => (await import("./group.js")).ungroupCommand,
  updatecluster: async () => (await import("./cluster-config.js")).updateClusterCommand,
  updateproxy: async () => (await import("./cluster-config.js")).updateProxyCommand,
  wanted: async () => (await import("./wanted.js")).wantedCommand,
};

const HELP = `usage: annexgate COMMAND [OPTIONS]

serving:
  init [DESCRIPTION]   make the git repository here a git-annex repository
${P2PHTTP_HELP}
  shell ARGS           a drop-in for git-annex-shell (the package's
                       git-annex-shell runs this): p2pstdio DIR UUID
                       [--uuid UUID], configlist DIR,
                       git-upload-pack/receive-pack DIR

proxies and clusters:
  initcluster NAME [DESCRIPTION]
                       make this repository the gateway of a new cluster
  updatecluster        record the nodes of this repository's clusters
  updateproxy          record the remotes this repository proxies for
  extendcluster GATEWAY CLUSTERNAME
                       add this repository as a gateway of GATEWAY's cluster

export remotes:
  install-hooks        make the post-receive hook export pushed tracking
                       branches (replaces git-annex's own hook, never another)
  post-receive         what that hook runs: export the pushed branches to the
                       export remotes with annex-tracking-branch

preferred content:
  wanted REPO [EXPR]   print or set a repository's preferred content
  required REPO [EXPR] print or set a repository's required content
  group REPO [GROUP]   list a repository's groups, or add it to GROUP
  ungroup REPO GROUP   remove a repository from GROUP
  groupwanted GROUP [EXPR]
                       print or set a group's groupwanted expression
  numcopies [N], mincopies [N]
                       print or set numcopies / mincopies
  matchexpression EXPR [--file F] [--key K] [--size S] [--largefiles]
                       [--mimetype M] [--mimeencoding E] [--batch]
                       does a preferred content expression match, for the
                       repository here (exit 0 yes, 1 no, 42 not enough data)

simulation (as git annex sim):
  sim start [FILE]     start a sim, applying FILE's commands
  sim COMMAND...       apply one sim command to the started sim
  sim show             print the started sim's log, a sim file to replay
  sim end              end the started sim
  sim run FILE         start a sim from FILE, then end it
  sim run|report --from REPO FILE
                       the same, starting from REPO's repositories,
                       configuration and files where its logs put them
  sim report [--html PAGE] [FILE]
                       what the started sim (or FILE, run) did: stable or
                       not and why, fill against maxsize, what moved; PAGE
                       gets the same with charts, a self-contained page

sizes:
  info [--json] [--bytes]
                       sizes of the repositories (from location logs)
  maxsize [REPOSITORY [SIZE]] [--bytes] [--json]
                       show repository sizes and maximum sizes, or record
                       a maximum size ("100gb", "1.5 TiB")
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(HELP);
    return name === undefined ? 1 : 0;
  }
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command ${name}\n\n${HELP}`);
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof AnnexgateError ||
      (err as { code?: string })?.code?.startsWith("ERR_PARSE_ARGS")
    ) {
      process.stderr.write(`annexgate: ${(err as Error).message}\n`);
    } else {
      process.stderr.write(`annexgate: ${String((err as Error)?.stack ?? err)}\n`);
    }
    process.exitCode = 1;
  },
);
