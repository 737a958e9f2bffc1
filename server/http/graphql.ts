// /graphql over HTTP: GraphiQL's page for a browser (when enabled), everything else to yoga with a
// body limit, as GET or as an application/json POST only (a form can POST across sites without a
// preflight; it never runs a GraphQL operation here). CORS for any origin, never with credentials:
// the SDK on customers' pages calls this with a bearer token and no cookies. The request id
// travels into yoga's context so errors and logs carry it.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { YogaServerInstance } from "graphql-yoga";
import type { Context } from "../schema/context.js";
import type { ServerContext } from "../yoga.js";
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

/** `application/json`, with or without parameters (charset). */
const isJson = (contentType: string | undefined) => (contentType ?? "").split(";")[0]!.trim().toLowerCase() === "application/json";

export function graphqlEndpoint(yoga: YogaServerInstance<ServerContext, Context>, opts: { graphiql: boolean }) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => {
    const wantsPage = req.method === "GET" && !url.searchParams.has("query") && (req.headers.accept ?? "").includes("text/html");
    if (wantsPage) {
      if (!opts.graphiql) return sendJson(res, 404, { error: "not found" });
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
    let body: Buffer | undefined;
    if (req.method !== "GET" && req.method !== "HEAD") {
      body = await readBody(req);
      if (!body) {
        res.setHeader("connection", "close");
        return sendGraphQLError(res, 413, "PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      }
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const response = await yoga.fetch(url, { method: req.method ?? "GET", headers, body: body?.length ? new Uint8Array(body) : undefined }, { requestId, clientAddress: req.socket.remoteAddress });
    const out: Record<string, string | string[]> = { ...BASE_HEADERS, "x-request-id": requestId };
    response.headers.forEach((v, k) => {
      out[k] = v;
    });
    res.writeHead(response.status, out);
    if (!response.body) return void res.end();
    const reader = response.body.getReader();
    // The client left mid-stream (an SSE subscription closed): stop reading; a failure to cancel
    // a stream that already ended changes nothing.
    res.on("close", () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  };
}
