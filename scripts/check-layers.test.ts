/**
 * The layer check itself: it passes on the real sources and fails, naming
 * the file and the rule, on a small tree made with deliberate violations.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkLayers } from "./check-layers.js";

const realSrc = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

async function put(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

describe("check-layers", () => {
  let dir: string;
  let problems: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "annexgate-layers-"));
    const src = join(dir, "src");
    await put(src, "branch/index.ts", 'export { journal } from "./journal.js";\n');
    await put(src, "branch/journal.ts", "export const journal = 1;\n");
    await put(src, "preferred-content/index.ts", "export const pc = 1;\n");
    // Allowed: policy is above preferred-content, and enters by its door.
    await put(src, "policy/index.ts", 'import { pc } from "../preferred-content/index.js";\n');
    // Violations: a lower layer importing a higher one, and proxy reaching
    // into branch internals past branch/index.ts.
    await put(src, "preferred-content/wants.ts", 'import { x } from "../policy/index.js";\n');
    await put(src, "proxy/gateway.ts", 'import { journal } from "../branch/journal.js";\n');
    // A test may reach inside another layer (a conformance suite, say).
    await put(src, "proxy/gateway.test.ts", 'import { journal } from "../branch/journal.js";\n');
    await put(src, "proxy/lazy.ts", 'const m = await import("../cli/main.js");\n');
    problems = checkLayers(src);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports a lower layer importing a higher one", () => {
    assert.ok(
      problems.includes(
        "src/preferred-content/wants.ts: preferred-content (rank 4) may not import policy (rank 5)",
      ),
      problems.join("\n"),
    );
  });

  it("reports an import of branch internals past its public door", () => {
    assert.ok(
      problems.includes(
        "src/proxy/gateway.ts: imports branch/journal.js; use branch/index.js, its public door",
      ),
      problems.join("\n"),
    );
  });

  it("reports a dynamic import of a higher layer", () => {
    assert.ok(problems.includes("src/proxy/lazy.ts: proxy (rank 7) may not import cli (rank 10)"));
  });

  it("reports nothing else: policy may use preferred-content, tests may reach inside", () => {
    assert.equal(problems.length, 3, problems.join("\n"));
  });

  it("passes on the real sources", () => {
    assert.deepEqual(checkLayers(realSrc), []);
  });
});
