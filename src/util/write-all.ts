import type { FileHandle } from "node:fs/promises";

/**
 * Writes every byte of `buffers` to `fh` from `position` on, in as few
 * writev calls as the system allows: a short write (rare on regular files)
 * continues after what was written.
 */
export async function writeAllAt(
  fh: FileHandle,
  buffers: readonly Buffer[],
  position: number,
): Promise<void> {
  let bufs = buffers;
  let at = position;
  while (bufs.length > 0) {
    const { bytesWritten } = await fh.writev(bufs as Buffer[], at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (bufs.length > 0 && skip >= (bufs[0] as Buffer).length) {
      skip -= (bufs[0] as Buffer).length;
      bufs = bufs.slice(1);
    }
    if (skip > 0 && bufs.length > 0) bufs = [(bufs[0] as Buffer).subarray(skip), ...bufs.slice(1)];
  }
}
