// /graphql over HTTP: GraphiQL's page for a browser, everything else to yoga with a body limit.
// The request id travels into yoga's context so errors and logs carry it.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { YogaServerInstance } from "graphql-yoga";
import type { Context } from "../schema/context.js";
import type { ServerContext } from "../yoga.js";
import { GRAPHIQL_CSP, graphiqlPage } from "./graphiql.js";
import { BASE_HEADERS, MAX_BODY_BYTES, readBody, sendGraphQLError } from "./responses.js";

export function graphqlEndpoint(yoga: YogaServerInstance<ServerContext, Context>) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => {
    const wantsPage = req.method === "GET" && !url.searchParams.has("query") && (req.headers.accept ?? "").includes("text/html");
    if (wantsPage) {
      res.writeHead(200, { ...BASE_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": GRAPHIQL_CSP, "cache-control": "no-cache" });
      return void res.end(graphiqlPage());
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
