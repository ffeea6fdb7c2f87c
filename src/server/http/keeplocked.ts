/**
 * Reading a keeplocked request's body: newline-separated {"unlock": bool}
 * objects, sent over as long as the client wants the lock kept.
 */
import type { IncomingMessage } from "node:http";
import { HttpAnswerError, parseUnlockJson } from "../../protocol/index.js";

/** No sane unlock request is longer than this. */
const MAX_LINE = 4096;

/**
 * Resolves when the body says unlock, is malformed or too long, ends or
 * breaks, or `signal` aborts; whichever comes first. Never rejects.
 */
export function untilUnlock(req: IncomingMessage, signal: AbortSignal): Promise<void> {
  if (signal.aborted || req.readableEnded || req.destroyed) return Promise.resolve();
  let buffered = "";
  return new Promise<void>((resolve) => {
    const finish = () => {
      req.off("data", onData);
      req.off("end", finish);
      req.off("error", finish);
      req.off("close", finish);
      signal.removeEventListener("abort", finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === "") continue;
        let unlock: boolean;
        try {
          unlock = parseUnlockJson(line);
        } catch (e) {
          if (!(e instanceof HttpAnswerError)) throw e;
          return finish(); // malformed: stop holding, as an errored stream does
        }
        if (unlock) return finish();
      }
      if (buffered.length > MAX_LINE) finish();
    };
    req.on("data", onData);
    req.once("end", finish);
    req.once("error", finish);
    req.once("close", finish);
    signal.addEventListener("abort", finish, { once: true });
  });
}
