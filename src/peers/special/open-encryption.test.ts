/**
 * Opening encrypted directory remotes with what the gateway's gpg keyring
 * holds (a home and key of the test's own, the ciphers made as git-annex
 * makes them): with the secret key every method is served; without it a
 * hybrid remote is refused at open, naming the remote, and a sharedpubkey
 * one stores but refuses retrievals; without the public key, stores to
 * it are refused; `onlyencryptcreds=yes` leaves content plain.
 */
import assert from "node:assert/strict";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { formatKey } from "../../keys/index.js";
import type { Remote } from "../../remotes/index.js";
import { sample, storeAll } from "../conformance.js";
import { builtinPeerKinds, type Peer, PeerRefusedError, UnreachableRemoteError } from "../index.js";
import {
  copyPublicKey,
  encryptToKeys,
  generateGpgKey,
  makeGpgHome,
  randomCipher,
  useTempGpgHome,
} from "./gpg-home.fixture.js";

const UUID = "3c1e5a7b-9d2f-4b6a-8c0e-1f3a5b7c9d2e";
const CTX = { gatewayUuid: "00000000-0000-4000-8000-000000000000" };

function remote(directory: string, fields: Record<string, string>): Remote {
  return {
    name: "d",
    uuid: UUID,
    cost: 100,
    transport: {
      kind: "directory",
      directory,
      special: { fields: { type: "directory", name: "d", ...fields }, gitConfig: { directory } },
    },
    proxy: false,
    clusterNode: [],
  } as unknown as Remote;
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

async function retrieved(peer: Peer, key: ReturnType<typeof sample>["key"]): Promise<Buffer> {
  const got = await peer.retrieve(key, 0);
  assert.ok(got !== null);
  const data = await readAll(got.data);
  assert.equal(await got.valid, true);
  return data;
}

/** The object files in a directory remote, by name. */
async function stored(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true, withFileTypes: true });
  return all.filter((e) => e.isFile()).map((e) => e.name);
}

describe("opening encrypted special remotes with the gateway's gpg keyring", () => {
  let restore: () => Promise<void>;
  let home: string;
  let keyId: string;
  let root: string;
  let hybrid: Record<string, string>;
  let sharedpubkey: Record<string, string>;
  before(async () => {
    restore = await useTempGpgHome();
    home = process.env.GNUPGHOME as string;
    keyId = await generateGpgKey(home, "open <o@test>");
    root = await makeTempDir("annexgate-open-encryption-");
    const cipher = await randomCipher(512);
    const encrypted = await encryptToKeys([keyId], cipher);
    hybrid = { encryption: "hybrid", cipher: encrypted.toString("base64"), cipherkeys: keyId };
    sharedpubkey = {
      encryption: "sharedpubkey",
      cipher: cipher.toString("base64"),
      pubkeys: keyId,
    };
  });
  after(async () => {
    process.env.GNUPGHOME = home;
    await removeDir(root);
    await restore();
  });

  async function withKeyring<T>(keyring: string, f: () => Promise<T>): Promise<T> {
    process.env.GNUPGHOME = keyring;
    try {
      return await f();
    } finally {
      process.env.GNUPGHOME = home;
    }
  }

  it("with the secret key: each method stores and retrieves", async () => {
    const macOnly = await randomCipher(256);
    const pubkey = {
      encryption: "pubkey",
      cipher: (await encryptToKeys([keyId], macOnly)).toString("base64"),
      cipherkeys: keyId,
    };
    for (const [name, fields] of Object.entries({ hybrid, pubkey, sharedpubkey })) {
      const dir = join(root, `all-${name}`);
      await makeDir(dir);
      const conn = await builtinPeerKinds.open(remote(dir, fields), CTX);
      try {
        const s = sample(5000);
        assert.equal((await storeAll(conn.peer, s)).stored, true, name);
        assert.deepEqual(await retrieved(conn.peer, s.key), s.data);
        const [file] = await stored(dir);
        assert.match(file ?? "", /^GPGHMACSHA1--[0-9a-f]{40}$/);
      } finally {
        await conn.close();
      }
    }
  });

  it("without the secret key: hybrid refused at open; sharedpubkey stores, refuses retrievals", async () => {
    const pubOnly = await makeGpgHome();
    try {
      await copyPublicKey(home, pubOnly.home, keyId);
      const dir = join(root, "no-secret");
      await makeDir(dir);
      await withKeyring(pubOnly.home, async () => {
        await assert.rejects(builtinPeerKinds.open(remote(dir, hybrid), CTX), (e: unknown) => {
          assert.ok(e instanceof UnreachableRemoteError, String(e));
          assert.equal(
            e.message,
            `cannot reach remote d: encryption=hybrid (to gpg keys: ${keyId}): the gateway's gpg keyring holds no secret key to decrypt its cipher`,
          );
          return true;
        });
        const conn = await builtinPeerKinds.open(remote(dir, sharedpubkey), CTX);
        try {
          const s = sample(3000);
          assert.equal((await storeAll(conn.peer, s)).stored, true);
          assert.equal((await conn.peer.checkPresent(s.key)).present, true);
          await assert.rejects(retrieved(conn.peer, s.key), (e: unknown) => {
            assert.ok(e instanceof PeerRefusedError, String(e));
            assert.equal(
              e.message,
              `cannot retrieve from remote d: encryption=sharedpubkey encrypts content to gpg keys ${keyId}, and the gateway's gpg keyring holds the secret key of none of them`,
            );
            return true;
          });
          // The key names need only the clear cipher: a drop works.
          assert.equal((await conn.peer.remove(s.key)).removed, true);
        } finally {
          await conn.close();
        }
      });
    } finally {
      await pubOnly.remove();
    }
  });

  it("without the public key: stores refused naming the remote and key, the rest served", async () => {
    const empty = await makeGpgHome();
    try {
      const dir = join(root, "no-public");
      await makeDir(dir);
      await withKeyring(empty.home, async () => {
        const conn = await builtinPeerKinds.open(remote(dir, sharedpubkey), CTX);
        try {
          const s = sample(100);
          await assert.rejects(storeAll(conn.peer, s), (e: unknown) => {
            assert.ok(e instanceof PeerRefusedError, String(e));
            assert.match(
              e.message,
              new RegExp(`^cannot store to remote d: .*holds no public key of ${keyId}$`),
            );
            return true;
          });
          assert.equal((await conn.peer.checkPresent(s.key)).present, false);
          assert.deepEqual(await stored(dir), []);
        } finally {
          await conn.close();
        }
      });
    } finally {
      await empty.remove();
    }
  });

  it("onlyencryptcreds=yes: content stored plain, no key needed", async () => {
    const empty = await makeGpgHome();
    try {
      const dir = join(root, "only-creds");
      await makeDir(dir);
      await withKeyring(empty.home, async () => {
        const fields = { ...hybrid, onlyencryptcreds: "yes" };
        const conn = await builtinPeerKinds.open(remote(dir, fields), CTX);
        try {
          const s = sample(2000);
          assert.equal((await storeAll(conn.peer, s)).stored, true);
          assert.deepEqual(await stored(dir), [formatKey(s.key)]);
        } finally {
          await conn.close();
        }
      });
    } finally {
      await empty.remove();
    }
  });
});

function makeDir(dir: string): Promise<string | undefined> {
  return mkdir(dir, { recursive: true });
}
