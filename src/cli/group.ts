/**
 * `annexgate group REPO [GROUP]` and `ungroup REPO GROUP`: list a
 * repository's groups, or add it to (remove it from) one, as git-annex does.
 */
import { byteOrder, readGroups, recordGroups } from "../branch/index.js";
import { withRepository } from "./command.js";
import { nameToUuid, repositoryNames } from "./repositories.js";
import { UsageError } from "./usage.js";

export async function groupCommand(argv: readonly string[]): Promise<number> {
  if (argv.length < 1 || argv.length > 2) throw new UsageError("Specify a repository and a group.");
  const [repo = "", group] = argv;
  return withRepository(async (here) => {
    const uuid = nameToUuid(await repositoryNames(here.git, here.branch), repo);
    const groups = new Set((await readGroups(here.branch)).get(uuid) ?? []);
    if (group === undefined) {
      process.stdout.write(`${[...groups].sort(byteOrder).join(" ")}\n`);
      return 0;
    }
    if (group === "" || /\s/.test(group))
      throw new UsageError(`bad group name ${JSON.stringify(group)}`);
    groups.add(group);
    await recordGroups(here.branch, uuid, groups);
    process.stdout.write(`group ${repo} ok\n`);
    return 0;
  });
}

export async function ungroupCommand(argv: readonly string[]): Promise<number> {
  if (argv.length !== 2) throw new UsageError("Specify a repository and a group.");
  const [repo = "", group = ""] = argv;
  return withRepository(async (here) => {
    const uuid = nameToUuid(await repositoryNames(here.git, here.branch), repo);
    const groups = new Set((await readGroups(here.branch)).get(uuid) ?? []);
    groups.delete(group);
    await recordGroups(here.branch, uuid, groups);
    process.stdout.write(`ungroup ${repo} ok\n`);
    return 0;
  });
}
