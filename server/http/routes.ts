// The one route table: every path the service answers over HTTP, and the dispatcher in front of
// it (request id, request log and metrics, a 500 that never leaks). WebSocket upgrades on
// /graphql are taken by server/ws.ts before they reach here.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { YogaServerInstance } from "graphql-yoga";
import type { Context } from "../schema/context.js";
import type { Services } from "../services.js";
import type { ServerContext } from "../yoga.js";
import { adminChannel } from "./admin-channel.js";
import { popupClosedBeacon } from "./close-beacon.js";
import { graphiqlFiles } from "./graphiql.js";
import type { CatalogCache } from "./catalog-cache.js";
import { graphqlEndpoint } from "./graphql.js";
import type { Health } from "./health.js";
import { logoRoute, LOGO_PATH } from "./logos.js";
import type { Metrics } from "./metrics.js";
import { oauthCallback } from "./oauth-callback.js";
import { SANDBOX_API_PATH, sandboxEndpoints } from "./oauth-sandbox.js";
import type { PopupFile } from "./popup-assets.js";
import { PROXY_PREFIX, proxyEndpoint } from "./proxy.js";
import { createRequestObserver, pathOf } from "./request-log.js";
import { sendJson, sendStatic, type RouteHandler, type StaticFile } from "./responses.js";

export type RouteDeps = {
  services: Services;
  yoga: YogaServerInstance<ServerContext, Context>;
  catalogCache: CatalogCache;
  popupAssets: Map<PopupFile, StaticFile>;
  health: Health;
  metrics: Metrics;
  /** The embedded store's admin channel token; no channel without one. */
  adminToken?: string;
  /** Where the OAuth2 sandbox sends the end user back (our callback), when the sandbox is on. */
  sandboxCallbackUrl?: () => string;
};

/** Where the admin CLI reaches a running embedded server (its URL goes into the data folder's lock). */
export const ADMIN_PATH = "/admin/rpc";

export const POPUP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The SDK is imported by customers' pages on other origins. */
const CROSS_ORIGIN = { "access-control-allow-origin": "*", "cross-origin-resource-policy": "cross-origin" };

/**
 * Paths → handlers: exact, or a prefix for keys ending in `/` (the proxy, the sandbox API). /graphql
 * and the logos' pattern are matched in createRequestHandler.
 */
export function routeTable(deps: RouteDeps): Record<string, RouteHandler> {
  const popup = (name: PopupFile, headers: Record<string, string> = {}): RouteHandler => (req, res) => sendStatic(req, res, deps.popupAssets.get(name)!, headers);
  const routes: Record<string, RouteHandler> = {
    "/connect": popup("connect.html", { "content-security-policy": POPUP_CSP }),
    "/connect/popup.js": popup("popup.js"),
    "/connect/popup.css": popup("popup.css"),
    "/connect/closed": popupClosedBeacon(deps.services),
    "/connect.js": popup("connect.js", CROSS_ORIGIN),
    "/connect.d.ts": popup("connect.d.ts", CROSS_ORIGIN),
    "/oauth/callback": oauthCallback(deps.services),
    "/healthz": deps.health.healthz,
    "/readyz": deps.health.readyz,
    "/metrics": deps.metrics.handler,
    [PROXY_PREFIX]: proxyEndpoint(deps.services, deps.metrics),
  };
  if (deps.services.config.graphiql) for (const [name, file] of Object.entries(graphiqlFiles)) routes[`/graphiql/${name}`] = (req, res) => sendStatic(req, res, file);
  if (deps.adminToken) routes[ADMIN_PATH] = adminChannel(deps.services.prisma, deps.adminToken, deps.services.vault, deps.services.apiKeys);
  if (deps.sandboxCallbackUrl) {
    const sandbox = sandboxEndpoints(deps.sandboxCallbackUrl);
    routes["/sandbox/oauth/authorize"] = sandbox.authorize;
    routes["/sandbox/oauth/token"] = sandbox.token;
    routes["/sandbox/oauth/revoke"] = sandbox.revoke;
    routes[SANDBOX_API_PATH] = sandbox.api;
  }
  return routes;
}

export function createRequestHandler(deps: RouteDeps) {
  const routes = routeTable(deps);
  const graphql = graphqlEndpoint(deps.yoga, { services: deps.services, catalogCache: deps.catalogCache });
  const logo = logoRoute(deps.services.catalog);
  const prefixes = Object.keys(routes).filter((p) => p.endsWith("/"));
  const prefixOf = (path: string) => prefixes.find((p) => path.startsWith(p));
  /** A metrics label of bounded cardinality: a route's own path or prefix, the logo pattern, or "unmatched". */
  const routeOf = (path: string) => {
    if (path === "/graphql" || Object.hasOwn(routes, path)) return path;
    const prefix = prefixOf(path);
    return prefix ? `${prefix}*` : LOGO_PATH.test(path) ? "/logos/:slug" : "unmatched";
  };
  const observe = createRequestObserver({ logger: deps.services.logger, routeOf, started: deps.metrics.requestStarted, record: deps.metrics.observeRequest });

  return async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    res.setHeader("x-request-id", requestId);
    observe(req, res, requestId);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return sendJson(res, 400, { error: "bad request" });
    }
    try {
      const path = url.pathname;
      // A prefix route is matched on the raw target: `/proxy/<id>/../../graphql` is the proxy's to
      // refuse, not GraphQL's to answer after the parser resolved the dots.
      const prefix = prefixOf(pathOf(req.url));
      if (prefix) return await routes[prefix]!(req, res, url);
      if (path === "/graphql") return await graphql(req, res, url, requestId);
      const route = Object.hasOwn(routes, path) ? routes[path] : LOGO_PATH.test(path) ? logo : undefined;
      if (route) return await route(req, res, url);
      return sendJson(res, 404, { error: "not found" });
    } catch (error) {
      deps.services.logger.error({ err: error, requestId, path: url.pathname }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error", requestId });
      else res.destroy();
    }
  };
}
