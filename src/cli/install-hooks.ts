/**
 * `annexgate install-hooks`: makes the gateway's post-receive hook run
 * `annexgate post-receive`, so a pushed tracking branch is exported.
 * Stock `git annex init` writes its own post-receive hook in a non-bare
 * repository (`git annex post-receive`, which exports to the first such
 * remote itself); that hook is replaced, since both must not export at
 * once. Any other hook is someone's own: it is left as it is, and the
 * command fails saying what line to add to it.
 */
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openGitHere, printError } from "./command.js";

/** What marks a hook as annexgate's. */
const MARK = "# automatically configured by annexgate";

/** git-annex's post-receive hooks, current and older (Annex/Hook.hs `postReceiveHook`). */
const STOCK_HOOKS = [
  "#!/bin/sh\n# automatically configured by git-annex\nif git annex post-receive --help >/dev/null 2>&1; then git annex post-receive; fi\n",
  "#!/bin/sh\n# automatically configured by git-annex\ngit annex post-receive\n",
];

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line that runs this installation's `annexgate post-receive`. */
export function postReceiveCommandLine(): string {
  const main = fileURLToPath(new URL("./main.js", import.meta.url));
  return `${shellQuote(process.execPath)} ${shellQuote(main)} post-receive`;
}

export function annexgateHook(): string {
  return `#!/bin/sh\n${MARK}\nexec ${postReceiveCommandLine()}\n`;
}

/** What to do with the hook file found: write ours, or leave a foreign one. */
export function hookAction(existing: string | null): "write" | "replace-stock" | "foreign" {
  if (existing === null || existing.includes(MARK)) return "write";
  return STOCK_HOOKS.includes(existing) ? "replace-stock" : "foreign";
}

export async function installHooksCommand(argv: readonly string[]): Promise<number> {
  parseArgs({ args: [...argv], allowPositionals: false, options: {} });
  const git = await openGitHere();
  const hooksDir = (await git.configGet("core.hooksPath")) ?? join(git.gitDir, "hooks");
  const file = join(hooksDir, "post-receive");
  const existing = await readFile(file, "utf8").catch(() => null);
  const action = hookAction(existing);
  if (action === "foreign") {
    printError(
      `the post-receive hook is not annexgate's nor git-annex's; left as it is. To export pushed branches, have it run: ${postReceiveCommandLine()} (the pushed refs on its stdin)`,
    );
    return 1;
  }
  const tmp = `${file}.annexgate-tmp`;
  await writeFile(tmp, annexgateHook());
  await chmod(tmp, 0o755);
  await rename(tmp, file);
  if (action === "replace-stock") {
    process.stdout.write(
      "install-hooks: replaced git-annex's post-receive hook: annexgate post-receive exports pushed branches now\n",
    );
  }
  process.stdout.write("install-hooks post-receive ok\n");
  return 0;
}
