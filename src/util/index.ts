/**
 * @module
 * Small tools with no knowledge of git-annex, below every layer: per-key
 * mutual exclusion, a counting semaphore and bounded fan-out, and writing
 * with backpressure.
 */
export { KeyedMutex } from "./keyed-mutex.js";
export { forEachBounded, Semaphore } from "./semaphore.js";
export { waitForDrain, writeOrDrop } from "./write-or-drop.js";
