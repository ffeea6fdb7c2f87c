/**
 * `annexgate p2phttp --example-page`: the example upload page on the
 * API's port, behind the API's users (those who may write), tried after
 * the operator's paths. Its policy lets it reach the object stores of the
 * S3 remotes behind a gateway that offers indirect uploads.
 */
import { s3UrlOrigins } from "../peers/index.js";
import { Gateway } from "../proxy/index.js";
import type { GatewayLike, SideRoutes } from "../server/index.js";
import { ExamplePage, type ExampleSources } from "../web/index.js";

type Served = ReturnType<ExampleSources["served"]>;

/** The origins of the S3 remotes of each served gateway that offers indirect uploads. */
async function uploadOrigins(served: Served): Promise<string[]> {
  const origins = new Set<string>();
  for (const { gateway } of served) {
    if (!(gateway instanceof Gateway) || gateway.indirect === undefined) continue;
    for (const r of (await gateway.config()).remotes) {
      if (r.transport.kind !== "S3") continue;
      for (const o of s3UrlOrigins(r.transport.special)) origins.add(o);
    }
  }
  return [...origins];
}

/** The paths served beside the API: the operator's, and the example page when asked for. */
export function sideRoutesWith(
  examplePage: boolean | undefined,
  ops: SideRoutes,
  served: () => readonly {
    readonly repo: { uuid: string };
    readonly gateway: GatewayLike | null;
  }[],
): SideRoutes {
  if (examplePage !== true) return ops;
  const page = new ExamplePage({ served, uploadOrigins: () => uploadOrigins(served()) });
  return { serve: (req, res, may) => ops.serve(req, res, may) ?? page.serve(req, res, may) };
}
