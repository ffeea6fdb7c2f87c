/**
 * A Writable over an open file, from a position on: what a directory
 * special remote's staged object is written through. Gathered chunks go
 * out in one writev; ending it syncs the file to disk (so a published
 * object survives a crash of the machine), and the file closes with the
 * stream, however it ends.
 */
import type { FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";
import { writeAllAt } from "../../util/index.js";

/** Bytes a sink holds before the sender must wait (socket chunks are ~64 KiB). */
const HIGH_WATER_MARK = 1024 * 1024;

export class FileSink extends Writable {
  #position: number;

  constructor(
    private readonly fh: FileHandle,
    position: number,
  ) {
    super({ highWaterMark: HIGH_WATER_MARK });
    this.#position = position;
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    const buffers = chunks.map((c) => c.chunk);
    const at = this.#position;
    this.#position += buffers.reduce((n, b) => n + b.length, 0);
    writeAllAt(this.fh, buffers, at).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.fh.sync().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.fh.close().then(
      () => callback(error),
      (e: Error) => callback(error ?? e),
    );
  }
}
