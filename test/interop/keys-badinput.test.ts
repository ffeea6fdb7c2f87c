/**
 * Odd keys, differentially: the same raw requests go to stock
 * `git annex p2phttp` and to `annexgate p2phttp`, each serving a fresh
 * repository, and every endpoint (checkpresent, get, remove, put,
 * lockcontent) must answer with the same status and the same answer. No
 * answer may hold a server path or a stack trace.
 *
 * Where annexgate deliberately answers otherwise, the difference is
 * asserted on its own, with the reason:
 * - a key that is not UTF-8: stock reads a percent-encoded one as U+FFFD
 *   (so two keys collapse into one) and keeps a base64-wrapped one as
 *   bytes; annexgate keeps keys as text, so it refuses both (400) rather
 *   than store under a key the client did not send;
 * - a VURL key: stock checks it against equivalent keys recorded in the
 *   branch (none here, so it stores); annexgate's store does not read the
 *   branch, and refuses (stored false) rather than keep unchecked content;
 * - a put under an over-long key name: stock's request never answers (it
 *   holds a --jobs slot for good); annexgate answers stored false.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import { type RunningP2pHttp, startAnnexgate, startStockP2pHttp } from "../helpers/servers.js";
import { ANNEXGATE_GIT_ANNEX_SHELL } from "../helpers/sshd.js";

const CLIENT = "11111111-2222-3333-4444-555555555555";
const HELLO = Buffer.from("hello");
const HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const LONG_KEY = `SHA256E-s5--${"a".repeat(300)}.txt`;

/** Keys both servers must answer alike, as they appear in a query (already percent-encoded). */
const SAME_ANSWER_KEYS: readonly string[] = [
  "FOOBAR-s5--abc", // unknown backend: stored on its size alone
  "XFOO-s5--abc", // external backend: the same
  "FOOBAR-s9--abc", // … but the size is checked
  "SHA256E-s5-S2-C1--abc", // a hash chunk: its bytes are checked against the name
  `SHA256E-s5-S5-C1--${HELLO_SHA256}.txt`, // … and pass when they match
  "WORM-s5-S2-C1--abc", // a WORM chunk: stored
  "SKEIN256-s5--abc", // a hash that does not match: refused
  "WORM-s5-m1700000000--sub%2Fdir%2Ff.txt", // "/" in a key
  "URL-s5--http%3A%2F%2F127.0.0.1%2Fa%26b%3Dc%25d", // an addurl URL key
];

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly dataLength?: string | null;
}

describe("odd keys: annexgate p2phttp answers as stock git-annex does", {
  timeout: 600_000,
}, () => {
  let root = "";
  const repos: Record<"stock" | "annexgate", string> = { stock: "", annexgate: "" };
  const servers: Partial<Record<"stock" | "annexgate", RunningP2pHttp>> = {};
  const uuids: Record<"stock" | "annexgate", string> = { stock: "", annexgate: "" };

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-keys-badinput-");
    for (const which of ["stock", "annexgate"] as const) {
      repos[which] = await gitAnnexRepo(join(root, which), which);
      uuids[which] = (await run("git", ["config", "annex.uuid"], { cwd: repos[which] })).trim();
    }
    // Many jobs: a stock put under an over-long key never answers, and holds its slot.
    servers.stock = await startStockP2pHttp(repos.stock, ["--wideopen", "--jobs", "32"]);
    servers.annexgate = await startAnnexgate(repos.annexgate, ["--wideopen"]);
  });

  after(async () => {
    await servers.stock?.stop();
    await servers.annexgate?.stop();
    if (root !== "") await removeDir(root);
  });

  function url(which: "stock" | "annexgate", op: string, query: string): string {
    const s = servers[which] as RunningP2pHttp;
    return `${s.base}/${uuids[which]}/v4/${op}?${query}`;
  }

  /** One request; the answer with lock ids made comparable, checked for leaks. */
  async function ask(
    which: "stock" | "annexgate",
    op: "checkpresent" | "remove" | "put" | "lockcontent" | "get",
    key: string,
  ): Promise<Answer> {
    const query = `clientuuid=${CLIENT}`;
    const init: RequestInit =
      op === "put"
        ? { method: "POST", body: HELLO, headers: { "X-git-annex-data-length": "5" } }
        : { method: op === "get" ? "GET" : "POST" };
    const target =
      op === "get"
        ? `${(servers[which] as RunningP2pHttp).base}/${uuids[which]}/v4/key/${key}?${query}`
        : url(which, op, `key=${key}&${query}`);
    const r = await judgeFetch(which, target, init);
    const text = await r.text();
    const lockId = /"lockid":"([0-9a-f-]+)"/.exec(text)?.[1];
    if (lockId !== undefined) await unlock(which, lockId);
    const body = text.replace(/"lockid":"[0-9a-f-]+"/, '"lockid":"ID"');
    assertNoLeak(body);
    return op === "get"
      ? { status: r.status, body, dataLength: r.headers.get("x-git-annex-data-length") }
      : { status: r.status, body };
  }

  /**
   * One request. Stock's server drops a connection whose handler shows no
   * progress for 30 s, which a heavily loaded machine can cause; a dropped
   * connection from the judge is not an answer, so stock's side is asked
   * again (once). annexgate's side is never retried: a drop there fails.
   */
  async function judgeFetch(
    which: "stock" | "annexgate",
    target: string,
    init: RequestInit,
  ): Promise<Response> {
    const once = () => fetch(target, { ...init, signal: AbortSignal.timeout(120_000) });
    if (which === "annexgate") return once();
    return once().catch((e: unknown) => {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      if (code !== "UND_ERR_SOCKET") throw e;
      return once();
    });
  }

  /** Release a lockcontent lock at once (stock holds a --jobs slot while it lasts). */
  async function unlock(which: "stock" | "annexgate", lockId: string): Promise<void> {
    const r = await fetch(url(which, "keeplocked", `lockid=${lockId}&clientuuid=${CLIENT}`), {
      method: "POST",
      body: '{"unlock":true}\n',
      headers: { "Content-Type": "application/json" },
      signal: AbortSignal.timeout(120_000),
    });
    assert.equal(r.status, 200);
    await r.text();
  }

  function assertNoLeak(body: string): void {
    assert.ok(!body.includes(root), `an answer names a server path: ${body}`);
    assert.doesNotMatch(body, /\n\s+at /, "an answer holds a stack trace");
  }

  /** Every endpoint in an order where no lock is held while a later request needs the key. */
  async function session(which: "stock" | "annexgate", key: string): Promise<Answer[]> {
    const out: Answer[] = [];
    for (const op of ["checkpresent", "get", "remove", "put", "checkpresent", "get"] as const) {
      out.push(await ask(which, op, key));
    }
    out.push(await ask(which, "lockcontent", key));
    return out;
  }

  for (const key of SAME_ANSWER_KEYS) {
    it(`answers ${decodeURIComponent(key).slice(0, 60)} as stock does`, async () => {
      const stock = await session("stock", key);
      const ours = await session("annexgate", key);
      assert.deepEqual(ours, stock);
    });
  }

  it("an over-long key name: the same answers on every endpoint but put", async () => {
    for (const op of ["checkpresent", "get", "remove", "lockcontent"] as const) {
      assert.deepEqual(await ask("annexgate", op, LONG_KEY), await ask("stock", op, LONG_KEY), op);
    }
    // Stock's put never answers here; annexgate refuses at once.
    assert.deepEqual(await ask("annexgate", "put", LONG_KEY), {
      status: 200,
      body: '{"plusuuids":[],"stored":false}',
    });
    assert.deepEqual(await ask("annexgate", "checkpresent", LONG_KEY), {
      status: 200,
      body: '{"present":false}',
    });
  });

  it("a key that is not UTF-8 is refused with a clear 400 (stock keeps or rewrites it)", async () => {
    const notUtf8 = ["WORM-s5--a%FFb", "%5BV09STS1zNS0tY_9j%5D", "WORM-s5--%C3%28"];
    for (const key of notUtf8) {
      for (const op of ["checkpresent", "get", "remove", "put", "lockcontent"] as const) {
        const a = await ask("annexgate", op, key);
        assert.equal(a.status, 400, `${op} ${key}`);
        const what = op === "get" ? "capture key" : "query parameter key";
        assert.equal(a.body, `Error parsing ${what} failed: key is not valid UTF-8`);
      }
      // What stock does instead: it stores the content under some key.
      assert.equal((await ask("stock", "put", key)).body, '{"plusuuids":[],"stored":true}');
    }
    // Nothing was stored, under these bytes or under a rewritten key.
    const objects = await run("find", [".git/annex/objects", "-type", "f", "-name", "WORM-s5--*"], {
      cwd: repos.annexgate,
    }).catch(() => "");
    assert.equal(objects.trim(), "");
  });

  it("a VURL key: refused (stored false) where stock stores it unchecked", async () => {
    const key = "VURL-s5--http%3A%2F%2Fa%2Fb";
    assert.equal((await ask("stock", "put", key)).body, '{"plusuuids":[],"stored":true}');
    assert.equal((await ask("annexgate", "put", key)).body, '{"plusuuids":[],"stored":false}');
  });

  /**
   * One p2pstdio session of stock's or annexgate's git-annex-shell on that
   * side's repository: raw lines in, the answer line to each out.
   */
  async function lineSession(which: "stock" | "annexgate", lines: Buffer[]): Promise<string[]> {
    const shell = which === "stock" ? "git-annex-shell" : ANNEXGATE_GIT_ANNEX_SHELL;
    const child = spawn(shell, ["p2pstdio", repos[which], CLIENT], { stdio: "pipe" });
    const replies: string[] = [];
    let pending = "";
    let wanted = 0;
    let wake: (() => void) | null = null;
    child.stdout.on("data", (d: Buffer) => {
      pending += d.toString("latin1");
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        replies.push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      if (replies.length >= wanted) wake?.();
    });
    const exited = new Promise((r) => child.once("close", r));
    const lineCount = (n: number) =>
      new Promise<void>((resolve, reject) => {
        wanted = n;
        if (replies.length >= n) return resolve();
        wake = resolve;
        child.once("close", () => reject(new Error(`${which} shell ended: ${replies.join("|")}`)));
      });
    await lineCount(1); // AUTH-SUCCESS
    for (const [i, line] of lines.entries()) {
      child.stdin.write(Buffer.concat([line, Buffer.from("\n")]));
      await lineCount(i + 2);
    }
    child.stdin.end();
    await exited;
    for (const r of replies) assertNoLeak(r);
    return replies.slice(1);
  }

  it("over the line protocol: the same answers, and a key that is not UTF-8 refused", async () => {
    const bytes = (...parts: Array<string | number[]>) =>
      Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));
    const same = [
      bytes("VERSION 1"),
      bytes("CHECKPRESENT WORM-s5-m1700000000--sub/dir/f.txt"), // stored over HTTP above
      bytes("CHECKPRESENT URL-s5--http://127.0.0.1/a&b=c%d"),
      bytes("CHECKPRESENT WORM-s5-m1700000000--sub/dir/other.txt"),
      bytes("CHECKPRESENT FOOBAR-s5--abc"),
      bytes(`CHECKPRESENT ${LONG_KEY}`),
    ];
    const stock = await lineSession("stock", same);
    assert.deepEqual(await lineSession("annexgate", same), stock);
    assert.deepEqual(stock, ["VERSION 1", "SUCCESS", "SUCCESS", "FAILURE", "SUCCESS", "FAILURE"]);
    // Raw bytes that are not UTF-8: stock would take the bytes as a key;
    // annexgate says why it refuses, and the session goes on.
    const notUtf8 = [
      bytes("VERSION 1"),
      bytes("CHECKPRESENT WORM-s5--a", [0xff], "b"),
      bytes("REMOVE WORM-s5--", [0xc3, 0x28]),
      bytes("CHECKPRESENT FOOBAR-s5--abc"),
    ];
    assert.deepEqual(await lineSession("annexgate", notUtf8), [
      "VERSION 1",
      "ERROR key is not valid UTF-8",
      "ERROR key is not valid UTF-8",
      "SUCCESS",
    ]);
  });

  it("stock git-annex fsck passes in annexgate's repository", async () => {
    const out = await run("git", ["annex", "fsck", "--all", "--quiet"], { cwd: repos.annexgate });
    assert.doesNotMatch(out, /failed/);
  });
});
