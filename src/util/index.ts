/**
 * @module
 * Small tools with no knowledge of git-annex, below every layer: per-key
 * mutual exclusion, a counting semaphore and bounded fan-out, writing with
 * backpressure, the two checks every forwarder of a body makes (the
 * promised length, the last chunk held back), the bounded copy every
 * receiver of a body makes, writing all of a batch to a file, a
 * no-progress timer, work in flight shared per key, and a cache bounded by
 * weight for things named by their content.
 */
export { type CopyOutcome, copyAtMost } from "./bounded-copy.js";
export { GenerationalCache } from "./generational-cache.js";
export { KeyedMutex } from "./keyed-mutex.js";
export { LastChunk } from "./last-chunk.js";
export { LengthBudget, type LengthOutcome } from "./length-budget.js";
export {
  errorText,
  LOG_LEVELS,
  type LogEntry,
  type LogFields,
  type Logger,
  type LogLevel,
  RecordingLogger,
  silentLogger,
} from "./logger.js";
export { forEachBounded, QueueFullError, Semaphore } from "./semaphore.js";
export { type SendsItself, sendsItself } from "./sends-itself.js";
export { SharedFlight } from "./shared-flight.js";
export { StallTimer } from "./stall-timer.js";
export { writeAllAt } from "./write-all.js";
export { waitForDrain, writeOrDrop } from "./write-or-drop.js";
