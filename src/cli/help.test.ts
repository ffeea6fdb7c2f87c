/**
 * The installed command's help and version, run as a user runs them (the
 * built CLI in a child process): every command answers `--help`, and each
 * flag table is what its help lists, with the defaults the code uses.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DEFAULT_TMP_LIMITS } from "../objects/index.js";
import { DEFAULT_P2PHTTP_PORT } from "../protocol/index.js";
import { DEFAULT_INDIRECT_SETTINGS } from "../proxy/index.js";
import { DEFAULT_LIMITS, DEFAULT_MAX_IDLE_PER_CLIENT } from "../server/index.js";
import { INFO_OPTIONS } from "./info.js";
import { MATCHEXPRESSION_OPTIONS } from "./matchexpression.js";
import { MAXSIZE_OPTIONS } from "./maxsize.js";
import type { OptionTable } from "./options.js";
import { DEFAULT_IDLE_TIMEOUT_S } from "./p2phttp.js";
import { P2PHTTP_OPTIONS } from "./p2phttp-help.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const exec = promisify(execFile);

async function annexgate(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, ...args]);
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const f = e as { code: number; stdout: string; stderr: string };
    return { code: f.code, out: f.stdout, err: f.stderr };
  }
}

/** The flags a help text names: `--name` at the start of an options entry. */
function listedFlags(help: string): string[] {
  return [...help.matchAll(/^ {2}--([a-z][a-z-]*)/gm)].map((m) => m[1] ?? "");
}

describe("annexgate --help and --version", () => {
  it("--version prints the package's version", async () => {
    const pkg = fileURLToPath(new URL("../../../package.json", import.meta.url));
    const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version: string };
    assert.deepEqual(await annexgate("--version"), {
      code: 0,
      out: `annexgate ${version}\n`,
      err: "",
    });
  });

  it("every command in the overview answers --help with its own usage", async () => {
    const overview = await annexgate("--help");
    assert.equal(overview.code, 0);
    const names = [
      ...new Set([...overview.out.matchAll(/^ {2}([a-z][a-z0-9-]*)(?= |$)/gm)].map((m) => m[1])),
    ];
    assert.ok(names.length >= 20, names.join(" "));
    for (const name of names) {
      const h = await annexgate(name ?? "", "--help");
      assert.equal(h.code, 0, `${name}: ${h.err}`);
      assert.match(h.out, new RegExp(`^usage:\\n {2}${name}\\b`), name);
    }
    const unknown = await annexgate("no-such-command");
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /unknown command no-such-command/);
  });

  const tables: [string, OptionTable][] = [
    ["p2phttp", P2PHTTP_OPTIONS],
    ["info", INFO_OPTIONS],
    ["maxsize", MAXSIZE_OPTIONS],
    ["matchexpression", MATCHEXPRESSION_OPTIONS],
  ];
  for (const [name, table] of tables) {
    it(`${name} --help lists exactly the flags its parser reads`, async () => {
      const h = await annexgate(name, "--help");
      assert.deepEqual(listedFlags(h.out), Object.keys(table));
    });
  }

  it("p2phttp --help names the defaults the server uses", async () => {
    const { out } = await annexgate("p2phttp", "--help");
    // Each entry's text on one line, by flag name.
    const entries = new Map(
      out.split(/\n(?= {2}--)/).map((e) => {
        const text = e.replace(/\s+/g, " ").trim();
        return [text.slice(2, text.indexOf(" ")), text] as const;
      }),
    );
    const said = (flag: string, text: string) =>
      assert.match(entries.get(flag) ?? "", new RegExp(`\\(default ${text}[;)]`), flag);
    said("port", String(DEFAULT_P2PHTTP_PORT));
    said("idle-timeout", String(DEFAULT_IDLE_TIMEOUT_S));
    said("max-queued", String(DEFAULT_LIMITS.maxQueued));
    said("max-per-client", String(DEFAULT_LIMITS.maxPerClient));
    said("max-locks-per-client", String(DEFAULT_LIMITS.maxLocksPerClient));
    said("max-idle-per-client", String(DEFAULT_MAX_IDLE_PER_CLIENT));
    said("tmp-max-age", `${(DEFAULT_TMP_LIMITS.maxAgeMs ?? 0) / 86_400_000}d`);
    said("indirect-expires", String(DEFAULT_INDIRECT_SETTINGS.expiresSeconds));
    said("indirect-verify", DEFAULT_INDIRECT_SETTINGS.verify);
    said("indirect-max-pending", String(DEFAULT_INDIRECT_SETTINGS.maxPending));
    said("indirect-max-pending-per-client", String(DEFAULT_INDIRECT_SETTINGS.maxPendingPerClient));
  });
});
