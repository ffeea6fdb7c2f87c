/**
 * `use NAME WHAT` in `annexgate sim`: the configuration of a repository
 * this repository knows (Command/Sim.hs mkGetExistingRepoByName), read
 * from the git-annex branch before the sim runs, since the engine asks
 * for it synchronously.
 */
import {
  PREFERRED_CONTENT_LOG,
  REQUIRED_CONTENT_LOG,
  readContentExpressions,
  readGroupExpressions,
  readGroups,
  readMaxSizes,
  readRemoteConfigs,
  readTrustLevels,
} from "../branch/index.js";
import { AnnexgateError } from "../errors.js";
import type { ExistingRepo } from "../sim/index.js";
import { withRepository } from "./command.js";
import { nameToUuid, repositoryNames } from "./repositories.js";

export type ExistingRepos = (what: string) => ExistingRepo | { readonly error: string };

/** Reads what `use` needs of every repository known here, once. */
export async function loadExistingRepos(): Promise<ExistingRepos> {
  return withRepository(
    async ({ git, branch }) => {
      const names = await repositoryNames(git, branch);
      const groups = await readGroups(branch);
      const trust = await readTrustLevels(branch);
      const wanted = await readContentExpressions(branch, PREFERRED_CONTENT_LOG);
      const required = await readContentExpressions(branch, REQUIRED_CONTENT_LOG);
      const groupWanted = await readGroupExpressions(branch);
      const maxSizes = await readMaxSizes(branch);
      const special = await readRemoteConfigs(branch);
      return (what: string) => {
        let uuid: string;
        try {
          uuid = nameToUuid(names, what);
        } catch (e) {
          // git-annex's reason is the name lookup's own message
          if (e instanceof AnnexgateError) return { error: e.message };
          throw e;
        }
        const gs = [...(groups.get(uuid) ?? [])];
        const size = maxSizes.get(uuid);
        return {
          uuid,
          special: special.has(uuid),
          groups: gs,
          trust: trust.get(uuid) ?? "semitrusted",
          ...(wanted.has(uuid) ? { wanted: wanted.get(uuid) as string } : {}),
          ...(required.has(uuid) ? { required: required.get(uuid) as string } : {}),
          groupWanted: new Map(
            gs.flatMap((g) => {
              const e = groupWanted.get(g);
              return e === undefined ? [] : [[g, e] as const];
            }),
          ),
          ...(size === undefined ? {} : { maxSize: Number(size) }),
        };
      };
    },
    { needsUuid: false },
  );
}
