/**
 * An export special remote with `exporttree=yes annexobjects=yes`, seen
 * as the key-named storage SpecialPeer works over: another naming of the
 * objects of the same storage (Remote/Helper/ExportImport.hs and
 * Annex/Proxy.hs, for a remote proxied by a gateway):
 * - store: to the key's export locations that lack it, when the exported
 *   tree has the key (as stock's proxy does), else to its annexobjects
 *   location;
 * - read and presence: the export locations first, then annexobjects;
 * - remove: only the annexobjects copy, refused with git-annex's message
 *   for a key of the exported tree (its file would stay), and for any
 *   key while the export is in conflict.
 * The export locations are looked up afresh for every operation
 * (ExportIndex), so a removal never goes by an older export.
 *
 * Content is verified by SpecialPeer before `publish`, as for every
 * special store; a key stored to several export locations is published
 * at the first, then copied from there to the others.
 */
import { formatKey, type Key, parseKey } from "../../keys/index.js";
import { PeerRefusedError } from "../peer.js";
import { annexObjectLocation, type ExportIndex } from "./export-index.js";
import type { PathStorage, SpecialStorage, StagedObject, StoredObject } from "./storage.js";

/** git-annex's words for removing a key of the exported tree. */
export const EXPORTED_KEY_REMOVAL =
  "This key is part of the exported tree, so can only be removed by exporting a tree that does not include it.";
/** git-annex's words for removing a key while the export is in conflict. */
export const EXPORT_CONFLICT_REMOVAL =
  "Cannot remove content from the remote until the conflict has been resolved.";

/**
 * A refusal whose message is git-annex's own, for the client to see
 * (`data.forClient`): stock's proxy sends it as the ERROR of the request.
 */
function refusal(message: string, key: Key): PeerRefusedError {
  return new PeerRefusedError(message, { forClient: true, key: formatKey(key) });
}

export class ExportStorage implements SpecialStorage {
  readonly #files: PathStorage;
  readonly #index: ExportIndex;
  readonly #close: () => Promise<void>;

  /**
   * @param files the remote's storage addressed by path
   * @param index the export locations of keys
   * @param close closes the underlying storage
   */
  constructor(files: PathStorage, index: ExportIndex, close: () => Promise<void>) {
    this.#files = files;
    this.#index = index;
    this.#close = close;
  }

  /** The key's export locations, then its annexobjects location. */
  async #places(key: Key): Promise<string[]> {
    const { paths } = await this.#index.locations(key);
    return [...paths, annexObjectLocation(key)];
  }

  async #find(name: string, signal?: AbortSignal): Promise<string | null> {
    for (const path of await this.#places(parseKey(name))) {
      if (await this.#files.has(path, signal)) return path;
    }
    return null;
  }

  async has(name: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.#find(name, signal)) !== null;
  }

  async read(name: string, offset: number, signal?: AbortSignal): Promise<StoredObject | null> {
    for (const path of await this.#places(parseKey(name))) {
      const stored = await this.#files.read(path, offset, signal);
      if (stored !== null) return stored;
    }
    return null;
  }

  /** Export files cannot be resumed: a store starts over. */
  async stagedLength(): Promise<number> {
    return 0;
  }

  async stage(name: string, opts: { signal?: AbortSignal } = {}): Promise<StagedObject> {
    const key = parseKey(name);
    const { paths } = await this.#index.locations(key);
    const missing: string[] = [];
    for (const p of paths) {
      if (!(await this.#files.has(p, opts.signal))) missing.push(p);
    }
    // Every export location has it (stored meanwhile): refresh the first.
    const targets =
      paths.length === 0
        ? [annexObjectLocation(key)]
        : missing.length > 0
          ? missing
          : [paths[0] as string];
    const [first, ...rest] = targets as [string, ...string[]];
    const size = key.size;
    const sizeOpt = size === undefined ? {} : { size };
    const staged = await this.#files.stage(first, { ...sizeOpt, ...opts });
    return {
      sink: staged.sink,
      discard: (o) => staged.discard(o),
      publish: async () => {
        await staged.publish();
        for (const path of rest) await this.#copy(first, path, sizeOpt, opts.signal);
      },
    };
  }

  /** Copy a published file to another path, published in turn. */
  async #copy(
    from: string,
    to: string,
    sizeOpt: { size?: number },
    signal?: AbortSignal,
  ): Promise<void> {
    const src = await this.#files.read(from, 0, signal);
    if (src === null) throw new PeerRefusedError("export remote: a stored file went away");
    const staged = await this.#files.stage(to, { ...sizeOpt, ...(signal ? { signal } : {}) });
    try {
      await new Promise<void>((resolve, reject) => {
        src.data.on("error", reject);
        staged.sink.on("error", reject);
        staged.sink.on("finish", () => resolve());
        src.data.pipe(staged.sink);
      });
    } catch (e) {
      src.data.destroy();
      await staged.discard().catch(() => undefined);
      throw e;
    }
    await staged.publish();
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    const key = parseKey(name);
    const { paths, conflict } = await this.#index.locations(key);
    if (paths.length > 0) throw refusal(EXPORTED_KEY_REMOVAL, key);
    if (conflict) throw refusal(EXPORT_CONFLICT_REMOVAL, key);
    await this.#files.remove(annexObjectLocation(key), signal);
  }

  close(): Promise<void> {
    return this.#close();
  }
}
