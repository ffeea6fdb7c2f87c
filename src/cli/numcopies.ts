/**
 * `annexgate numcopies [N]` and `mincopies [N]`: print or set the
 * repository-wide values in numcopies.log / mincopies.log, as git-annex does.
 */
import { MINCOPIES_LOG, NUMCOPIES_LOG, readCopies, recordCopies } from "../branch/index.js";
import { readishInt } from "../sizes/index.js";
import { withRepository } from "./command.js";
import { UsageError } from "./usage.js";

function copiesCommand(
  name: "numcopies" | "mincopies",
  log: typeof NUMCOPIES_LOG | typeof MINCOPIES_LOG,
) {
  return async (argv: readonly string[]): Promise<number> => {
    if (argv.length > 1) throw new UsageError("Specify a single number.");
    const [text] = argv;
    let n: number | undefined;
    if (text !== undefined) {
      const v = readishInt(text);
      if (v === null) throw new UsageError(`Bad number: ${text}`);
      if (v === 0) throw new UsageError(`Cannot set ${name} to 0.`);
      if (v < 0) throw new UsageError(`${name} cannot be negative!`);
      n = v;
    }
    return withRepository(async (here) => {
      if (n === undefined) {
        const v = await readCopies(here.branch, log);
        process.stdout.write(v === null ? `global ${name} is not set\n(default is 1)\n` : `${v}\n`);
      } else {
        await recordCopies(here.branch, log, n);
        process.stdout.write(`${name} ${n} ok\n`);
      }
      return 0;
    });
  };
}

export const numcopiesCommand = copiesCommand("numcopies", NUMCOPIES_LOG);
export const mincopiesCommand = copiesCommand("mincopies", MINCOPIES_LOG);
