/**
 * One annexgate process's live sizes, driven line by line: the shared
 * live sizes test spawns several to race for room (the way concurrent ssh
 * logins do), kills some, and reads what each decided. Not a test itself.
 *
 * Usage: node live-sizes-racer.js DIR UUID MAXBYTES. It answers `ready`,
 * then one line per command read on stdin:
 *
 *   refresh BYTES  sizes from "the branch": UUID holds BYTES  -> refreshed
 *   reserve BYTES  room for a store                            -> reserved | full
 *   commit         the last reservation ended well (stamped)   -> committed
 *   release        the last reservation failed                 -> released
 *   size           UUID's live size                            -> BYTES
 *   helper         the pid of the fcntl lock helper            -> PID
 *
 * End of input closes the records and exits.
 */
import { createInterface } from "node:readline";
import { processFcntlLocks } from "../locks/index.js";
import type { Logger } from "../util/index.js";
import type { Reservation } from "./live-sizes.js";
import { SharedLiveSizes } from "./shared-live-sizes.js";

/** Problems on stderr, where the test that runs this helper shows them. */
const stderrLines: Logger = {
  error: (f, m) => process.stderr.write(`${m} ${JSON.stringify(f)}\n`),
  warn: (f, m) => process.stderr.write(`${m} ${JSON.stringify(f)}\n`),
  info: () => undefined,
  debug: () => undefined,
  child: () => stderrLines,
};

async function main(): Promise<void> {
  const [dir, uuid, max] = process.argv.slice(2);
  if (dir === undefined || uuid === undefined || max === undefined) {
    throw new Error("usage: live-sizes-racer DIR UUID MAXBYTES");
  }
  const locks = processFcntlLocks();
  const live = new SharedLiveSizes({ dir, locks, logger: stderrLines });
  const maxSizes = new Map([[uuid, BigInt(max)]]);
  const held: Reservation[] = [];
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say("ready");
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.split(" ");
    if (cmd === "refresh") {
      await live.refreshWith(async () => new Map([[uuid, BigInt(arg ?? "0")]]), maxSizes);
      say("refreshed");
    } else if (cmd === "reserve") {
      const [r] = await live.reserveAll([uuid], BigInt(arg ?? "0"), `KEY-${process.pid}`);
      if (r) held.push(r);
      say(r ? "reserved" : "full");
    } else if (cmd === "commit" || cmd === "release") {
      const r = held.pop();
      if (cmd === "commit") r?.commit();
      else r?.release();
      await live.idle();
      say(cmd === "commit" ? "committed" : "released");
    } else if (cmd === "size") {
      say(String(live.size(uuid)));
    } else if (cmd === "helper") {
      say(String(locks.helperPid() ?? 0));
    } else {
      say(`unknown command ${cmd}`);
    }
  }
  await live.close();
  locks.close();
}

main().catch((e) => {
  process.stderr.write(`live-sizes-racer: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
