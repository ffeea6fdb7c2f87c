/**
 * Enforces the layer order of ARCHITECTURE.md: a module may import from its
 * own folder and from folders of a lower rank, never from a higher one.
 * Runs on the TypeScript sources so it needs no extra tooling.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const RANK: Record<string, number> = {
  "errors.ts": 0,
  keys: 1,
  sizes: 1,
  git: 2,
  branch: 3,
  objects: 3,
  protocol: 3,
  "preferred-content": 4,
  policy: 4,
  remotes: 4,
  peers: 5,
  proxy: 6,
  server: 7,
  sim: 8,
  web: 8,
  cli: 9,
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const src = join(root, "src");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function layerOf(file: string): string {
  return relative(src, file).split("/")[0] ?? "";
}

const problems: string[] = [];
for (const file of walk(src)) {
  const from = layerOf(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/from\s+"(\.[^"]+)"/g)) {
    const target = resolve(dirname(file), m[1] ?? "");
    if (!target.startsWith(src)) continue;
    const to = layerOf(target.endsWith(".js") ? target : `${target}.js`).replace(/\.js$/, ".ts");
    if (to === from) continue;
    const rf = RANK[from];
    const rt = RANK[to];
    if (rf === undefined || rt === undefined) {
      problems.push(`${relative(root, file)}: unknown layer ${rf === undefined ? from : to}`);
    } else if (rt >= rf) {
      problems.push(
        `${relative(root, file)}: ${from} (rank ${rf}) may not import ${to} (rank ${rt})`,
      );
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
