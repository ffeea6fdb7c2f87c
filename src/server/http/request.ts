/**
 * A p2phttp request read and checked in the order git-annex's (servant)
 * server checks it: route, captured values, method, query parameters and
 * headers. What it names is decoded with protocol/'s value codec.
 */
import type { IncomingMessage } from "node:http";
import type { Key } from "../../keys/index.js";
import {
  type ActionClass,
  type ApiPath,
  type ApiVersion,
  DATA_LENGTH_HEADER,
  decodeB64Value,
  decodeIntegerValue,
  decodeKeyValue,
  decodeUuidValue,
  HttpApiError,
  OPERATION_CLASS,
  parseApiQuery,
  routeApiPath,
} from "../../protocol/index.js";

/** Query parameters, first value wins, as servant's QueryParam takes. */
class Query {
  readonly #params: Map<string, string[]>;
  constructor(search: string) {
    this.#params = parseApiQuery(search.startsWith("?") ? search.slice(1) : search);
  }
  get(name: string): string | undefined {
    return this.#params.get(name)?.[0];
  }
  all(name: string): string[] {
    return this.#params.get(name) ?? [];
  }
}

function required(q: Query, name: string): string {
  const v = q.get(name);
  if (v === undefined) throw new HttpApiError(400, `Query parameter ${name} is required`);
  return v;
}

/** The parsed, validated form of a request, before repository and auth checks. */
export interface ApiRequest {
  readonly path: ApiPath;
  readonly uuid: string;
  readonly version: ApiVersion;
  readonly action: ActionClass;
  readonly key?: Key;
  readonly clientUuid?: string;
  readonly bypass: string[];
  readonly offset: number;
  readonly associatedFile?: string;
  readonly dataLength?: number;
  readonly dataPresent: boolean;
  readonly timestamp?: number;
  readonly lockId?: string;
  /**
   * A refusal stock git-annex would not make (a key that is not UTF-8: it
   * takes the bytes), answered only once the request is authorized, so that
   * every earlier answer (404, 401, 403) is stock's.
   */
  readonly refusal?: HttpApiError;
}

/** decodeKeyValue, with a refusal that must wait for authorization kept aside. */
function keyDecoder(): {
  key: (text: string, what: string) => Key | undefined;
  refusal: () => HttpApiError | undefined;
} {
  let refusal: HttpApiError | undefined;
  return {
    key: (text, what) => {
      try {
        return decodeKeyValue(text, what);
      } catch (e) {
        if (!(e instanceof HttpApiError && e.data.afterAuth === true)) throw e;
        refusal ??= e;
        return undefined;
      }
    },
    refusal: () => refusal,
  };
}

/** The request's target as a URL; one the URL parser refuses ("http://[") is no API path: 404. */
function targetUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", "http://x");
  } catch {
    throw new HttpApiError(404, "not found");
  }
}

export function parseRequest(req: IncomingMessage): ApiRequest {
  const url = targetUrl(req);
  const path = routeApiPath(url.pathname);
  const uuid = decodeUuidValue(path.uuid, "capture serveruuid");
  const q = new Query(url.search);
  const method = req.method ?? "GET";
  const keys = keyDecoder();

  if (path.kind === "generic-key") return genericKeyRequest(path, uuid, q, method, keys);

  const op = path.operation;
  const capturedKey = op === "key" ? keys.key(path.key ?? "", "capture key") : undefined;
  const wantMethod = op === "key" ? "GET" : "POST";
  if (method !== wantMethod && !(wantMethod === "GET" && method === "HEAD")) {
    // Not 405: servant tries every API version's route for the path, the
    // other versions fail their version capture with 400 "bad version", and
    // servant answers the failure it ranks highest (400 over 405).
    throw new HttpApiError(400, "bad version");
  }
  const key =
    op === "key"
      ? capturedKey
      : op === "gettimestamp" || op === "keeplocked"
        ? undefined
        : keys.key(required(q, "key"), "query parameter key");
  const lockId =
    op === "keeplocked"
      ? decodeUuidValue(required(q, "lockid"), "query parameter lockid")
      : undefined;
  const cuText = op === "keeplocked" ? q.get("clientuuid") : required(q, "clientuuid");
  const clientUuid =
    cuText === undefined ? undefined : decodeUuidValue(cuText, "query parameter clientuuid");
  const bypass = q.all("bypass").map((b) => decodeUuidValue(b, "query parameter bypass"));
  const timestampText = op === "remove-before" ? required(q, "timestamp") : undefined;
  const timestamp =
    timestampText === undefined ? undefined : decodeIntegerValue(timestampText, "timestamp");
  const af = op === "key" || op === "put" ? q.get("associatedfile") : undefined;
  const offsetText = op === "key" || op === "put" ? q.get("offset") : undefined;
  const offset = offsetText === undefined ? 0 : decodeIntegerValue(offsetText, "offset");
  const { dataPresent, dataLength } = op === "put" ? putFields(path.version, q, req) : NOT_PUT;
  return {
    path,
    uuid,
    version: path.version,
    action: OPERATION_CLASS[op],
    ...(key !== undefined ? { key } : {}),
    ...(clientUuid !== undefined ? { clientUuid } : {}),
    bypass,
    offset,
    ...(af !== undefined
      ? { associatedFile: Buffer.from(decodeB64Value(af)).toString("utf8") }
      : {}),
    ...(dataLength !== undefined ? { dataLength } : {}),
    dataPresent,
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(lockId !== undefined ? { lockId } : {}),
    ...(keys.refusal() !== undefined ? { refusal: keys.refusal() as HttpApiError } : {}),
  };
}

/** The generic key path (`/git-annex/key/KEY`): a plain GET of the content. */
function genericKeyRequest(
  path: Extract<ApiPath, { kind: "generic-key" }>,
  uuid: string,
  q: Query,
  method: string,
  keys: ReturnType<typeof keyDecoder>,
): ApiRequest {
  const key = keys.key(path.key, "capture key");
  const refusal = keys.refusal();
  if (method !== "GET" && method !== "HEAD") throw new HttpApiError(405, "method not allowed");
  const cu = q.get("clientuuid");
  return {
    path,
    uuid,
    version: 0,
    action: "read",
    ...(key !== undefined ? { key } : {}),
    ...(refusal !== undefined ? { refusal } : {}),
    ...(cu !== undefined ? { clientUuid: decodeUuidValue(cu, "query parameter clientuuid") } : {}),
    bypass: q.all("bypass").map((b) => decodeUuidValue(b, "query parameter bypass")),
    offset: 0,
    dataPresent: false,
  };
}

const NOT_PUT: { dataPresent: boolean; dataLength?: number } = { dataPresent: false };

/** What only a put carries: `data-present` (v4) and the data length header. */
function putFields(
  version: number,
  q: Query,
  req: IncomingMessage,
): { dataPresent: boolean; dataLength: number } {
  let dataPresent = false;
  if (version === 4) {
    const dp = q.get("data-present");
    if (dp !== undefined) {
      const lower = dp.toLowerCase();
      if (lower !== "true" && lower !== "false") {
        throw new HttpApiError(400, "Error parsing query parameter data-present failed");
      }
      dataPresent = lower === "true";
    }
  }
  const h = req.headers[DATA_LENGTH_HEADER];
  if (h === undefined) throw new HttpApiError(400, "Header X-git-annex-data-length is required");
  return { dataPresent, dataLength: decodeIntegerValue(String(h), "X-git-annex-data-length") };
}
