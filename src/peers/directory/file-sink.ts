/**
 * A Writable over an open file, from a position on: what a directory
 * special remote's staged object is written through. Gathered chunks go
 * out in one writev; ending it syncs the file to disk (so a published
 * object survives a crash of the machine), and the file closes with the
 * stream, however it ends.
 */
import type { FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";

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
    writeAll(this.fh, buffers, at).then(() => callback(), callback);
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

async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let bufs = buffers;
  let at = position;
  while (bufs.length > 0) {
    const { bytesWritten } = await fh.writev(bufs, at);
    at += bytesWritten;
    // A short write (rare on regular files): continue after what was written.
    let skip = bytesWritten;
    while (bufs.length > 0 && skip >= (bufs[0] as Buffer).length) {
      skip -= (bufs[0] as Buffer).length;
      bufs = bufs.slice(1);
    }
    if (skip > 0 && bufs.length > 0) bufs = [(bufs[0] as Buffer).subarray(skip), ...bufs.slice(1)];
  }
}
