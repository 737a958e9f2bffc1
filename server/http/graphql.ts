// /graphql over HTTP: GraphiQL's page for a browser (when enabled), everything else to yoga with a
// body limit, as GET or as an application/json POST only (a form can POST across sites without a
// preflight; it never runs a GraphQL operation here). CORS for any origin, never with credentials:
// the SDK on customers' pages calls this with a bearer token and no cookies. The request id
// travels into yoga's context so errors and logs carry it.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { YogaServerInstance } from "graphql-yoga";
import type { Context } from "../schema/context.js";
import { resolveCaller } from "../principal.js";
import type { Services } from "../services.js";
import type { ServerContext } from "../yoga.js";
import type { CatalogCache, EdgeRequest } from "./catalog-cache.js";
import { GRAPHIQL_CSP, graphiqlPage } from "./graphiql.js";
import { BASE_HEADERS, MAX_BODY_BYTES, readBody, sendGraphQLError, sendJson } from "./responses.js";

/** On every /graphql answer but GraphiQL's page. `*`, so no credentials (cookies) ever go along. */
export const GRAPHQL_CORS = { "access-control-allow-origin": "*", "access-control-expose-headers": "x-request-id" };
const PREFLIGHT = {
  ...GRAPHQL_CORS,
  "access-control-allow-methods": "GET, POST",
  "access-control-allow-headers": "authorization, content-type, accept",
  "access-control-max-age": "600",
};

/** A JSON object body as parsed; anything else as text (yoga answers it with its own error). */
function parsedOrRaw(text: string): object | string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && Object.keys(parsed).length > 0) return parsed;
  } catch {
    // yoga's own parse error follows
  }
  return text;
}

/** `application/json`, with or without parameters (charset). */
const isJson = (contentType: string | undefined) => (contentType ?? "").split(";")[0]!.trim().toLowerCase() === "application/json";

export function graphqlEndpoint(yoga: YogaServerInstance<ServerContext, Context>, opts: { services: Services; catalogCache: CatalogCache }) {
  const { services, catalogCache } = opts;
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => {
    const wantsPage = req.method === "GET" && !url.searchParams.has("query") && (req.headers.accept ?? "").includes("text/html");
    if (wantsPage) {
      if (!services.config.graphiql) return sendJson(res, 404, { error: "not found" });
      res.writeHead(200, { ...BASE_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": GRAPHIQL_CSP, "cache-control": "no-cache" });
      return void res.end(graphiqlPage());
    }
    for (const [k, v] of Object.entries(GRAPHQL_CORS)) res.setHeader(k, v);
    if (req.method === "OPTIONS") {
      res.writeHead(204, { ...BASE_HEADERS, ...PREFLIGHT, "content-length": "0" });
      return void res.end();
    }
    if (req.method === "POST" && !isJson(req.headers["content-type"])) {
      return sendGraphQLError(res, 415, "BAD_REQUEST", "GraphQL requests are POSTed as application/json (or sent as GET for queries)");
    }
    let text = url.search;
    if (req.method !== "GET" && req.method !== "HEAD") {
      const body = await readBody(req);
      if (!body) {
        res.setHeader("connection", "close");
        return sendGraphQLError(res, 413, "PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      }
      text = body.toString("utf8");
      // yoga (whatwg-node) takes a body already found on the request instead of reading the
      // stream we consumed: parsed once here, or the raw text for yoga to refuse in its words.
      (req as { body?: unknown }).body = parsedOrRaw(text);
    }
    for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
    const clientAddress = req.socket.remoteAddress;
    // The caller, resolved once (and its budget spent) for the cache and for yoga alike.
    const [caller] = await Promise.allSettled([resolveCaller(services, req.headers.authorization ?? null, clientAddress)]);
    const cacheKey = catalogCache.keyFor(caller!, req.method ?? "GET", req.headers.accept ?? "", text);
    const cached = cacheKey ? catalogCache.get(cacheKey) : undefined;
    if (cached) {
      res.writeHead(cached.status, { "content-type": cached.contentType, "content-length": cached.body.length });
      return void res.end(cached.body);
    }
    // Straight from node's request to node's response: no fetch Request or Response copied in
    // between, and a single write for a single result (streams for subscriptions over SSE).
    const edge: EdgeRequest = { caller: caller!, cacheKey, cacheable: false };
    await yoga.handle(req, res, { requestId, clientAddress, edge });
  };
}
