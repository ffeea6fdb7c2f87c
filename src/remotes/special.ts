/**
 * Special remotes as git-annex lists them (Remote/List.hs `remoteGen`,
 * Remote/Helper/Special.hs `findSpecialRemotes`): a remote without a git
 * URL whose type git config marks (`remote.NAME.annex-directory`,
 * `remote.NAME.annex-s3`, ...; initremote and enableremote set it),
 * configured by the remote.log entry of its config UUID plus its
 * `remote.NAME.annex-*` git config. Without a marker git-annex does not
 * list it at all, whatever remote.log says. Directory and S3 remotes get
 * their transport (their kinds refuse chunked or encrypted ones at open);
 * every other one is "unsupported" with a reason.
 */
import { isAbsolute, resolve } from "node:path";
import type { GitConfigValues } from "../git/index.js";
import { readDouble } from "../sizes/index.js";
import { remoteNameOfKey } from "./git-config.js";
import type { Remote, RemoteTransport, SpecialRemoteConfig } from "./types.js";

/** git-annex's default costs (Config/Cost.hs). */
const CHEAP_COST = 100;
const EXPENSIVE_COST = 200;
/** What encryption adds to a special remote's cost (Config/Cost.hs `encryptedRemoteCostAdj`). */
const ENCRYPTED_COST_ADJUST = 50;

/**
 * The git config key marking a remote of each type: a `remote.NAME.annex-MARKER`
 * setting (Remote/*.hs `enumerate`), in the order of git-annex's type list
 * (Remote/List.hs `remoteTypes`), which is the order it lists remotes in.
 */
const TYPE_MARKERS: readonly (readonly [marker: string, type: string])[] = [
  ["s3", "S3"],
  ["buprepo", "bup"],
  ["directory", "directory"],
  ["rsyncurl", "rsync"],
  ["web", "web"],
  ["webdav", "webdav"],
  ["adb", "adb"],
  ["tahoe", "tahoe"],
  ["glacier", "glacier"],
  ["ddarrepo", "ddar"],
  ["httpalso", "httpalso"],
  ["borgrepo", "borg"],
  ["rclone", "rclone"],
  ["hooktype", "hook"],
  ["externaltype", "external"],
  ["compute", "compute"],
  ["mask", "mask"],
];

/** Default cost by type, where it is not the expensive one. */
const TYPE_COSTS: ReadonlyMap<string, number> = new Map([["directory", CHEAP_COST]]);

/** A special remote: how it is reached and its default cost. */
export interface SpecialRemote {
  readonly transport: RemoteTransport;
  /** remote.log's `cost=`, else the type's; `annex-cost` overrides it. */
  readonly defaultCost: number;
  /** Added to the cost however it was set: 50 for an encrypted remote (Remote/Helper/Special.hs). */
  readonly costAdjust: number;
  readonly config: SpecialRemoteConfig;
}

/**
 * A record of fields. Object.fromEntries defines each as an own property,
 * so a hostile field named "__proto__" is only a field; readers look up
 * the fields they know by name.
 */
function plainRecord(entries: Iterable<readonly [string, string]>): Record<string, string> {
  return Object.fromEntries(entries);
}

/** `remote.NAME.annex-*` settings, without the prefix (the last value of each). */
function annexGitConfig(config: GitConfigValues, name: string): Record<string, string> {
  const prefix = `remote.${name}.annex-`;
  const entries: [string, string][] = [];
  for (const [key, value] of config.entries()) {
    if (value === null || !key.startsWith(prefix) || remoteNameOfKey(key) !== name) continue;
    entries.push([key.slice(prefix.length), value]);
  }
  return plainRecord(entries);
}

/** The type git config marks the remote as, as git-annex enumerates remotes; null when none. */
function markedType(gitConfig: Readonly<Record<string, string>>): string | null {
  const i = markerIndex(gitConfig);
  return i < 0 ? null : (TYPE_MARKERS[i]?.[1] ?? null);
}

function markerIndex(gitConfig: Readonly<Record<string, string>>): number {
  return TYPE_MARKERS.findIndex(([marker]) => Object.hasOwn(gitConfig, marker));
}

/**
 * Where git-annex lists a remote (Remote/List.hs `remoteList`): git
 * remotes first, in the byte order of their `remote.NAME.url` keys, then
 * special remotes type by type, each type's in the byte order of their
 * marker keys. (Remotes proxied through a git remote come before the git
 * remotes there; they always have a UUID and are never special, so no
 * check on them can warn, and they are left among the git remotes.)
 */
function listPosition(r: Remote): { readonly rank: number; readonly key: Buffer } {
  if (r.special === undefined) return { rank: -1, key: Buffer.from(`remote.${r.name}.url`) };
  const i = markerIndex(r.special.gitConfig);
  return { rank: i, key: Buffer.from(`remote.${r.name}.annex-${TYPE_MARKERS[i]?.[0] ?? ""}`) };
}

/**
 * `remotes` in the order git-annex lists them, which is the order of the
 * warnings its commands give about them (updateproxy, updatecluster).
 */
export function remotesInListOrder(remotes: readonly Remote[]): Remote[] {
  return remotes
    .map((r) => ({ r, p: listPosition(r) }))
    .sort((a, b) => a.p.rank - b.p.rank || Buffer.compare(a.p.key, b.p.key))
    .map((x) => x.r);
}

/**
 * Why annexgate cannot serve a special remote with these fields yet, or
 * null. An import remote's content changes under git-annex's feet; an
 * export remote without annexobjects=yes has nowhere to keep a key that
 * is not in the exported tree (git-annex will not proxy one either). An
 * export remote with annexobjects=yes is served (peers/special/open-export.ts,
 * for the kinds whose storage can be addressed by path); chunked and encrypted remotes are
 * refused where every special-remote kind opens them
 * (peers/special/special-config.ts), one place for those rules.
 */
function configRefusal(fields: Readonly<Record<string, string>>): string | null {
  if (fields.importtree === "yes") {
    return "special remotes with importtree=yes are not supported yet";
  }
  if (fields.exporttree === "yes") {
    if (fields.annexobjects !== "yes") {
      return "a special remote configured with exporttree=yes needs annexobjects=yes";
    }
  }
  return null;
}

/** Whether git-annex treats the remote as encrypted (a cipher, and encryption other than none). */
function isEncrypted(fields: Readonly<Record<string, string>>): boolean {
  const e = fields.encryption;
  return e !== undefined && e !== "none" && fields.cipher !== undefined;
}

function transportOf(type: string, special: SpecialRemoteConfig, repoDir: string): RemoteTransport {
  if (type !== "directory" && type !== "S3") {
    return { kind: "unsupported", reason: `${type} special remotes are not supported yet` };
  }
  const refusal = configRefusal(special.fields);
  if (refusal !== null) return { kind: "unsupported", reason: refusal };
  if (type === "S3") return { kind: "S3", special };
  // git-annex keeps the directory in git config only (Remote/Directory.hs `gen`).
  const dir = special.gitConfig.directory;
  if (dir === undefined || dir === "") return { kind: "unsupported", reason: "missing directory" };
  return { kind: "directory", directory: isAbsolute(dir) ? dir : resolve(repoDir, dir), special };
}

/**
 * The special remote `name` (a remote without a git URL), or null when
 * git config marks no type for it: its type from that marker (a remote
 * marked for directory is a directory remote whatever remote.log's
 * `type=` says, as in git-annex); its settings from `remoteConfigs`
 * (remote.log, sameas inheritance applied) under `configUuid`, and its
 * git config. A relative directory is taken from `repoDir`, as git-annex
 * (run at the repository's top) does.
 */
export function specialRemoteOf(
  config: GitConfigValues,
  name: string,
  configUuid: string,
  remoteConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>,
  repoDir: string,
): SpecialRemote | null {
  const logged = remoteConfigs.get(configUuid) ?? new Map<string, string>();
  const special: SpecialRemoteConfig = {
    fields: plainRecord([...logged].filter(([k]) => k !== "timestamp")),
    gitConfig: annexGitConfig(config, name),
  };
  const type = markedType(special.gitConfig);
  if (type === null) return null;
  const logCost = special.fields.cost === undefined ? null : readDouble(special.fields.cost);
  const typeCost = TYPE_COSTS.get(type) ?? EXPENSIVE_COST;
  return {
    transport: transportOf(type, special, repoDir),
    defaultCost: logCost?.value ?? typeCost,
    costAdjust: isEncrypted(special.fields) ? ENCRYPTED_COST_ADJUST : 0,
    config: special,
  };
}
