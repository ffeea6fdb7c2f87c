import type { ServerResponse } from "node:http";
import { finished, pipeline } from "node:stream/promises";
import type { RetrieveResult } from "../../peers/index.js";
import { sendsItself } from "../../util/index.js";
import { ValidityGate } from "./validity-gate.js";

/**
 * A download's content into its response, with backpressure, the last
 * chunk held back until the source says whether it was valid. An object
 * file sends itself through buffers it reuses (src/objects/object-stream.ts);
 * anything else (a node's relayed body, a special remote's) is piped.
 * Rejects when either side fails or the client goes away.
 */
export async function sendContent(got: RetrieveResult, res: ServerResponse): Promise<void> {
  if (sendsItself(got.data)) {
    try {
      await got.data.sendInto(res, got.valid);
    } catch (e) {
      // Cut short, as a pipe would: the client must not wait for the rest.
      res.destroy();
      throw e;
    }
    res.end();
    await finished(res);
    return;
  }
  await pipeline(got.data, new ValidityGate(got.length, got.valid), res);
}
