#!/usr/bin/env node
/**
 * The `annexgate` command. Sub-command names and flags mirror git-annex's.
 * This is the only place that wires layers together.
 */
import { AnnexgateError } from "../errors.js";
import { groupCommand, ungroupCommand } from "./group.js";
import { initCommand } from "./init.js";
import { matchexpressionCommand } from "./matchexpression.js";
import { mincopiesCommand, numcopiesCommand } from "./numcopies.js";
import { p2phttpCommand } from "./p2phttp.js";
import { shellCommand } from "./shell.js";
import { UsageError } from "./usage.js";
import { groupwantedCommand, requiredCommand, wantedCommand } from "./wanted.js";

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  group: groupCommand,
  groupwanted: groupwantedCommand,
  init: initCommand,
  matchexpression: matchexpressionCommand,
  mincopies: mincopiesCommand,
  numcopies: numcopiesCommand,
  p2phttp: p2phttpCommand,
  required: requiredCommand,
  shell: shellCommand,
  ungroup: ungroupCommand,
  wanted: wantedCommand,
};

const HELP = `usage: annexgate COMMAND [OPTIONS]

commands:
  group REPO [GROUP]   list a repository's groups, or add it to GROUP
  groupwanted GROUP [EXPR]  print or set a group's groupwanted expression
  init [DESCRIPTION]   make the git repository here a git-annex repository
  matchexpression EXPR [--file F] [--key K] [--size S] [--largefiles]
                       [--mimetype M] [--mimeencoding E] [--batch]
                       does a preferred content expression match, for the
                       repository here (exit 0 yes, 1 no, 42 not enough data)
  numcopies [N], mincopies [N]  print or set numcopies / mincopies
  p2phttp [OPTIONS]    serve this repository (or --directory DIR) over the
                       p2phttp API: --port --bind --socket --jobs --wideopen
                       --unauth-readonly --unauth-appendonly --unauth-nolocking
                       --authenv --authenv-http --certfile --privatekeyfile
                       --chainfile --directory
  required REPO [EXPR] print or set a repository's required content
  shell ARGS           a drop-in for git-annex-shell (the package's
                       git-annex-shell runs this): p2pstdio DIR UUID,
                       configlist DIR, git-upload-pack/receive-pack DIR
  ungroup REPO GROUP   remove a repository from GROUP
  wanted REPO [EXPR]   print or set a repository's preferred content
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(HELP);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command ${name}\n\n${HELP}`);
  return command(rest);
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
