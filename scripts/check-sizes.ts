/**
 * Enforces the size rules of the style guide on the sources under src/:
 * no file over 400 lines unless its line 1 is `// Over 400 lines: <reason>`,
 * and no function (declaration, method, accessor, constructor, arrow or
 * function expression) over 80 lines unless the line directly above it is
 * `// Over 80 lines: <reason>`. Functions are found with the TypeScript
 * compiler's parser, so a brace in a string or a comment counts for
 * nothing. Test files (`*.test.ts`) are left out: a suite is one long
 * `describe` callback by nature.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 80;

const FILE_REASON = /^\/\/ Over 400 lines: \S/;
const FUNCTION_REASON = /^\s*\/\/ Over 80 lines: \S/;

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourcesUnder(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** A name for a function in a problem line: its own name, else what it is. */
function describeFunction(node: ts.SignatureDeclaration): string {
  const name = node.name;
  if (name !== undefined && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name))) {
    return name.text;
  }
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyDeclaration(parent)) {
    if (ts.isIdentifier(parent.name)) return parent.name.text;
  }
  return ts.isArrowFunction(node) ? "arrow function" : "function";
}

/** The problems of one file's text, as "FILE:LINE: what is wrong". */
export function checkFileSizes(where: string, text: string): string[] {
  const problems: string[] = [];
  const lines = text.split("\n");
  const count = text.endsWith("\n") ? lines.length - 1 : lines.length;
  if (count > MAX_FILE_LINES && !FILE_REASON.test(lines[0] ?? "")) {
    problems.push(
      `${where}:1: ${count} lines (over ${MAX_FILE_LINES}): split it, or give line 1 "// Over 400 lines: <reason>"`,
    );
  }
  const source = ts.createSourceFile(where, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const span = last - first + 1;
      if (span > MAX_FUNCTION_LINES && !FUNCTION_REASON.test(lines[first - 1] ?? "")) {
        problems.push(
          `${where}:${first + 1}: ${describeFunction(node)} is ${span} lines (over ${MAX_FUNCTION_LINES}): split it, or put "// Over 80 lines: <reason>" on the line above`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

/**
 * The size problems under the source root `srcRoot`, one line each, paths
 * relative to `srcRoot`'s parent. Empty when every file keeps the rules.
 */
export function checkSizes(srcRoot: string): string[] {
  const root = dirname(srcRoot);
  return sourcesUnder(srcRoot).flatMap((file) =>
    checkFileSizes(relative(root, file), readFileSync(file, "utf8")),
  );
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // Compiled to dist/scripts/: the sources are two folders up.
  const src = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");
  const problems = checkSizes(src);
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
}
