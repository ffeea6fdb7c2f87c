import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AnnexBranch, REMOTE_LOG, remoteConfigsFromLog } from "../branch/index.js";
import { loadGatewayConfig } from "./load.js";
import { configRepos, named } from "./remotes.fixture.js";

const repos = configRepos("annexgate-special-");
const { repo } = repos;

/** The gateway config of a repository with these settings and this remote.log text. */
const configOf = (settings: readonly [string, string][], remoteLog: string) =>
  repos.configOf(settings, undefined, undefined, remoteLog);

const D = "6e0937aa-810e-4da1-9b3c-6bbb89e67fb8";
const S = "3c929405-909f-40c3-8cac-4c66198e9163";
const C = "f64c40cd-b88d-4a9a-8605-4316bbdf9cb3";

describe("remote.log as git-annex reads it (Logs/Remote/Pure.hs)", () => {
  it("escapes: &<code>; is that character; anything else stays", () => {
    const log = remoteConfigsFromLog(
      `${D} a=x&32;y b=&38;&38; c=&10;end d=&x; e=&; f=&59 g=&1114112; novalue name=n timestamp=5s\n`,
    );
    assert.deepEqual(
      [...(log.get(D) ?? [])],
      [
        ["a", "x y"],
        ["b", "&&"],
        ["c", "\nend"],
        ["d", "&x;"],
        ["e", "&;"],
        ["f", "&59"],
        ["g", "&1114112;"],
        ["novalue", ""],
        ["name", "n"],
      ],
    );
  });

  it("the newest entry per UUID wins (the later line on a tie); no timestamp is oldest", () => {
    const log = remoteConfigsFromLog(
      [
        `${D} name=new timestamp=20s`,
        `${D} name=old timestamp=10s`,
        `${D} name=older`,
        `${S} name=first timestamp=7s`,
        `${S} name=second timestamp=7s`,
        "",
      ].join("\n"),
    );
    assert.equal(log.get(D)?.get("name"), "new");
    assert.equal(log.get(S)?.get("name"), "second");
  });

  it("words are split on Haskell's spaces (tabs, NBSP, Zs) but not on U+2028 or U+FEFF", () => {
    const log = remoteConfigsFromLog(
      `${D} a=1\tb=2\u00a0c=3\u3000d=4\u2028e=5\ufefff=6 timestamp=1s\n`,
    );
    assert.deepEqual(
      [...(log.get(D) ?? [])],
      [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
        ["d", "4\u2028e=5\ufefff=6"],
      ],
    );
  });

  it("a sameas remote takes encryption and chunking from the remote it names, nothing else", () => {
    const log = remoteConfigsFromLog(
      [
        `${D} chunk=1MiB encryption=shared cipher=abc name=d type=directory timestamp=1s`,
        `${S} chunk=2MiB encryption=none exporttree=yes name=s sameas-name=d sameas-uuid=${D} type=directory timestamp=2s`,
        "",
      ].join("\n"),
    );
    const s = log.get(S);
    assert.equal(s?.get("chunk"), "1MiB");
    assert.equal(s?.get("encryption"), "shared");
    assert.equal(s?.get("cipher"), "abc");
    assert.equal(s?.get("exporttree"), "yes");
    assert.equal(s?.get("name"), "s");
  });
});

describe("special remotes from git config and remote.log", () => {
  /** remote.log lines exactly as stock initremote writes them. */
  const STOCK_LOG = [
    `${S} bucket=annexgate-b-${S} datacenter=us-east-1 encryption=none fileprefix=a&32;b/ host=127.0.0.1 name=s port=4568 protocol=http requeststyle=path signature=v4 storageclass=STANDARD type=S3 timestamp=1796472270.123456789s`,
    `${D} encryption=none name=d type=directory timestamp=1796472270s`,
    `${C} chunk=1MiB cost=150 encryption=none name=dc type=directory timestamp=1796472270s`,
    "",
  ].join("\n");

  it("type=directory: the directory from git config, fields from remote.log, timestamp left out", async () => {
    const cfg = await configOf(
      [
        ["remote.d.annex-directory", "/srv/d"],
        ["remote.d.annex-uuid", D],
        ["remote.d.skipfetchall", "true"],
        ["remote.rel.annex-directory", "../rel dir"],
        ["remote.rel.annex-uuid", D],
      ],
      STOCK_LOG,
    );
    assert.deepEqual(named(cfg, "d").transport, {
      kind: "directory",
      directory: "/srv/d",
      special: {
        fields: { encryption: "none", name: "d", type: "directory" },
        gitConfig: { directory: "/srv/d", uuid: D },
      },
    });
    const rel = named(cfg, "rel").transport;
    assert.equal(rel.kind === "directory" && rel.directory, join(repos.root, "rel dir"));
    assert.equal(named(cfg, "d").cost, 100);
    assert.deepEqual(named(cfg, "d").special, {
      fields: { encryption: "none", name: "d", type: "directory" },
      gitConfig: { directory: "/srv/d", uuid: D },
    });
  });

  it("type=S3: every remote.log field, unescaped; git config marks it with annex-s3", async () => {
    const cfg = await configOf(
      [
        ["remote.s.annex-s3", "true"],
        ["remote.s.annex-uuid", S],
      ],
      STOCK_LOG,
    );
    const s = named(cfg, "s");
    assert.equal(s.transport.kind, "S3");
    assert.deepEqual(s.transport.kind === "S3" && s.transport.special.fields, {
      bucket: `annexgate-b-${S}`,
      datacenter: "us-east-1",
      encryption: "none",
      fileprefix: "a b/",
      host: "127.0.0.1",
      name: "s",
      port: "4568",
      protocol: "http",
      requeststyle: "path",
      signature: "v4",
      storageclass: "STANDARD",
      type: "S3",
    });
    assert.equal(s.cost, 200);
  });

  it("the type is git config's marker, as git-annex enumerates remotes; no marker, no remote", async () => {
    const cfg = await configOf(
      [
        ["remote.s.annex-directory", "/srv/x"],
        ["remote.s.annex-uuid", S],
        ["remote.nomark.annex-uuid", D],
        ["remote.nouuid.annex-directory", "/srv/y"],
        ["remote.nouuid.annex-proxy", "true"],
      ],
      STOCK_LOG,
    );
    assert.equal(named(cfg, "s").transport.kind, "directory");
    assert.equal(
      cfg.remotes.find((r) => r.name === "nomark"),
      undefined,
    );
    assert.equal(named(cfg, "nouuid").uuid, "");
    assert.equal(named(cfg, "nouuid").proxy, true);
  });

  it("other types stay unsupported, naming the type", async () => {
    const cfg = await configOf(
      [
        ["remote.r.annex-rsyncurl", "host:/x"],
        ["remote.r.annex-uuid", D],
        ["remote.e.annex-externaltype", "foo"],
        ["remote.e.annex-uuid", C],
        ["remote.w.annex-webdav", "true"],
        ["remote.w.annex-uuid", S],
      ],
      "",
    );
    const reason = (name: string) => {
      const t = named(cfg, name).transport;
      return t.kind === "unsupported" ? t.reason : t.kind;
    };
    assert.equal(reason("r"), "rsync special remotes are not supported yet");
    assert.equal(reason("e"), "external special remotes are not supported yet");
    assert.equal(reason("w"), "webdav special remotes are not supported yet");
  });

  it("import remotes and export remotes without annexobjects are refused with a reason; chunked, encrypted and export ones keep their transport", async () => {
    const E = "33333333-3333-4333-8333-333333333333";
    const I = "44444444-4444-4444-8444-444444444444";
    const X = "55555555-5555-4555-8555-555555555555";
    const A = "66666666-6666-4666-8666-666666666666";
    const log = [
      `${C} chunk=1MiB encryption=none type=directory timestamp=1s`,
      `${D} cipher=abc encryption=shared type=directory timestamp=1s`,
      `${E} exporttree=yes annexobjects=yes type=S3 timestamp=1s`,
      `${I} exporttree=yes importtree=yes annexobjects=yes type=directory timestamp=1s`,
      `${X} exporttree=yes type=directory timestamp=1s`,
      `${A} exporttree=yes annexobjects=yes type=directory timestamp=1s`,
      "",
    ].join("\n");
    const settings: [string, string][] = [];
    const remotes: [string, string, string][] = [
      ["chunked", C, "directory"],
      ["encrypted", D, "directory"],
      ["export", E, "s3"],
      ["import", I, "directory"],
      ["noobjects", X, "directory"],
      ["annexobjects", A, "directory"],
    ];
    for (const [name, uuid, marker] of remotes) {
      settings.push([`remote.${name}.annex-${marker}`, marker === "s3" ? "true" : "/srv/d"]);
      settings.push([`remote.${name}.annex-uuid`, uuid]);
    }
    const cfg = await configOf(settings, log);
    const reason = (name: string) => {
      const t = named(cfg, name).transport;
      return t.kind === "unsupported" ? t.reason : t.kind;
    };
    assert.equal(reason("export"), "S3");
    assert.equal(reason("import"), "special remotes with importtree=yes are not supported yet");
    assert.equal(
      reason("noobjects"),
      "a special remote configured with exporttree=yes needs annexobjects=yes",
    );
    assert.equal(reason("annexobjects"), "directory");
    // Chunking and encryption are for the kinds to refuse at open: the settings go there.
    const chunked = named(cfg, "chunked").transport;
    assert.equal(chunked.kind === "directory" && chunked.special.fields.chunk, "1MiB");
    assert.equal(reason("encrypted"), "directory");
    // Refused remotes keep their settings, for updateproxy's checks and for listing.
    assert.equal(named(cfg, "export").special?.fields.annexobjects, "yes");
    // Encryption adds 50 to the directory's cost.
    assert.equal(named(cfg, "encrypted").cost, 150);
    assert.equal(named(cfg, "chunked").cost, 100);
  });

  it("costs: annex-cost, else remote.log's cost=, else the type's; sorted by cost", async () => {
    const cfg = await configOf(
      [
        ["remote.s.annex-s3", "true"],
        ["remote.s.annex-uuid", S],
        ["remote.dc.annex-directory", "/srv/dc"],
        ["remote.dc.annex-uuid", C],
        ["remote.d.annex-directory", "/srv/d"],
        ["remote.d.annex-uuid", D],
        ["remote.d.annex-cost", "300"],
        ["remote.g.url", "/srv/g"],
      ],
      STOCK_LOG,
    );
    assert.deepEqual(
      cfg.remotes.map((r) => [r.name, r.cost]),
      [
        ["g", 100],
        ["dc", 150],
        ["s", 200],
        ["d", 300],
      ],
    );
  });

  it("a sameas remote reads its config UUID's entry (annex-config-uuid)", async () => {
    const log = [
      `${D} chunk=1MiB encryption=none name=d type=directory timestamp=1s`,
      `${S} encryption=none exporttree=yes name=x sameas-name=d sameas-uuid=${D} type=directory timestamp=2s`,
      "",
    ].join("\n");
    const cfg = await configOf(
      [
        ["remote.x.annex-directory", "/srv/x"],
        ["remote.x.annex-uuid", D],
        ["remote.x.annex-config-uuid", S],
      ],
      log,
    );
    const x = named(cfg, "x");
    assert.equal(x.uuid, D);
    assert.equal(x.special?.fields.exporttree, "yes");
    assert.equal(x.special?.fields.chunk, "1MiB");
  });

  it("hostile field names are only fields", async () => {
    const cfg = await configOf(
      [
        ["remote.d.annex-directory", "/srv/d"],
        ["remote.d.annex-uuid", D],
      ],
      `${D} __proto__=x constructor=y type=directory timestamp=1s\n`,
    );
    const t = named(cfg, "d").transport;
    assert.equal(t.kind, "directory");
    if (t.kind !== "directory") return;
    assert.equal(Object.getPrototypeOf(t.special.fields), Object.prototype);
    assert.equal(Object.hasOwn(t.special.fields, "__proto__"), true);
    assert.equal(t.special.fields.constructor, "y");
  });

  it("loadGatewayConfig reads remote.log from the branch, journal included", async () => {
    const git = await repo([
      ["remote.d.annex-directory", "/srv/d"],
      ["remote.d.annex-uuid", D],
    ]);
    const branch = await AnnexBranch.open(git);
    try {
      await branch.change(REMOTE_LOG, () => `${D} exporttree=yes type=directory timestamp=1s\n`);
      const d = named(await loadGatewayConfig(git, branch), "d");
      assert.equal(d.transport.kind, "unsupported");
      assert.equal(d.special?.fields.exporttree, "yes");
    } finally {
      await branch.close();
    }
  });
});
