/**
 * `annexgate group REPO [GROUP]` and `ungroup REPO GROUP`: list a
 * repository's groups, or add it to (remove it from) one, as git-annex does.
 */
import { readGroups, recordGroups } from "../branch/index.js";
import { nameToUuid, withRepository } from "./repository.js";
import { UsageError } from "./usage.js";

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export async function groupCommand(argv: readonly string[]): Promise<number> {
  if (argv.length < 1 || argv.length > 2) throw new UsageError("Specify a repository and a group.");
  const [repo = "", group] = argv;
  return withRepository(async (here) => {
    const uuid = await nameToUuid(here, repo);
    const groups = new Set((await readGroups(here.branch)).get(uuid) ?? []);
    if (group === undefined) {
      process.stdout.write(`${[...groups].sort(byBytes).join(" ")}\n`);
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
    const uuid = await nameToUuid(here, repo);
    const groups = new Set((await readGroups(here.branch)).get(uuid) ?? []);
    groups.delete(group);
    await recordGroups(here.branch, uuid, groups);
    process.stdout.write(`ungroup ${repo} ok\n`);
    return 0;
  });
}
