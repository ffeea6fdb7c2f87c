/**
 * Enforces the layer order of ARCHITECTURE.md: a module may import from its
 * own folder and from folders of a lower rank, never from a higher one; and
 * from the folders of {@link DOOR_ONLY} only through their public door
 * (index.ts, or portable.ts: the part of a layer that runs anywhere), tests
 * excepted (they may reach a suite or helper their layer does not export);
 * and that what must run in a browser ({@link mustRunAnywhere}) reaches no
 * Node built-in. Runs on the TypeScript sources so it needs no extra
 * tooling.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Layer ranks, lowest first: preferred-content is below policy, which uses
 * it; util (tools that know nothing of git-annex, not even its errors) is
 * below everything.
 */
export const RANK: Readonly<Record<string, number>> = {
  util: -1,
  "errors.ts": 0,
  keys: 1,
  locks: 1,
  sizes: 1,
  git: 2,
  branch: 3,
  objects: 3,
  protocol: 3,
  client: 4,
  "preferred-content": 4,
  remotes: 4,
  policy: 5,
  peers: 6,
  proxy: 7,
  server: 8,
  export: 8,
  sim: 9,
  web: 9,
  ops: 9,
  cli: 10,
};

/** Folders other layers may enter only by index.ts: all of them. */
export const DOOR_ONLY: ReadonlySet<string> = new Set([
  "util",
  "keys",
  "locks",
  "sizes",
  "git",
  "branch",
  "objects",
  "preferred-content",
  "protocol",
  "client",
  "remotes",
  "policy",
  "peers",
  "proxy",
  "server",
  "export",
  "web",
  "ops",
]);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Import specifiers of a module (static, re-exports and dynamic imports); relative ones only unless `all`. */
function importsOf(text: string, all = false): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)"([^"]+)"/gm)) {
    const spec = m[1] ?? "";
    if (all || spec.startsWith(".")) found.push(spec);
  }
  return found;
}

/** The doors of a folder: its index, and the part of it that runs anywhere. */
const DOORS: ReadonlySet<string> = new Set(["index.js", "portable.js"]);

/** Modules that must run in a browser too: each layer's portable.ts, and the client library. */
function mustRunAnywhere(relPath: string): boolean {
  if (relPath.endsWith(".test.ts")) return false;
  return relPath.endsWith(`${sep}portable.ts`) || relPath.startsWith(`client${sep}`);
}

/** Packages code that runs anywhere may import (they have no Node built-ins either). */
const PORTABLE_PACKAGES = /^@noble\/hashes\//;

/** The source without its comments (a comment may name Buffer). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/**
 * What code that must run anywhere reaches that only Node has: a `node:`
 * import, another package, or Node's global Buffer; followed through
 * relative imports from each module {@link mustRunAnywhere} names.
 */
function portabilityProblems(src: string, files: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const queue = files.filter((f) => mustRunAnywhere(relative(src, f)));
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = code(readFileSync(file, "utf8"));
    const where = relative(dirname(src), file);
    for (const spec of importsOf(text, true)) {
      if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec).replace(/\.js$/, ".ts"));
      else if (!PORTABLE_PACKAGES.test(spec)) {
        problems.push(`${where}: imports ${spec}, which browsers lack (it must run anywhere)`);
      }
    }
    if (/\bBuffer\b/.test(text)) {
      problems.push(`${where}: uses Node's Buffer (it must run anywhere; use Uint8Array)`);
    }
  }
  return problems;
}

/**
 * The layering problems under the source root `src`, one line each
 * ("FILE: what is wrong"), paths relative to `src`'s parent. Empty when
 * the tree keeps the rules.
 */
export function checkLayers(src: string): string[] {
  const root = dirname(src);
  const layerOf = (file: string): string => relative(src, file).split(sep)[0] ?? "";
  const files = walk(src);
  const problems: string[] = portabilityProblems(src, files);
  for (const file of files) {
    const from = layerOf(file);
    const isTest = file.endsWith(".test.ts");
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src + sep)) continue;
      const to = layerOf(target).replace(/\.js$/, ".ts");
      if (to === from) continue;
      const where = relative(root, file);
      const rf = RANK[from];
      const rt = RANK[to];
      if (rf === undefined || rt === undefined) {
        problems.push(`${where}: unknown layer ${rf === undefined ? from : to}`);
      } else if (rt >= rf) {
        problems.push(`${where}: ${from} (rank ${rf}) may not import ${to} (rank ${rt})`);
      }
      const inside = relative(join(src, to), target);
      if (!isTest && DOOR_ONLY.has(to) && !DOORS.has(inside)) {
        problems.push(`${where}: imports ${to}/${inside}; use ${to}/index.js, its public door`);
      }
    }
  }
  return problems;
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // Compiled to dist/scripts/: the sources are two folders up.
  const src = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");
  const problems = checkLayers(src);
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
}
