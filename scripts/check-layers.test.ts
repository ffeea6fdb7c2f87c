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
    // What must run anywhere: a portable door, and the client library. The
    // door is a door; what it and the client reach may not need Node.
    await put(src, "keys/index.ts", 'export * from "./portable.js";\n');
    await put(src, "keys/portable.ts", 'export { k } from "./key.js";\n');
    await put(src, "keys/key.ts", "// Buffer named in a comment only\nexport const k = 1;\n");
    await put(src, "protocol/portable.ts", 'export { b } from "./bytes.js";\n');
    await put(src, "protocol/bytes.ts", "export const b = Buffer.from([1]);\n");
    await put(
      src,
      "client/index.ts",
      'import { k } from "../keys/portable.js";\nimport "./hash.js";\n',
    );
    await put(src, "client/hash.ts", 'import { createHash } from "node:crypto";\n');
    await put(src, "client/noble.ts", 'import { sha256 } from "@noble/hashes/sha2.js";\n');
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

  it("reports Node's built-ins and Buffer in what must run anywhere", () => {
    assert.ok(
      problems.includes(
        "src/client/hash.ts: imports node:crypto, which browsers lack (it must run anywhere)",
      ),
      problems.join("\n"),
    );
    assert.ok(
      problems.includes(
        "src/protocol/bytes.ts: uses Node's Buffer (it must run anywhere; use Uint8Array)",
      ),
      problems.join("\n"),
    );
  });

  it("reports nothing else: policy may use preferred-content, tests may reach inside, portable doors and packages", () => {
    assert.equal(problems.length, 5, problems.join("\n"));
  });

  it("passes on the real sources", () => {
    assert.deepEqual(checkLayers(realSrc), []);
  });
});
