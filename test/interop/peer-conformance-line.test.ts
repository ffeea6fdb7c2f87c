/**
 * The Peer conformance suite against annexgate's LinePeer, speaking the P2P
 * line protocol to stock `git-annex-shell p2pstdio` (run locally, and
 * through a real sshd on loopback as git-annex runs it), each over a fresh
 * repository.
 */
import { join } from "node:path";
import { genUuid } from "../../src/keys/index.js";
import { runPeerConformance } from "../../src/peers/conformance.js";
import { gitAnnexShellCommand, LinePeer } from "../../src/peers/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { ANNEXGATE_BIN } from "../helpers/servers.js";
import { startSshd } from "../helpers/sshd.js";

type Spec = { readonly command: string; readonly args: readonly string[] };

function overShell(
  label: string,
  shell: (dir: string, clientUuid: string, uuid: string) => Promise<Spec> | Spec,
  stop: () => Promise<void> = async () => undefined,
): () => Promise<{ peer: LinePeer; cleanup(): Promise<void> }> {
  return async () => {
    const dir = await makeTempDir(`annexgate-linepeer-${label}-`);
    await gitAnnexRepo(dir, label);
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    const peer = new LinePeer({ ...(await shell(dir, genUuid(), uuid)), uuid, maxConnections: 4 });
    return {
      peer,
      cleanup: async () => {
        await peer.close();
        await stop();
        await removeDir(dir);
      },
    };
  };
}

runPeerConformance(
  "LinePeer -> stock git-annex-shell p2pstdio",
  overShell("stock", (dir, clientUuid, uuid) => gitAnnexShellCommand({ dir, clientUuid, uuid })),
);

{
  let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
  runPeerConformance(
    "LinePeer -> stock git-annex-shell over ssh (real sshd on loopback)",
    overShell(
      "ssh",
      async (dir, clientUuid, uuid) => {
        sshd = await startSshd("stock");
        return gitAnnexShellCommand({
          host: sshd.host,
          ssh: join(sshd.dir, "bin", "ssh"),
          dir,
          clientUuid,
          uuid,
        });
      },
      async () => sshd?.stop(),
    ),
  );
}

// annexgate's own git-annex-shell: every connection is its own process, so
// this also proves content locks hold across processes (fcntl locks on <object>.lck).
runPeerConformance(
  "LinePeer -> annexgate shell p2pstdio",
  overShell("annexgate", (dir, clientUuid, uuid) => ({
    command: process.execPath,
    args: [ANNEXGATE_BIN, "shell", "p2pstdio", dir, clientUuid, "--uuid", uuid],
  })),
);
