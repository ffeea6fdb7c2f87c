#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
/**
 * The `annexgate` command. Sub-command names and flags mirror git-annex's.
 * This is the only place that wires layers together.
 */
import { AnnexgateError } from "../errors.js";
import { type OptionTable, optionsHelp } from "./options.js";
import { P2PHTTP_OPTIONS, P2PHTTP_SUMMARY } from "./p2phttp-help.js";
import { UsageError } from "./usage.js";

type Command = (argv: readonly string[]) => Promise<number>;

interface CommandEntry {
  /** Its lines in the help: how it is called (two spaces in), then what it does. */
  readonly help: string;
  /**
   * Its module is loaded only when it runs: git-annex-shell is started for
   * every ssh login, and loading every layer for a configlist would be
   * most of its start-up time.
   */
  readonly load: () => Promise<Command>;
  /** The flags its parser reads, for `annexgate COMMAND --help`. */
  readonly options?: () => Promise<OptionTable>;
}

const COMMANDS: Record<string, CommandEntry> = {
  init: {
    help: "  init [DESCRIPTION]   make the git repository here a git-annex repository",
    load: async () => (await import("./init.js")).initCommand,
  },
  p2phttp: {
    help: P2PHTTP_SUMMARY,
    load: async () => (await import("./p2phttp.js")).p2phttpCommand,
    options: async () => P2PHTTP_OPTIONS,
  },
  shell: {
    help: `  shell ARGS           a drop-in for git-annex-shell (the package's
                       git-annex-shell runs this): p2pstdio DIR UUID
                       [--uuid UUID], configlist DIR,
                       git-upload-pack/receive-pack DIR`,
    load: async () => (await import("./shell.js")).shellCommand,
  },
  initcluster: {
    help: `  initcluster NAME [DESCRIPTION]
                       make this repository the gateway of a new cluster`,
    load: async () => (await import("./cluster-config.js")).initClusterCommand,
  },
  updatecluster: {
    help: "  updatecluster        record the nodes of this repository's clusters",
    load: async () => (await import("./cluster-config.js")).updateClusterCommand,
  },
  updateproxy: {
    help: "  updateproxy          record the remotes this repository proxies for",
    load: async () => (await import("./cluster-config.js")).updateProxyCommand,
  },
  extendcluster: {
    help: `  extendcluster GATEWAY CLUSTERNAME
                       add this repository as a gateway of GATEWAY's cluster`,
    load: async () => (await import("./cluster-config.js")).extendClusterCommand,
  },
  "install-hooks": {
    help: `  install-hooks        make the post-receive hook export pushed tracking
                       branches (replaces git-annex's own hook, never another)`,
    load: async () => (await import("./install-hooks.js")).installHooksCommand,
  },
  "post-receive": {
    help: `  post-receive         what that hook runs: export the pushed branches to the
                       export remotes with annex-tracking-branch`,
    load: async () => (await import("./post-receive.js")).postReceiveCommand,
  },
  wanted: {
    help: "  wanted REPO [EXPR]   print or set a repository's preferred content",
    load: async () => (await import("./wanted.js")).wantedCommand,
  },
  required: {
    help: "  required REPO [EXPR] print or set a repository's required content",
    load: async () => (await import("./wanted.js")).requiredCommand,
  },
  group: {
    help: "  group REPO [GROUP]   list a repository's groups, or add it to GROUP",
    load: async () => (await import("./group.js")).groupCommand,
  },
  ungroup: {
    help: "  ungroup REPO GROUP   remove a repository from GROUP",
    load: async () => (await import("./group.js")).ungroupCommand,
  },
  groupwanted: {
    help: `  groupwanted GROUP [EXPR]
                       print or set a group's groupwanted expression`,
    load: async () => (await import("./wanted.js")).groupwantedCommand,
  },
  numcopies: {
    help: "  numcopies [N]        print or set numcopies",
    load: async () => (await import("./numcopies.js")).numcopiesCommand,
  },
  mincopies: {
    help: "  mincopies [N]        print or set mincopies",
    load: async () => (await import("./numcopies.js")).mincopiesCommand,
  },
  matchexpression: {
    help: `  matchexpression EXPR [OPTIONS]
                       does a preferred content expression match, for the
                       repository here (exit 0 yes, 1 no, 42 not enough data)`,
    load: async () => (await import("./matchexpression.js")).matchexpressionCommand,
    options: async () => (await import("./matchexpression.js")).MATCHEXPRESSION_OPTIONS,
  },
  sim: {
    help: `  sim start [FILE]     start a sim, applying FILE's commands
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
                       gets the same with charts, a self-contained page`,
    load: async () => (await import("./sim.js")).simCommand,
  },
  info: {
    help: `  info [OPTIONS]       sizes of the repositories (from location logs)`,
    load: async () => (await import("./info.js")).infoCommand,
    options: async () => (await import("./info.js")).INFO_OPTIONS,
  },
  maxsize: {
    help: `  maxsize [REPOSITORY [SIZE]] [OPTIONS]
                       show repository sizes and maximum sizes, or record
                       a maximum size ("100gb", "1.5 TiB")`,
    load: async () => (await import("./maxsize.js")).maxsizeCommand,
    options: async () => (await import("./maxsize.js")).MAXSIZE_OPTIONS,
  },
};

const SECTIONS: readonly (readonly [string, readonly string[]])[] = [
  ["serving", ["init", "p2phttp", "shell"]],
  ["proxies and clusters", ["initcluster", "updatecluster", "updateproxy", "extendcluster"]],
  ["export remotes", ["install-hooks", "post-receive"]],
  [
    "preferred content",
    [
      "wanted",
      "required",
      "group",
      "ungroup",
      "groupwanted",
      "numcopies",
      "mincopies",
      "matchexpression",
    ],
  ],
  ["simulation (as git annex sim)", ["sim"]],
  ["sizes", ["info", "maxsize"]],
];

/** `annexgate --help`, written only when asked for (not at every ssh login's start). */
function overview(): string {
  const sections = SECTIONS.map(
    ([title, names]) => `\n${title}:\n${names.map((n) => COMMANDS[n]?.help ?? "").join("\n")}\n`,
  );
  return `usage: annexgate COMMAND [OPTIONS]
       annexgate COMMAND --help     that command's options
       annexgate --version
${sections.join("")}`;
}

/** `annexgate COMMAND --help`: how it is called, and every flag its parser reads. */
async function commandHelp(entry: CommandEntry): Promise<string> {
  const table = entry.options ? await entry.options() : {};
  const flags = Object.keys(table).length > 0 ? `\noptions:\n${optionsHelp(table)}\n` : "";
  return `usage:\n${entry.help}\n${flags}`;
}

/** This package's version, from its package.json (two folders above dist/src). */
function version(): string {
  const file = fileURLToPath(new URL("../../../package.json", import.meta.url));
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(overview());
    return name === undefined ? 1 : 0;
  }
  if (name === "--version" || name === "version") {
    process.stdout.write(`annexgate ${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) throw new UsageError(`unknown command ${name}\n\n${overview()}`);
  if (rest.includes("--help") || rest[0] === "-h") {
    process.stdout.write(await commandHelp(entry));
    return 0;
  }
  return (await entry.load())(rest);
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
