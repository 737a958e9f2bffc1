// What every HTTP handler answers with: JSON, static files, small HTML pages, and request bodies
// read with a size cap. Security headers every response carries are set here once.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorCode } from "../errors.js";

export const MAX_BODY_BYTES = 256 * 1024;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export type StaticFile = { body: string | Buffer; type: string; etag: string };

export const BASE_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(text);
}

/** A GraphQL-over-HTTP error answered before the request reaches yoga (e.g. a body too large). */
export function sendGraphQLError(res: ServerResponse, status: number, code: ErrorCode, message: string) {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, { "content-type": "application/graphql-response+json; charset=utf-8" });
}

export function sendStatic(req: IncomingMessage, res: ServerResponse, file: StaticFile, headers: Record<string, string> = {}) {
  const common = { ...BASE_HEADERS, etag: file.etag, "cache-control": "no-cache", ...headers };
  if (req.headers["if-none-match"] === file.etag) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { ...common, "content-type": file.type, "content-length": Buffer.byteLength(file.body) });
  res.end(req.method === "HEAD" ? undefined : file.body);
}

export function sendHtml(res: ServerResponse, status: number, html: string, csp: string) {
  res.writeHead(status, { ...BASE_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": csp, "cache-control": "no-store" });
  res.end(html);
}

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
