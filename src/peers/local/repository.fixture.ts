/**
 * A git-annex repository in a temporary directory for one suite of tests:
 * made and opened before them, closed and removed after them. Several
 * suites over a real repository start from exactly this.
 */
import { after, before } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { type LocalRepository, openLocalRepository } from "./repository.js";

export interface OpenedRepository {
  /** The repository's directory. */
  readonly dir: string;
  readonly repo: LocalRepository;
}

/**
 * Registers the suite's hooks (call it inside `describe`); the fields may
 * be read once its `before` hook has run.
 *
 * @example
 * const fx = openedRepository("annexgate-batcher-", "gateway");
 * it("...", async () => { await locationsOf(fx.repo.branch, key); });
 */
export function openedRepository(prefix: string, description: string): OpenedRepository {
  let opened: OpenedRepository | undefined;
  before(async () => {
    const dir = await makeTempDir(prefix);
    await gitAnnexRepo(dir, description);
    opened = { dir, repo: await openLocalRepository(dir, { commitDelayMs: 50 }) };
  });
  after(async () => {
    if (opened === undefined) return;
    await opened.repo.close();
    await removeDir(opened.dir);
  });
  const now = (): OpenedRepository => {
    if (opened === undefined)
      throw new Error("openedRepository: used before its before() hook ran");
    return opened;
  };
  return {
    get dir() {
      return now().dir;
    },
    get repo() {
      return now().repo;
    },
  };
}
