// node:http routing: /graphql (yoga, with a body limit) and GraphiQL, the popup (/connect),
// the SDK (/connect.js), logos, the popup's close beacon, health, and the local admin channel.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { YogaServerInstance } from "graphql-yoga";
import type { Context } from "./context.js";
import type { RequestObserver } from "./request-log.js";
import { GRAPHIQL_CSP, graphiqlAssets, graphiqlPage, type StaticFile } from "./graphiql.js";
import type { Services } from "./services.js";
import type { ServerContext } from "./yoga.js";

export const MAX_BODY_BYTES = 256 * 1024;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export type HttpOptions = {
  services: Services;
  yoga: YogaServerInstance<ServerContext, Context>;
  popupAssets: Map<string, StaticFile>;
  /** Extra exact-path routes (the admin channel, the OAuth callback, health). */
  routes: Record<string, RouteHandler>;
  /** Told of every request as it starts (server/request-log.ts: one log line and metrics each). */
  observeRequest?: RequestObserver;
};

export const POPUP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const BASE_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(text);
}

function graphqlError(res: ServerResponse, status: number, code: string, message: string) {
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

async function forwardToYoga(opts: HttpOptions, req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) {
  let body: Buffer | undefined;
  if (req.method !== "GET" && req.method !== "HEAD") {
    body = await readBody(req);
    if (!body) {
      res.setHeader("connection", "close");
      return graphqlError(res, 413, "PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    }
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const response = await opts.yoga.fetch(url, { method: req.method ?? "GET", headers, body: body?.length ? new Uint8Array(body) : undefined }, { requestId });
  const out: Record<string, string | string[]> = { ...BASE_HEADERS, "x-request-id": requestId };
  response.headers.forEach((v, k) => {
    out[k] = v;
  });
  res.writeHead(response.status, out);
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.on("close", () => void reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    res.write(value);
  }
  res.end();
}

/** A metrics label for a path: the routes this handler serves; anything else is "unmatched". */
export function routeLabel(opts: Pick<HttpOptions, "popupAssets" | "routes">, path: string): string {
  if (path === "/graphql" || graphiqlAssets[path] || opts.popupAssets.has(path) || Object.hasOwn(opts.routes, path)) return path;
  if (/^\/logos\/[a-z0-9-]{1,64}\.svg$/.test(path)) return "/logos/:slug";
  return "unmatched";
}

export function createRequestHandler(opts: HttpOptions) {
  const { services } = opts;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    res.setHeader("x-request-id", requestId);
    opts.observeRequest?.(req, res, requestId);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return sendJson(res, 400, { error: "bad request" });
    }
    try {
      const path = url.pathname;
      if (path === "/graphql") {
        const wantsPage = req.method === "GET" && !url.searchParams.has("query") && (req.headers.accept ?? "").includes("text/html");
        if (wantsPage) {
          res.writeHead(200, { ...BASE_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": GRAPHIQL_CSP, "cache-control": "no-cache" });
          return void res.end(graphiqlPage());
        }
        return await forwardToYoga(opts, req, res, url, requestId);
      }
      const graphiqlAsset = graphiqlAssets[path];
      if (graphiqlAsset) return sendStatic(req, res, graphiqlAsset);

      const popupAsset = opts.popupAssets.get(path);
      if (popupAsset) {
        if (path === "/connect") return sendStatic(req, res, popupAsset, { "content-security-policy": POPUP_CSP });
        // The SDK is imported by customers' pages on other origins.
        if (path === "/connect.js" || path === "/connect.d.ts") return sendStatic(req, res, popupAsset, { "access-control-allow-origin": "*", "cross-origin-resource-policy": "cross-origin" });
        return sendStatic(req, res, popupAsset);
      }
      const logo = /^\/logos\/([a-z0-9-]{1,64})\.svg$/.exec(path);
      if (logo) {
        const svg = services.catalog.logoSvg(logo[1]!);
        if (!svg) return sendJson(res, 404, { error: "not found" });
        return sendStatic(req, res, { body: svg, type: "image/svg+xml", etag: `"${logo[1]}-${svg.length}"` }, {
          // An SVG is a document: never let one run script, whoever wrote it.
          "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
          "cross-origin-resource-policy": "cross-origin",
          "cache-control": "public, max-age=3600",
        });
      }
      const route = opts.routes[path];
      if (route) return await route(req, res, url);
      return sendJson(res, 404, { error: "not found" });
    } catch (error) {
      services.logger.error({ err: { message: (error as Error).message, stack: (error as Error).stack }, requestId, path: url.pathname }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error", requestId });
      else res.destroy();
    }
  };
}
