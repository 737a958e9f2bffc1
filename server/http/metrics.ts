// Prometheus metrics (prom-client) for one instance, served at /metrics on the same port, but only
// to loopback callers that did not come through a proxy, or to callers with the bearer token
// ONE_RUNTIME_METRICS_TOKEN when it is set. A registry per instance: tests run several in one process.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { SessionStatus } from "../generated/prisma/enums.js";
import type { Logger } from "../logger.js";
import { sendJson, type RouteHandler } from "./responses.js";

/** Scrapes within this window reuse the last session count instead of querying again. */
export const SESSION_COUNT_CACHE_MS = 5_000;
const SESSION_COUNT_TIMEOUT_MS = 2_000;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export type RequestSample = { route: string; method: string; status: number; durationMs: number; aborted: boolean };

/** One proxied call: who answered (the provider, or the proxy with one of its error codes). */
export type ProxySample = { integration: string; origin: "provider" | "proxy"; status: number; code?: string; attempts: number; durationMs: number };

export type Metrics = {
  registry: Registry;
  /** A request arrived (the in-flight gauge); observeRequest is its end. */
  requestStarted(): void;
  observeRequest(sample: RequestSample): void;
  /** A proxied call ended (server/http/proxy.ts). */
  observeProxy(sample: ProxySample): void;
  /** Where the WebSocket figures come from, once the WebSocket server exists. */
  setWebSocketStats(stats: () => { connections: number; subscriptions: number }): void;
  handler: RouteHandler;
};

export type SessionCounter = () => Promise<{ status: string; count: number }[]>;

function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Whether this caller may read /metrics; see the module comment. */
export function metricsAllowed(req: IncomingMessage, token: string | undefined): "ok" | "unauthorized" | "forbidden" {
  if (token) {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    return bearer && sameSecret(bearer[1]!, token) ? "ok" : "unauthorized";
  }
  // A reverse proxy on the same host makes every caller look local; its forwarding headers give it away.
  const proxied = req.headers["x-forwarded-for"] !== undefined || req.headers.forwarded !== undefined || req.headers["x-real-ip"] !== undefined;
  return LOOPBACK.test(req.socket.remoteAddress ?? "") && !proxied ? "ok" : "forbidden";
}

/**
 * Sessions by status from the database, cached briefly so a burst of scrapes costs one query. The
 * database's count is the same from every instance: aggregate with max(), not sum().
 */
function sessionGauge(registry: Registry, countSessions: SessionCounter, logger: Logger) {
  let cached: { at: number; rows: { status: string; count: number }[] } | undefined;
  let pending: Promise<void> | undefined;
  const countFailures = new Counter({
    name: "one_runtime_metrics_session_count_failures_total",
    help: "Scrapes whose hosted connection session count could not be read from the database",
    registers: [registry],
  });
  const refreshCounts = () =>
    (pending ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const rows = await Promise.race([
          countSessions(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("session count timed out")), SESSION_COUNT_TIMEOUT_MS);
          }),
        ]);
        cached = { at: Date.now(), rows };
      } catch (e) {
        // A scrape still answers: the last known figures stay, the failure is counted and logged.
        countFailures.inc();
        logger.debug({ err: { message: (e as Error).message } }, "session count for metrics failed");
      } finally {
        clearTimeout(timer);
        pending = undefined;
      }
    })());
  new Gauge({
    name: "one_runtime_hosted_connection_sessions",
    help: "Hosted connection sessions in the database by status (all instances see the same figure)",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      if (!cached || Date.now() - cached.at > SESSION_COUNT_CACHE_MS) await refreshCounts();
      if (!cached) return;
      for (const status of Object.values(SessionStatus)) this.set({ status }, 0);
      for (const row of cached.rows) this.set({ status: row.status }, row.count);
    },
  });
}

export function createMetrics(opts: { countSessions: SessionCounter; token: string | undefined; logger: Logger }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "one-runtime" });
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: "one_runtime_http_requests_total",
    help: "HTTP requests answered, by route, method and status",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "one_runtime_http_request_errors_total",
    help: "HTTP requests that ended in a server error (5xx) or were aborted before the response finished",
    labelNames: ["route", "method", "kind"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "one_runtime_http_request_duration_seconds",
    help: "HTTP request latency, from the request's arrival to the response's end",
    labelNames: ["route", "method"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const inFlight = new Gauge({
    name: "one_runtime_http_requests_in_flight",
    help: "HTTP requests being served right now",
    registers: [registry],
  });

  // Labels stay bounded: integrations are the catalog's slugs ("unknown" before one is known),
  // outcomes a status class or one of the proxy's error codes.
  const proxyRequests = new Counter({
    name: "one_runtime_proxy_requests_total",
    help: "Proxied calls by integration and outcome: the provider's status class (2xx, 4xx, ...) or the proxy's own error code",
    labelNames: ["integration", "outcome"],
    registers: [registry],
  });
  const proxyRetries = new Counter({
    name: "one_runtime_proxy_retries_total",
    help: "Requests the proxy sent again to a provider (after a 401 refresh, or a 429/503 when asked to retry), by integration",
    labelNames: ["integration"],
    registers: [registry],
  });
  const proxyDuration = new Histogram({
    name: "one_runtime_proxy_request_duration_seconds",
    help: "Proxied call latency, from the request's arrival to the response's end, retries included",
    labelNames: ["integration"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });

  let wsStats: () => { connections: number; subscriptions: number } = () => ({ connections: 0, subscriptions: 0 });
  new Gauge({
    name: "one_runtime_websocket_connections",
    help: "Open graphql-ws WebSocket connections on this instance",
    registers: [registry],
    collect() {
      this.set(wsStats().connections);
    },
  });
  new Gauge({
    name: "one_runtime_websocket_subscriptions",
    help: "Open GraphQL subscriptions over WebSocket on this instance",
    registers: [registry],
    collect() {
      this.set(wsStats().subscriptions);
    },
  });

  sessionGauge(registry, opts.countSessions, opts.logger);

  return {
    registry,
    requestStarted() {
      inFlight.inc();
    },
    observeRequest({ route, method, status, durationMs, aborted }) {
      inFlight.dec();
      const m = METHODS.has(method) ? method : "OTHER";
      requests.inc({ route, method: m, status: String(status) });
      duration.observe({ route, method: m }, durationMs / 1000);
      if (aborted) errors.inc({ route, method: m, kind: "aborted" });
      else if (status >= 500) errors.inc({ route, method: m, kind: "server_error" });
    },
    observeProxy({ integration, origin, status, code, attempts, durationMs }) {
      proxyRequests.inc({ integration, outcome: origin === "proxy" ? (code ?? "INTERNAL_SERVER_ERROR") : `${Math.floor(status / 100)}xx` });
      if (attempts > 1) proxyRetries.inc({ integration }, attempts - 1);
      proxyDuration.observe({ integration }, durationMs / 1000);
    },
    setWebSocketStats(stats) {
      wsStats = stats;
    },
    handler: async (req: IncomingMessage, res: ServerResponse) => {
      const allowed = metricsAllowed(req, opts.token);
      if (allowed === "unauthorized") return sendJson(res, 401, { error: "metrics need Authorization: Bearer <ONE_RUNTIME_METRICS_TOKEN>" }, { "www-authenticate": "Bearer" });
      if (allowed === "forbidden") return sendJson(res, 403, { error: "metrics are served to loopback callers only; set ONE_RUNTIME_METRICS_TOKEN to scrape from elsewhere" });
      const body = await registry.metrics();
      res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(body);
    },
  };
}
