/**
 * This checkout as a user installs it: `npm pack` of it, then `npm install`
 * of the tarball in a clean project directory (packages from npm's cache,
 * as the suite's own `npm ci` left them), for tests of the installed
 * package (its commands, its `annexgate/client` entry point).
 */
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { run } from "./index.js";
import { ANNEXGATE_BIN } from "./servers.js";

/** The checkout the tests were built from (dist/src/cli/main.js is three levels below it). */
export const CHECKOUT = resolve(dirname(ANNEXGATE_BIN), "..", "..", "..");

/**
 * Packs the checkout into `dir` and installs the tarball in a new project
 * `dir/app` (a package.json named `projectName`, nothing else); returns
 * the project's directory, whose node_modules holds annexgate and its
 * dependencies.
 */
export async function installPackedCheckout(dir: string, projectName: string): Promise<string> {
  const packed = (
    await run("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: CHECKOUT })
  )
    .trim()
    .split("\n")
    .at(-1) as string;
  const app = join(dir, "app");
  await run("mkdir", [app]);
  await writeFile(
    join(app, "package.json"),
    `${JSON.stringify({ name: projectName, private: true })}\n`,
  );
  await run(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      join(dir, packed),
    ],
    { cwd: app },
  );
  return app;
}
