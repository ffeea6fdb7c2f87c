/**
 * CONNECT: git-upload-pack or git-receive-pack run on the served
 * repository, their stdio relayed as DATA messages (design/p2p_protocol,
 * "Connection to services"); CONNECTDONE carries the exit code.
 */
import { spawn } from "node:child_process";
import { Readable, type Writable } from "node:stream";
import type { Message, MessageChannel } from "../../protocol/index.js";
import { ProtocolError } from "../../protocol/index.js";
import { writeOrDrop } from "../../util/index.js";
import { protocolError } from "./wire.js";

export type GitService = "git-upload-pack" | "git-receive-pack";

/** A running service: its stdin and stdout, and its exit code once it exits. */
export interface ServiceProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly exitCode: Promise<number>;
}

export type ServiceRunner = (service: GitService) => ServiceProcess;

/**
 * Runs `git upload-pack DIR` / `git receive-pack DIR`, as git-annex's
 * runRelayService does.
 *
 * @example
 * serveLine(channel, { peer, mode: "readwrite", connect: gitServiceRunner("/srv/annex/gw") });
 */
export function gitServiceRunner(
  repoDir: string,
  opts: { readonly stderr?: "inherit" | "ignore" } = {},
): ServiceRunner {
  return (service) => {
    const sub = service === "git-upload-pack" ? "upload-pack" : "receive-pack";
    // git's own complaints go where ours do (to the ssh client), unless not wanted.
    const child = spawn("git", [sub, repoDir], {
      stdio: ["pipe", "pipe", opts.stderr ?? "inherit"],
    });
    const exitCode = new Promise<number>((resolve) => {
      child.once("error", () => resolve(127));
      child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    // A client that goes away mid-push makes writes to stdin fail; the exit
    // code tells the rest.
    child.stdin.on("error", () => undefined);
    return { stdin: child.stdin, stdout: child.stdout, exitCode };
  };
}

/**
 * Relay between the channel and a service until the service exits (its
 * output all sent) or the client says CONNECTDONE; then send CONNECTDONE.
 * Resolves with the exit code sent. The connection is not usable for
 * other requests afterwards: git may leave unread data behind.
 */
export async function relayService(channel: MessageChannel, proc: ServiceProcess): Promise<number> {
  let stop!: (code: number) => void;
  const clientDone = new Promise<number>((resolve) => {
    stop = resolve;
  });

  const pumpOut = (async () => {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      await channel.sendData(chunk.length, Readable.from([chunk]));
    }
  })();
  // Awaited below once the service exits; a failure before that is not unhandled.
  pumpOut.catch(() => undefined);

  const feed = (async () => {
    for (;;) {
      let m: Message | null | undefined;
      try {
        m = await channel.receive();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        m = undefined; // a line that does not parse
      }
      if (m === null) {
        proc.stdin.end();
        return stop(1);
      }
      if (m?.type === "CONNECTDONE") {
        proc.stdin.end();
        return stop(m.exitCode);
      }
      if (m?.type !== "DATA") {
        await channel.send(protocolError("expected DATA or CONNECTDONE"));
        proc.stdin.end();
        return stop(1);
      }
      for await (const chunk of channel.receiveData(m.length) as AsyncIterable<Buffer>) {
        await writeOrDrop(proc.stdin, chunk);
      }
    }
  })();
  feed.catch(() => stop(1));

  const serviceDone = (async () => {
    const code = await proc.exitCode;
    // All of its output goes out before CONNECTDONE.
    await pumpOut.catch(() => undefined);
    return code;
  })();

  const code = await Promise.race([serviceDone, clientDone]);
  await channel.send({ type: "CONNECTDONE", exitCode: code });
  if (!proc.stdin.writableEnded) proc.stdin.end();
  proc.stdout.resume();
  return code;
}
