/** `annexgate init [DESCRIPTION]`: make the git repository here a git-annex repository. */
import { parseArgs } from "node:util";
import { initRepository } from "../branch/index.js";
import { openGitHere } from "./command.js";
import { UsageError } from "./usage.js";

export async function initCommand(argv: readonly string[]): Promise<number> {
  const { positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: {} });
  if (positionals.length > 1) throw new UsageError("init takes at most one DESCRIPTION");
  const git = await openGitHere();
  const description = positionals[0];
  process.stdout.write("init ");
  const result = await initRepository(git, description !== undefined ? { description } : {});
  process.stdout.write(`${description ? `${description} ` : ""}ok\n`);
  process.stderr.write(`(uuid ${result.uuid})\n`);
  return 0;
}
