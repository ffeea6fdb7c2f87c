/**
 * `annexgate info [--json] [--bytes]`: the repository-size part of
 * `git annex info` (Command/Info.hs): the combined size of all
 * repositories and each one's size, largest first, dead ones and empty
 * ones left out.
 *
 * The journal is committed first (as `git annex info` does), so the sizes
 * are computed at, and cached for, the branch commit that holds it: the
 * next `info` finds them cached and reads neither journal nor logs.
 * `--debug` says on stderr how the sizes were arrived at.
 */
import { currentRepoSizes, deadRepositories } from "../policy/index.js";
import { roughSize } from "../sizes/index.js";
import { NO_UUID_NEEDED, withRepository, writeJson } from "./command.js";
import { type OptionTable, parseOptions } from "./options.js";
import { describe, jsonRepository, repositoryNames, sizesProgress } from "./repositories.js";
import { UsageError } from "./usage.js";

export const INFO_OPTIONS = {
  bytes: { type: "boolean", help: "sizes in bytes, not rounded to units" },
  json: { type: "boolean", help: "one JSON object, as git annex info --json" },
  debug: { type: "boolean", help: "say on stderr how the sizes were arrived at" },
} as const satisfies OptionTable;

export async function infoCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, INFO_OPTIONS, true);
  if (positionals.length > 0) {
    throw new UsageError("info shows the whole repository only (no file or remote arguments yet)");
  }
  return withRepository(async ({ git, branch }) => {
    await branch.commit();
    const names = await repositoryNames(git, branch);
    const progress = sizesProgress();
    const report = await currentRepoSizes(git, progress);
    progress.done();
    if (values.debug === true) {
      process.stderr.write(
        `[annexgate] repository sizes: how=${report.how} commit=${report.commit ?? "none"} ` +
          `journal-logs=${report.journalLogs}\n`,
      );
    }
    const { sizes } = report;
    const dead = await deadRepositories(git);
    const rows = [...sizes]
      .filter(([u, n]) => n > 0n && !dead.has(u))
      .sort(([ua, a], [ub, b]) => (a !== b ? (a > b ? -1 : 1) : ua < ub ? -1 : ua > ub ? 1 : 0));
    const total = rows.reduce((s, [, n]) => s + n, 0n);
    const bytes = values.bytes === true;
    const short = (n: bigint) => (bytes ? n.toString() : roughSize(n, { short: true }));
    const long = (n: bigint) => (bytes ? n.toString() : roughSize(n));
    if (values.json === true) {
      writeJson({
        "annex sizes of repositories": rows.map(([u, n]) =>
          jsonRepository(names, u, { size: short(n) }),
        ),
        "combined annex size of all repositories": long(total),
        command: "info",
        "error-messages": [],
        input: [],
        success: true,
      });
      return 0;
    }
    const shown = rows.map(([u, n]) => [u, short(n)] as const);
    const width = Math.max(0, ...shown.map(([, s]) => s.length));
    const list = shown.map(([u, s]) => `\n\t${s.padStart(width)}: ${describe(names, u)}`);
    process.stdout.write(
      `combined annex size of all repositories: ${long(total)}\n` +
        `annex sizes of repositories: ${list.join("")}\n`,
    );
    return 0;
  }, NO_UUID_NEEDED);
}
