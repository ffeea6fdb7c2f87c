/** The two kinds of answer the p2phttp server writes itself: JSON, and an error status. */
import type { ServerResponse } from "node:http";
import { AUTH_REALM_HEADER, JSON_CONTENT_TYPE } from "../../protocol/index.js";

export function sendJson(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { "Content-Type": JSON_CONTENT_TYPE });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (status === 401) headers["WWW-Authenticate"] = AUTH_REALM_HEADER;
  // A refused client's connection is not kept for its next request: its
  // body may be unread, and an idle kept-alive connection is held long.
  if (status === 429 || status === 503) headers.Connection = "close";
  res.writeHead(status, headers);
  res.end(message);
}
