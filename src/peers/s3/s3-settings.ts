/**
 * An S3 special remote's settings, read from its remote.log fields the way
 * git-annex reads them (Remote/S3.hs: extractS3Info, s3Configuration,
 * getBucketObject, uuidFile; Remote/Helper/AWS.hs: s3HostName), and turned
 * into what an S3 client needs. Pure: no I/O, so every rule is tested
 * without a server.
 *
 * What annexgate does not serve yet is refused here, with a reason, rather
 * than served wrongly: Internet Archive key munging, versioned buckets
 * (their version IDs live in per-key remote state), export/import
 * remotes (another layout), anonymous access.
 */
import type { SpecialRemoteConfig } from "../../remotes/index.js";
import { BadSizeError, parseSize } from "../../sizes/index.js";

/** Everything the S3 storage needs to reach a remote's bucket. */
export interface S3Settings {
  /** Lower-cased, as git-annex lower-cases it (getBucketName). */
  readonly bucket: string;
  /** e.g. `http://127.0.0.1:9000` or `http://s3.amazonaws.com:80`. */
  readonly endpoint: string;
  /** The signing region. */
  readonly region: string;
  /** `requeststyle=path`: the bucket in the path, not the host name. */
  readonly pathStyle: boolean;
  /** Put before every key's serialization to name its object. */
  readonly filePrefix: string;
  readonly storageClass: string;
  /** `x-amz-meta-NAME=VALUE` fields: object metadata NAME → VALUE. */
  readonly metadata: Readonly<Record<string, string>>;
  /** `tagging=`: the tagging header's value, as given. */
  readonly tagging?: string;
  /** `partsize=`, in bytes; absent when not configured. */
  readonly partSize?: number;
  /** `public=yes`: objects are stored with the public-read ACL. */
  readonly publicRead: boolean;
  /** `publicurl=`: where the public reads objects (not used by the gateway, which has credentials). */
  readonly publicUrl?: string;
}

/** A setting annexgate cannot use: the reason, in git-annex's words where it has some. */
export class S3SettingsError extends Error {}

/** git-annex's default host: the datacenter then picks the AWS endpoint. */
const AWS_DEFAULT_HOST = "s3.amazonaws.com";

export function readS3Settings(config: SpecialRemoteConfig): S3Settings {
  const f = config.fields;
  refuseUnsupported(f);
  const bucket = f.bucket;
  if (bucket === undefined || bucket === "") throw new S3SettingsError("S3 bucket not configured");
  const datacenter = f.datacenter ?? "US";
  const { endpoint } = endpointOf(f, datacenter);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) {
    if (k.startsWith("x-amz-meta-") && k.length > "x-amz-meta-".length) {
      metadata[k.slice("x-amz-meta-".length)] = v;
    }
  }
  const requestStyle = f.requeststyle;
  if (requestStyle !== undefined && requestStyle !== "path") {
    throw new S3SettingsError(`bad S3 requeststyle value: ${requestStyle}`);
  }
  const partSize = partSizeOf(f.partsize);
  return {
    bucket: bucket.toLowerCase(),
    endpoint,
    region: f.region ?? regionOfDatacenter(datacenter),
    pathStyle: requestStyle === "path",
    filePrefix: f.fileprefix ?? "",
    storageClass: f.storageclass ?? "STANDARD",
    metadata,
    ...(f.tagging !== undefined ? { tagging: f.tagging } : {}),
    ...(partSize !== undefined ? { partSize } : {}),
    publicRead: f.public === "yes",
    ...(f.publicurl !== undefined ? { publicUrl: f.publicurl } : {}),
  };
}

/**
 * The origins (`scheme://host:port`) of the URLs the remote's S3 client
 * names, presigned ones included: its endpoint, and, unless requests are
 * path-style, the endpoint with the bucket in the host name (the SDK's
 * virtual-host style; it falls back to the path where a bucket cannot be
 * a host name). What a web page that uploads to the remote must be
 * allowed to reach; empty when the remote's settings cannot be read.
 */
export function s3UrlOrigins(config: SpecialRemoteConfig): string[] {
  let settings: S3Settings;
  try {
    settings = readS3Settings(config);
  } catch (e) {
    if (e instanceof S3SettingsError) return [];
    throw e;
  }
  const endpoint = new URL(settings.endpoint);
  const origins = [endpoint.origin];
  // An IP address is never a bucket's host: the SDK goes by the path then.
  const ip = endpoint.hostname.startsWith("[") || /^[0-9.]+$/.test(endpoint.hostname);
  if (!settings.pathStyle && !ip) {
    origins.push(`${endpoint.protocol}//${settings.bucket}.${endpoint.host}`);
  }
  return origins;
}

/** The object a key (or chunk key) is stored under: fileprefix + the serialized key. */
export function objectName(settings: S3Settings, serializedKey: string): string {
  return settings.filePrefix + serializedKey;
}

/** The object holding the remote's UUID (uuidFile). */
export function uuidObjectName(settings: S3Settings): string {
  return `${settings.filePrefix}annex-uuid`;
}

function refuseUnsupported(f: Readonly<Record<string, string>>): void {
  if (f.mungekeys !== undefined || (f.host ?? "").toLowerCase().endsWith("archive.org")) {
    throw new S3SettingsError("Internet Archive S3 remotes are not supported yet");
  }
  if (f.versioning === "yes") {
    throw new S3SettingsError("versioned S3 remotes (versioning=yes) are not supported yet");
  }
  if (f.importtree === "yes") {
    throw new S3SettingsError("S3 import remotes are not supported yet");
  }
  // An export remote is served only with annexobjects=yes (peers/special/open-export.ts).
  if (f.exporttree === "yes" && f.annexobjects !== "yes") {
    throw new S3SettingsError(
      "S3 export remotes without annexobjects=yes are not supported yet (nor proxied by git-annex)",
    );
  }
  if (f.signature === "anonymous") {
    throw new S3SettingsError("anonymous S3 remotes are not supported yet");
  }
}

/**
 * The endpoint as git-annex computes it (s3Configuration): the default
 * host means the datacenter's AWS host; a port of 80 with https means
 * 443; without a protocol, port 443 means https.
 */
function endpointOf(f: Readonly<Record<string, string>>, datacenter: string): { endpoint: string } {
  const host = f.host ?? AWS_DEFAULT_HOST;
  const hostName = host === AWS_DEFAULT_HOST ? awsHostName(datacenter) : host;
  const protocolField = f.protocol;
  if (protocolField !== undefined && protocolField !== "http" && protocolField !== "https") {
    throw new S3SettingsError(`bad S3 protocol value: ${protocolField}`);
  }
  let port: number;
  if (f.port === undefined) {
    port = protocolField === "https" ? 443 : 80;
  } else {
    if (!/^\s*\d+\s*$/.test(f.port) || Number(f.port) > 65535) {
      throw new S3SettingsError(`bad S3 port value: ${f.port}`);
    }
    port = Number(f.port);
    if (port === 80 && protocolField === "https") port = 443;
  }
  const protocol = protocolField ?? (port === 443 ? "https" : "http");
  // A host with a colon is an IPv6 address: bracketed in a URL.
  const urlHost = hostName.includes(":") ? `[${hostName}]` : hostName;
  return { endpoint: `${protocol}://${urlHost}:${port}` };
}

/** Remote/Helper/AWS.hs s3HostName. */
function awsHostName(datacenter: string): string {
  if (datacenter === "US") return "s3.amazonaws.com";
  if (datacenter === "EU") return "s3-eu-west-1.amazonaws.com";
  if (datacenter === "cn-north-1") return "s3.cn-north-1.amazonaws.com.cn";
  return `s3-${datacenter}.amazonaws.com`;
}

/** The signing region of a datacenter: "US" and "EU" are location constraints, not regions. */
function regionOfDatacenter(datacenter: string): string {
  if (datacenter === "US") return "us-east-1";
  if (datacenter === "EU") return "eu-west-1";
  return datacenter;
}

function partSizeOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let size: bigint;
  try {
    size = parseSize(text);
  } catch (e) {
    // git-annex (getPartSize) reads an unreadable size as no part size.
    if (e instanceof BadSizeError) return undefined;
    throw e;
  }
  if (size <= 0n) return undefined;
  return Number(size > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : size);
}
