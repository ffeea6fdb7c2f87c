/**
 * `use NAME WHAT` in `annexgate sim`: the configuration of a repository
 * this repository knows (Command/Sim.hs mkGetExistingRepoByName), read
 * from the git-annex branch before the sim runs, since the engine asks
 * for it synchronously.
 */
import {
  type AnnexBranch,
  PREFERRED_CONTENT_LOG,
  REQUIRED_CONTENT_LOG,
  readContentExpressions,
  readGroupExpressions,
  readGroups,
  readMaxSizes,
  readRemoteConfigs,
  readTrustLevels,
  type TrustLevel,
} from "../branch/index.js";
import { AnnexgateError } from "../errors.js";
import type { ExistingRepo } from "../sim/index.js";
import { withRepository } from "./command.js";
import { nameToUuid, repositoryNames } from "./repositories.js";

export type ExistingRepos = (what: string) => ExistingRepo | { readonly error: string };

/** What the branch says of every repository's configuration. */
export interface BranchConfigs {
  readonly groups: ReadonlyMap<string, ReadonlySet<string>>;
  readonly trust: ReadonlyMap<string, TrustLevel>;
  readonly wanted: ReadonlyMap<string, string>;
  readonly required: ReadonlyMap<string, string>;
  readonly groupWanted: ReadonlyMap<string, string>;
  readonly maxSizes: ReadonlyMap<string, bigint>;
  /** Special remotes (their remote.log entries). */
  readonly special: ReadonlySet<string>;
}

export async function readBranchConfigs(branch: AnnexBranch): Promise<BranchConfigs> {
  return {
    groups: await readGroups(branch),
    trust: await readTrustLevels(branch),
    wanted: await readContentExpressions(branch, PREFERRED_CONTENT_LOG),
    required: await readContentExpressions(branch, REQUIRED_CONTENT_LOG),
    groupWanted: await readGroupExpressions(branch),
    maxSizes: await readMaxSizes(branch),
    special: new Set((await readRemoteConfigs(branch)).keys()),
  };
}

/** One repository's configuration, as Sim.hs `SimRepoConfig` has it. */
export function existingRepoOf(c: BranchConfigs, uuid: string): ExistingRepo {
  const gs = [...(c.groups.get(uuid) ?? [])];
  const size = c.maxSizes.get(uuid);
  const wanted = c.wanted.get(uuid);
  const required = c.required.get(uuid);
  return {
    uuid,
    special: c.special.has(uuid),
    groups: gs,
    trust: c.trust.get(uuid) ?? "semitrusted",
    ...(wanted !== undefined ? { wanted } : {}),
    ...(required !== undefined ? { required } : {}),
    groupWanted: new Map(
      gs.flatMap((g) => {
        const e = c.groupWanted.get(g);
        return e === undefined ? [] : [[g, e] as const];
      }),
    ),
    ...(size === undefined ? {} : { maxSize: Number(size) }),
  };
}

/** Reads what `use` needs of every repository known here, once. */
export async function loadExistingRepos(): Promise<ExistingRepos> {
  return withRepository(
    async ({ git, branch }) => {
      const names = await repositoryNames(git, branch);
      const configs = await readBranchConfigs(branch);
      return (what: string) => {
        let uuid: string;
        try {
          uuid = nameToUuid(names, what);
        } catch (e) {
          // git-annex's reason is the name lookup's own message
          if (e instanceof AnnexgateError) return { error: e.message };
          throw e;
        }
        return existingRepoOf(configs, uuid);
      };
    },
    { needsUuid: false },
  );
}
