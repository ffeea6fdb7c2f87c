/**
 * `annexgate wanted REPO [EXPR]`, `required REPO [EXPR]` and
 * `groupwanted GROUP [EXPR]`: print or set a preferred content
 * expression, as the git-annex commands of the same names do (an
 * expression that does not parse is refused).
 */
import {
  type ContentLog,
  PREFERRED_CONTENT_LOG,
  REQUIRED_CONTENT_LOG,
  readContentExpressions,
  readGroupExpressions,
  recordContentExpression,
  recordGroupExpression,
} from "../branch/index.js";
import { checkPreferredContentExpression } from "../preferred-content/index.js";
import { withRepository } from "./command.js";
import { nameToUuid, repositoryNames } from "./repositories.js";
import { UsageError } from "./usage.js";

function checked(expr: string): string {
  const e = checkPreferredContentExpression(expr);
  if (e !== null) throw new UsageError(`Parse error: ${e}`);
  return expr;
}

function expressionCommand(name: string, log: ContentLog) {
  return async (argv: readonly string[]): Promise<number> => {
    if (argv.length < 1 || argv.length > 2) throw new UsageError("Specify a repository.");
    const [repo = "", expr] = argv;
    return withRepository(async (here) => {
      const uuid = nameToUuid(await repositoryNames(here.git, here.branch), repo);
      if (expr === undefined) {
        process.stdout.write(
          `${(await readContentExpressions(here.branch, log)).get(uuid) ?? ""}\n`,
        );
      } else {
        await recordContentExpression(here.branch, log, uuid, checked(expr));
        process.stdout.write(`${name} ${repo} ok\n`);
      }
      return 0;
    });
  };
}

export const wantedCommand = expressionCommand("wanted", PREFERRED_CONTENT_LOG);
export const requiredCommand = expressionCommand("required", REQUIRED_CONTENT_LOG);

export async function groupwantedCommand(argv: readonly string[]): Promise<number> {
  if (argv.length < 1 || argv.length > 2) throw new UsageError("Specify a group.");
  const [group = "", expr] = argv;
  return withRepository(async (here) => {
    if (expr === undefined) {
      process.stdout.write(`${(await readGroupExpressions(here.branch)).get(group) ?? ""}\n`);
    } else {
      await recordGroupExpression(here.branch, group, checked(expr));
      process.stdout.write(`groupwanted ${group} ok\n`);
    }
    return 0;
  });
}
