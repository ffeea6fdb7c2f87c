/**
 * The client library for browsers without a bundler of their own: one ES
 * module, `dist/browser/annexgate-client.js`, with @noble/hashes inside.
 * Built for the browser platform, so a Node built-in reached from the
 * client fails the build (the layer check refuses them earlier).
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

// Compiled to dist/scripts/: the project is two folders up.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

await build({
  entryPoints: [resolve(root, "src/client/index.ts")],
  outfile: resolve(root, "dist/browser/annexgate-client.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  sourcemap: true,
  logLevel: "warning",
});
