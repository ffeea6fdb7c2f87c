/**
 * Stock git-annex is the judge: keys, hash directories, object file names
 * and content verification of src/keys are compared with what the installed
 * `git annex` prints for the same input. Fails (never skips) without it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
  BadKeyError,
  formatKey,
  hashDirLower,
  hashDirMixed,
  type Key,
  keyFile,
  objectPath,
  parseKey,
  UnverifiableKeyError,
  verificationFor,
  verifyFile,
} from "../../src/keys/index.js";

const ENV = {
  ...process.env,
  LC_ALL: "C.UTF-8",
  GIT_AUTHOR_NAME: "annexgate test",
  GIT_AUTHOR_EMAIL: "test@annexgate.invalid",
  GIT_COMMITTER_NAME: "annexgate test",
  GIT_COMMITTER_EMAIL: "test@annexgate.invalid",
};

function requireGitAnnex(): void {
  const r = spawnSync("git", ["annex", "version", "--raw"], { env: ENV, encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(
      "test/interop/keys.test.ts needs stock git-annex (`git annex`) on PATH; " +
        `running \`git annex version\` failed: ${r.error?.message ?? r.stderr}`,
    );
  }
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function git(cwd: string, args: string[], input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd,
      env: ENV,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    if (child.stdin !== null) {
      // A child that stops reading early (a batch that dies on bad input)
      // closes the pipe; its exit code and stderr tell the story, not EPIPE.
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    }
  });
}

async function gitOk(cwd: string, args: string[], input?: string): Promise<string> {
  const r = await git(cwd, args, input);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function makeRepo(parent: string, name: string, bare: boolean): Promise<string> {
  const dir = join(parent, name);
  await gitOk(parent, ["init", "-q", ...(bare ? ["--bare"] : []), dir]);
  await gitOk(dir, ["annex", "init", "-q", name]);
  return dir;
}

/* A git-annex --format option printing these variables, tab-separated. */
function formatOption(...vars: string[]): string {
  return `--format=${vars.map((v) => `\${${v}}`).join("\t")}\n`;
}

/* Run `task` over `items` with at most `limit` at a time, results in order. */
async function pool<T, R>(items: T[], limit: number, task: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/*
 * Keys for the comparison. The name pieces include everything keyFile
 * escapes, multi-byte UTF-8 and "-"/"--"/"." (which the parser must not
 * mistake for structure). Spaces get keys of their own: examinekey splits
 * its input at the first space, so those are checked another way.
 */
const PIECES = [
  "&",
  "%",
  ":",
  "&a",
  "&s",
  "%c",
  "-",
  "--",
  ".",
  "_",
  ",",
  "~",
  "#",
  "?",
  "*",
  "'",
  '"',
  "\\",
  "ü",
  "é",
  "中文",
  "😀",
  "a",
  "Z",
  "0",
  "42",
];
const BACKENDS = [
  "SHA256E",
  "SHA256",
  "SHA512E",
  "SHA1",
  "MD5E",
  "BLAKE2B256E",
  "SKEIN512",
  "WORM",
  "URL",
  "VURL",
  "GITBUNDLE",
  "GITMANIFEST",
  "XFOOE",
  "XBAR",
  "OTHER",
  "E",
];

function keyArbitrary(withSpace: boolean): fc.Arbitrary<Key> {
  const count = fc.option(fc.oneof(fc.nat(1000), fc.nat({ max: Number.MAX_SAFE_INTEGER })), {
    nil: undefined,
  });
  // At most 15 pieces of at most 4 bytes: any extension stays within git-annex's 64 bytes.
  const pieces = fc.array(fc.constantFrom(...PIECES), { maxLength: withSpace ? 12 : 15 });
  return fc
    .record({
      backend: fc.constantFrom(...BACKENDS),
      pieces,
      spaceAt: fc.nat(12),
      size: count,
      mtime: count,
      chunkSize: count,
      chunkNumber: count,
    })
    .map(({ backend, pieces, spaceAt, ...nums }) => {
      const parts = [...pieces];
      if (withSpace) parts.splice(Math.min(spaceAt, parts.length), 0, " ");
      const key: { -readonly [P in keyof Key]: Key[P] } = { backend, name: parts.join("") };
      for (const [field, value] of Object.entries(nums)) {
        if (value !== undefined) key[field as "size"] = value;
      }
      return key;
    })
    .filter((k) => k.name !== "." && k.name !== "..");
}

const FIXED_KEYS = [
  "SHA256E-s5--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824.txt",
  "SHA256E-s1048576-S65536-C3--3a1fc0.tar.gz",
  "WORM-s2-m1795612263--sub%f",
  "URL--http&c%%example.com%a%b.txt",
  "SHA256--",
  "E--",
];

describe("keys agree with stock git-annex", () => {
  let root = "";
  let nonBare = "";
  let bare = "";
  let logs = "";
  let logsUuid = "";
  const plain = [
    ...FIXED_KEYS.map(parseKey),
    ...fc.sample(keyArbitrary(false), { seed: 20250416, numRuns: 300 }),
  ];
  const spaced = fc.sample(keyArbitrary(true), { seed: 4162025, numRuns: 24 });

  before(async () => {
    requireGitAnnex();
    root = await mkdtemp(join(tmpdir(), "annexgate-keys-interop-"));
    [nonBare, bare, logs] = await Promise.all([
      makeRepo(root, "nonbare", false),
      makeRepo(root, "bare.git", true),
      makeRepo(root, "logs", false),
    ]);
    logsUuid = (await gitOk(logs, ["config", "annex.uuid"])).trim();
  });
  after(async () => {
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  it("generated keys are valid and round-trip", () => {
    assert.ok(plain.length >= 300 && spaced.length === 24);
    for (const k of [...plain, ...spaced]) assert.deepEqual(parseKey(formatKey(k)), k);
  });

  it("hashdirmixed, hashdirlower and object paths match examinekey (non-bare and bare)", async () => {
    const input = `${plain.map(formatKey).join("\n")}\n`;
    const [mixedOut, bareOut] = await Promise.all([
      gitOk(
        nonBare,
        [
          "annex",
          "examinekey",
          "--batch",
          formatOption("key", "hashdirmixed", "hashdirlower", "objectpath"),
        ],
        input,
      ),
      gitOk(bare, ["annex", "examinekey", "--batch", formatOption("objectpath")], input),
    ]);
    const rows = mixedOut.split("\n").slice(0, -1);
    const bareRows = bareOut.split("\n").slice(0, -1);
    assert.equal(rows.length, plain.length);
    assert.equal(bareRows.length, plain.length);
    const mismatches: unknown[] = [];
    plain.forEach((k, i) => {
      const [theirKey, mixed, lower, path] = (rows[i] ?? "").split("\t");
      const ours = {
        key: formatKey(k),
        mixed: `${hashDirMixed(k)}/`,
        lower: `${hashDirLower(k)}/`,
        path: `.git/annex/objects/${objectPath(k, "mixed")}`,
        bare: `./annex/objects/${objectPath(k, "lower")}`,
      };
      const theirs = { key: theirKey, mixed, lower, path, bare: bareRows[i] };
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) mismatches.push({ ours, theirs });
    });
    assert.deepEqual(mismatches, []);
  });

  it("keyFile and both hash dirs match git-annex for keys with spaces", async () => {
    // Mixed hash and keyFile: the symlink `fromkey` makes in a non-bare repository.
    const links = await pool(spaced, 1, async (k) => {
      const link = `link-${createHash("md5").update(formatKey(k)).digest("hex")}`;
      await gitOk(nonBare, ["annex", "fromkey", "--force", formatKey(k), link]);
      return readlink(join(nonBare, link));
    });
    // Lower hash and keyFile: the location-log file `setpresentkey` journals,
    // "<lower>/<keyFile>.log" with "/"→"_" and "_"→"__" (Annex/Journal.hs).
    const journal = join(logs, ".git", "annex", "journal");
    const logFiles = await pool(spaced, 1, async (k) => {
      const before = new Set(await readdir(journal).catch(() => []));
      await gitOk(logs, ["annex", "setpresentkey", formatKey(k), logsUuid, "1"]);
      const fresh = (await readdir(journal)).filter((f) => !before.has(f));
      assert.equal(fresh.length, 1, `one new journal file for ${formatKey(k)}`);
      return fresh[0] ?? "";
    });
    const mismatches: unknown[] = [];
    spaced.forEach((k, i) => {
      const ours = {
        link: `.git/annex/objects/${objectPath(k, "mixed")}`,
        log: `${hashDirLower(k)}/${keyFile(k)}.log`.replace(/_/g, "__").replace(/\//g, "_"),
      };
      const theirs = { link: links[i], log: logFiles[i] };
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) mismatches.push({ ours, theirs });
    });
    assert.deepEqual(mismatches, []);
  });

  /*
   * Acceptance: for each text, git-annex either prints the key's fields or
   * says "bad key". Where parseKey refuses for a reason git-annex shares, it
   * must refuse too; where parseKey accepts, it must accept with the same
   * fields. Refusals that are annexgate's own extra strictness are not compared.
   */
  it("parseKey accepts and refuses what examinekey does", async () => {
    const edges = [
      "SHA256--",
      "SHA256-s10--",
      "SHA256-s007--x",
      "SHA256-m1-s2--x",
      "SHA256-s1-s2--x",
      "SHA256-s--x",
      "-s1--x",
      "--x",
      "SHA256-x1--x",
      "SHA256-s+1--x",
      "SHA256-s-1--x",
      "SHA256-s1",
      "SHA256",
      "SHA256-s1-",
      "SHA256---x",
      "SHA256-s1---x",
      "SHA256-s1-m--x",
      "SHA256-S5-C1--x",
      "SHA256-C0--x",
      "SHA256-s1-m1-S1-C1--x--y",
      "sha256--x",
      "X--x",
      "XE--x",
      "SHA256E--x..",
      "SHA256-s9007199254740991--x",
      `SHA256E--abc.${"a".repeat(63)}`,
      `SHA256E--abc.${"a".repeat(64)}`,
      `SHA256--abc.${"a".repeat(64)}`,
      `XFOOE--abc.${"a".repeat(64)}`,
      `XFOO--abc.${"a".repeat(64)}`,
      `FOOE--abc.${"a".repeat(64)}`,
      `E--abc.${"a".repeat(64)}`,
      `GITBUNDLE--abc.${"a".repeat(64)}`,
      `SHA256E--ü.${"ü".repeat(31)}`,
      `SHA256E--ü.${"ü".repeat(32)}`,
      `SHA256E--😀.${"😀".repeat(15)}`,
      `SHA256E--😀.${"😀".repeat(16)}`,
    ];
    const piece = fc.constantFrom(
      "SHA256",
      "SHA256E",
      "WORM",
      "X",
      "E",
      "-",
      "--",
      "-s",
      "-m",
      "-S",
      "-C",
      "s",
      "0",
      "12",
      "007",
      ".",
      "ü",
      "😀",
      "&",
      "a".repeat(20),
    );
    const fuzz = fc.sample(
      fc.array(piece, { minLength: 1, maxLength: 10 }).map((p) => p.join("")),
      { seed: 7, numRuns: 150 },
    );
    const texts = [...new Set([...edges, ...fuzz])];
    const results = await pool(texts, 8, (t) =>
      git(nonBare, [
        "annex",
        "examinekey",
        formatOption("key", "backend", "bytesize", "mtime", "keyname"),
        "--",
        t,
      ]),
    );
    const disagreements: unknown[] = [];
    let accepted = 0;
    let refused = 0;
    texts.forEach((t, i) => {
      const r = results[i] as Ran;
      const theirs = r.code === 0 ? r.stdout : /bad key/.test(r.stderr) ? "bad key" : r.stderr;
      let ours: string;
      try {
        const k = parseKey(t);
        ours = `${[formatKey(k), k.backend, k.size ?? "unknown", k.mtime ?? "unknown", k.name].join("\t")}\n`;
        accepted++;
      } catch (e) {
        if (!(e instanceof BadKeyError)) throw e;
        const reason = e.data.reason;
        if (reason !== "syntax" && reason !== "extension-too-long") return;
        ours = "bad key";
        refused++;
      }
      if (ours !== theirs) disagreements.push({ text: t, ours, theirs });
    });
    assert.deepEqual(disagreements, []);
    assert.ok(accepted > 20 && refused > 20, `compared ${accepted} accepted, ${refused} refused`);
  });

  describe("verification agrees with calckey", () => {
    const HASHED = [
      "SHA256E",
      "SHA256",
      "SHA512E",
      "SHA512",
      "SHA384E",
      "SHA384",
      "SHA224E",
      "SHA224",
      "SHA3_256E",
      "SHA3_256",
      "SHA3_512E",
      "SHA3_384",
      "SHA3_224E",
      "BLAKE2B512E",
      "BLAKE2B512",
      "BLAKE2S256E",
      "BLAKE2S256",
      "SHA1E",
      "SHA1",
      "MD5E",
      "MD5",
    ];
    const UNSUPPORTED = [
      "BLAKE2B256E",
      "BLAKE2B160",
      "BLAKE2S224",
      "BLAKE2BP512",
      "BLAKE2SP256E",
      "SKEIN256E",
      "SKEIN512",
    ];
    const FILES = ["empty", "hello.txt", "random.tar.gz", "a b.data"];
    const calculated = new Map<string, Key[]>();

    before(async () => {
      const random = Buffer.concat(
        Array.from({ length: 16385 }, (_, i) => createHash("sha512").update(String(i)).digest()),
      );
      const contents: Record<string, Buffer> = {
        empty: Buffer.alloc(0),
        "hello.txt": Buffer.from("hello"),
        "random.tar.gz": random,
        "a b.data": Buffer.from("content with spaces in its file name\n"),
      };
      for (const [name, data] of Object.entries(contents)) {
        await writeFile(join(nonBare, name), data);
        // Same size, one byte different (or one byte more for the empty file).
        const changed = Buffer.from(data.length === 0 ? "x" : data);
        changed[changed.length >> 1] = (changed[changed.length >> 1] ?? 0) ^ 0x01;
        await writeFile(join(nonBare, `${name}.changed`), changed);
      }
      const backends = [...HASHED, ...UNSUPPORTED, "WORM"];
      const outputs = await pool(backends, 6, (b) =>
        gitOk(nonBare, ["annex", "calckey", `--backend=${b}`, ...FILES]),
      );
      backends.forEach((b, i) => {
        const lines = (outputs[i] ?? "").split("\n").slice(0, -1);
        assert.equal(lines.length, FILES.length, `calckey --backend=${b}`);
        calculated.set(b, lines.map(parseKey));
      });
    });

    it("hash keys from calckey verify their file, and not a changed one", async () => {
      for (const b of HASHED) {
        const keys = calculated.get(b) ?? [];
        for (const [i, k] of keys.entries()) {
          const file = join(nonBare, FILES[i] ?? "");
          const label = `${formatKey(k)} (${FILES[i]})`;
          assert.equal(k.backend, b);
          assert.equal(verificationFor(k).kind, "hash", label);
          assert.equal(await verifyFile(k, file), true, label);
          assert.equal(await verifyFile(k, `${file}.changed`), false, label);
          // Without its size field the key still refuses a same-size change, by digest alone.
          const { size: _size, ...sizeless } = k;
          assert.equal(await verifyFile(sizeless, file), true, label);
          if (FILES[i] !== "empty") {
            assert.equal(await verifyFile(sizeless, `${file}.changed`), false, label);
          }
        }
      }
    });

    it("WORM keys are stored unverified, only their size is checked", async () => {
      for (const [i, k] of (calculated.get("WORM") ?? []).entries()) {
        const file = join(nonBare, FILES[i] ?? "");
        assert.deepEqual(verificationFor(k), { kind: "none" });
        assert.equal(await verifyFile(k, file), true);
        assert.equal(await verifyFile(k, `${file}.changed`), FILES[i] !== "empty");
      }
    });

    it("hashes Node cannot compute are reported, not guessed", () => {
      for (const b of UNSUPPORTED) {
        for (const k of calculated.get(b) ?? []) {
          assert.throws(
            () => verificationFor(k),
            (e: unknown) =>
              e instanceof UnverifiableKeyError && e.data.reason === "unsupported-hash",
            formatKey(k),
          );
        }
      }
    });
  });
});
