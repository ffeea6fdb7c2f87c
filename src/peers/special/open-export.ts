/**
 * The export naming composed over a special remote's storage, for an
 * export remote (`exporttree=yes`) that also keeps objects by key
 * (`annexobjects=yes`, the only export remotes git-annex proxies): its
 * keys live at the exported tree's files and under annexobjects, looked
 * up in the gateway's export log (ExportStorage, ExportIndex). Export
 * files and annexobjects copies are whole objects (git-annex's export
 * actions ignore `chunk=`), so no chunking or encryption is composed
 * over this naming.
 */
import { readExportLog } from "../../branch/index.js";
import type { Remote, SpecialRemoteConfig } from "../../remotes/index.js";
import { type PeerOpenContext, UnreachableRemoteError } from "../registry.js";
import { ExportIndex } from "./export-index.js";
import { ExportStorage } from "./export-storage.js";
import type { SpecialStorage } from "./storage.js";

/** Whether the remote is an export remote (Remote/Helper/ExportImport.hs `exportTree`). */
export function isExportRemote(special: SpecialRemoteConfig): boolean {
  return special.fields.exporttree === "yes";
}

/**
 * `storage` as SpecialPeer addresses it: itself for a plain remote; for
 * an export remote, the export naming over it. Refuses (throws
 * UnreachableRemoteError) what it cannot serve rightly.
 */
export function exportNaming(
  remote: Remote,
  special: SpecialRemoteConfig,
  storage: SpecialStorage,
  ctx: PeerOpenContext,
): SpecialStorage {
  if (!isExportRemote(special)) return storage;
  const refuse = (reason: string) => {
    void storage.close().catch(() => undefined);
    return new UnreachableRemoteError(remote, reason);
  };
  if (special.fields.importtree === "yes") {
    throw refuse("special remotes with importtree=yes are not supported yet");
  }
  if (special.fields.annexobjects !== "yes") {
    throw refuse("a special remote configured with exporttree=yes needs annexobjects=yes");
  }
  const encryption = special.fields.encryption;
  if ((encryption !== undefined && encryption !== "none") || special.fields.cipher !== undefined) {
    // git-annex's words: it refuses the combination when the remote is made.
    throw refuse("cannot enable both encryption and exporttree");
  }
  const files = storage.byPath;
  if (files === undefined) throw refuse("exporttree=yes is not supported yet for this type");
  const branch = ctx.branch;
  if (branch === undefined) throw refuse("the export log cannot be read here");
  const index = new ExportIndex({
    remoteUuid: remote.uuid,
    git: branch.git,
    readLog: () => readExportLog(branch),
  });
  return new ExportStorage(files, index, () => storage.close());
}
