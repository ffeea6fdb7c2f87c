/**
 * The size check itself: it fails, naming file, line and rule, on a small
 * tree made with deliberate violations, lets reasoned exceptions and test
 * files pass, and passes on the real sources.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkSizes } from "./check-sizes.js";

const realSrc = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

async function put(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

/** A function of `n` lines in all, under `name`, in the given form. */
function fn(
  name: string,
  n: number,
  form: "declaration" | "arrow" | "method" = "declaration",
): string {
  const body = Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};\n`).join("");
  if (form === "arrow") return `export const ${name} = () => {\n${body}};\n`;
  if (form === "method") return `export class C${name} {\n  ${name}() {\n${body}  }\n}\n`;
  return `export function ${name}() {\n${body}}\n`;
}

const filler = (n: number) =>
  Array.from({ length: n }, (_, i) => `export const x${i} = ${i};\n`).join("");

describe("check-sizes", () => {
  let dir: string;
  let problems: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "annexgate-sizes-"));
    const src = join(dir, "src");
    await put(src, "a/long-file.ts", filler(401));
    await put(src, "a/long-with-reason.ts", `// Over 400 lines: a table\n${filler(420)}`);
    await put(src, "a/exactly.ts", filler(400));
    await put(src, "b/long-function.ts", `\n${fn("tooLong", 81)}`);
    await put(src, "b/long-arrow.ts", fn("arrowTooLong", 90, "arrow"));
    await put(src, "b/long-method.ts", fn("methodTooLong", 85, "method"));
    await put(src, "b/just-fits.ts", fn("fits", 80));
    await put(src, "b/reasoned.ts", `// Over 80 lines: one table\n${fn("reasoned", 120)}`);
    // A reason two lines up does not count.
    await put(src, "b/far-reason.ts", `// Over 80 lines: too far\n\n${fn("far", 81)}`);
    // Braces inside strings and comments are not functions.
    await put(src, "b/strings.ts", `export const s = "function () {";\n// } {\n${filler(10)}`);
    await put(src, "b/long.test.ts", `${fn("inATest", 200)}${filler(500)}`);
    problems = checkSizes(src);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names every violation by file, line and rule, and nothing else", () => {
    assert.deepEqual(problems.map((p) => p.split(": ")[0]).sort(), [
      "src/a/long-file.ts:1",
      "src/b/far-reason.ts:3",
      "src/b/long-arrow.ts:1",
      "src/b/long-function.ts:2",
      "src/b/long-method.ts:2",
    ]);
    assert.match(problems.find((p) => p.startsWith("src/a/long-file.ts")) ?? "", /401 lines/);
    assert.match(problems.find((p) => p.includes("long-function")) ?? "", /tooLong is 81 lines/);
    assert.match(problems.find((p) => p.includes("long-arrow")) ?? "", /arrowTooLong is 90 lines/);
    assert.match(
      problems.find((p) => p.includes("long-method")) ?? "",
      /methodTooLong is 85 lines/,
    );
  });

  it("passes on the real sources", () => {
    assert.deepEqual(checkSizes(realSrc), []);
  });
});
