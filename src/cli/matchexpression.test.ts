/**
 * `annexgate matchexpression --batch` as a program that drives it line by
 * line uses it: each answer comes while stdin stays open.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

let tmp: string;
before(async () => {
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

describe("matchexpression --batch", () => {
  it("answers each question before the next is asked, then exits 0 at the end of input", async () => {
    const repo = join(tmp, "repo");
    await run("git", ["init", "-q", repo]);
    const child = spawn(process.execPath, [MAIN, "matchexpression", "--batch"], { cwd: repo });
    let stdout = "";
    const waiters: (() => void)[] = [];
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      for (const w of waiters.splice(0)) w();
    });
    const lines = async (n: number): Promise<string[]> => {
      while (stdout.split("\n").length - 1 < n) await new Promise<void>((r) => waiters.push(r));
      return stdout.split("\n").slice(0, n);
    };
    const exited = new Promise<number | null>((r) => child.on("close", r));
    const ask = (q: object) => child.stdin.write(`${JSON.stringify(q)}\n`);
    ask({ expr: "include=*.txt", file: "a.txt" });
    assert.deepEqual(await lines(1), ["0"]);
    ask({ expr: "include=*.txt", file: "b.bin" });
    assert.deepEqual(await lines(2), ["0", "1"]);
    ask({ expr: "nosuchterm=1", file: "c" });
    assert.deepEqual(await lines(3), ["0", "1", "42"]);
    child.stdin.end();
    assert.equal(await exited, 0);
  });
});
