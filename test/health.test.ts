// Health, readiness, request logs and metrics of one instance: what a load balancer, a log
// pipeline and a Prometheus scraper see — and what they must never see (query strings, headers,
// secrets; /metrics from outside without the token).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createHealth } from "../server/http/health.js";
import { createLogger } from "../server/logger.js";
import { createMetrics, metricsAllowed } from "../server/http/metrics.js";
import { pathOf } from "../server/http/request-log.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { REDIS_URL } from "./support/instances.js";

let server: TestServer;
let org: { apiKey: string };

beforeAll(async () => {
  server = await startTestServer({ env: { REDIS_URL } });
  org = await server.createOrganization("Health org");
});
afterAll(async () => {
  await server?.stop();
});

const silent = createLogger("silent");
const metricsText = async () => (await fetch(`${server.url}/metrics`)).text();
const metricValue = (text: string, name: string, labels = "") => {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

describe("health and readiness", () => {
  it("/healthz says the process is alive; /readyz checks the database and Redis", async () => {
    const live = await fetch(`${server.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checked: ["database", "redis"] });
  });

  it("a dependency that hangs makes /readyz answer 503 within the bound, naming it and nothing else", async () => {
    const health = createHealth({ database: async () => {}, redis: () => new Promise(() => {}) }, silent, 200);
    const url = await serve(health.readyz);
    const started = Date.now();
    // Without the bound this probe would hang for ever: the abort only turns that into a failure.
    const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    // It waited for the bound (200 ms) before giving up on the dependency, not failed at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: "unready", failed: ["redis"] });
  });

  it("a failing check's reason stays in the log, not in the public answer", async () => {
    const health = createHealth({ database: async () => Promise.reject(new Error("connect ECONNREFUSED 10.1.2.3:5432")) }, silent);
    const r = await fetch(await serve(health.readyz));
    expect(r.status).toBe(503);
    expect(await r.text()).not.toContain("10.1.2.3");
  });

  it("answers 503 from the moment shutdown starts, whatever the dependencies say", async () => {
    const health = createHealth({ database: async () => {} }, silent);
    const url = await serve(health.readyz);
    expect((await fetch(url)).status).toBe(200);
    health.markShuttingDown();
    const r = await fetch(url);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: "unready", reason: "shutting down" });
  });
});

describe("request logs", () => {
  it("one line per request: method, path without the query string, status, duration, request id — nothing else", async () => {
    const secret = "ort_sess_QUERYSTRINGSECRETxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    const r = await fetch(`${server.url}/graphql?query=%7B__typename%7D&token=${secret}`, {
      headers: { authorization: `Bearer ${org.apiKey}`, accept: "application/json", "x-custom": "header-value" },
    });
    expect(r.status).toBe(200);
    const requestId = r.headers.get("x-request-id")!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => server.logs.some((l) => l.includes(requestId) && l.includes('"msg":"request"'))).toBe(true);
    const lines = server.logs.filter((l) => l.includes(requestId)).map((l) => JSON.parse(l));
    const line = lines.find((l) => l.msg === "request")!;
    expect(Object.keys(line).sort()).toEqual(["durationMs", "level", "method", "msg", "path", "requestId", "service", "status", "time"]);
    expect(line).toMatchObject({ method: "GET", path: "/graphql", status: 200, requestId });
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    const all = server.logs.join("\n");
    expect(all).not.toContain(secret);
    expect(all).not.toContain(org.apiKey);
    expect(all).not.toContain("header-value");
  });

  it("every kind of response carries its request id, the 404s too", async () => {
    for (const path of ["/healthz", "/nope", "/connect.js", "/graphql"]) {
      const r = await fetch(`${server.url}${path}`, { method: path === "/graphql" ? "POST" : "GET", headers: { "content-type": "application/json" }, body: path === "/graphql" ? "{}" : undefined });
      expect(r.headers.get("x-request-id"), path).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("strips query strings and fragments from logged paths", () => {
    expect(pathOf("/oauth/callback?code=abc&state=def")).toBe("/oauth/callback");
    expect(pathOf("/connect#ort_sess_x")).toBe("/connect");
    expect(pathOf(undefined)).toBe("/");
    expect(pathOf(`/${"a".repeat(1000)}`).length).toBeLessThanOrEqual(256);
  });
});

describe("/metrics", () => {
  it("counts requests by route, method and status, with latency, process figures and sessions by status", async () => {
    await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "metrics-1" });
    await fetch(`${server.url}/this/path/is/${Math.random()}`);
    const r = await fetch(`${server.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/plain");
    const text = await r.text();
    expect(metricValue(text, "one_runtime_http_requests_total", 'route="/graphql",method="POST",status="200"')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, "one_runtime_http_requests_total", 'route="unmatched",method="GET",status="404"')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain("/this/path/is/"); // unknown paths never become labels
    expect(metricValue(text, "one_runtime_http_request_duration_seconds_count", 'route="/graphql",method="POST"')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, "one_runtime_hosted_connection_sessions", 'status="PENDING"')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, "one_runtime_hosted_connection_sessions", 'status="EXPIRED"')).toBe(0);
    expect(text).toMatch(/^process_cpu_user_seconds_total\{/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{/m);
  });

  it("counts server errors and aborted requests as errors", async () => {
    const metrics = createMetrics({ countSessions: async () => [], token: undefined, logger: silent });
    metrics.observeRequest({ route: "/graphql", method: "POST", status: 500, durationMs: 3, aborted: false });
    metrics.observeRequest({ route: "/graphql", method: "POST", status: 499, durationMs: 9, aborted: true });
    metrics.observeRequest({ route: "/graphql", method: "BREW", status: 200, durationMs: 1, aborted: false });
    const text = await metrics.registry.metrics();
    expect(metricValue(text, "one_runtime_http_request_errors_total", 'route="/graphql",method="POST",kind="server_error"')).toBe(1);
    expect(metricValue(text, "one_runtime_http_request_errors_total", 'route="/graphql",method="POST",kind="aborted"')).toBe(1);
    expect(metricValue(text, "one_runtime_http_requests_total", 'route="/graphql",method="OTHER",status="200"')).toBe(1);
  });

  it("shows open WebSocket connections and subscriptions", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "metrics-ws" });
    const before = metricValue(await metricsText(), "one_runtime_websocket_subscriptions") ?? 0;
    const client = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const statuses: string[] = [];
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: `subscription($t: String!) { hostedConnectionSession(sessionToken: $t) { status } }`, variables: { t: sessionToken } },
        { next: (v) => void statuses.push((v.data as any).hostedConnectionSession.status), error: reject, complete: resolve },
      ),
    );
    await expect.poll(() => statuses.length).toBe(1);
    let text = await metricsText();
    expect(metricValue(text, "one_runtime_websocket_subscriptions")).toBe(before + 1);
    expect(metricValue(text, "one_runtime_websocket_connections")).toBeGreaterThanOrEqual(1);
    await server.gql(`mutation { completeHostedConnectionSession(input: {}) { status } }`, {}, { token: sessionToken });
    await done;
    await expect.poll(async () => metricValue(await metricsText(), "one_runtime_websocket_subscriptions")).toBe(before);
    await client.dispose();
  });

  it("refuses callers that come through a proxy when no token is set", async () => {
    const r = await fetch(`${server.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.7" } });
    expect(r.status).toBe(403);
    expect(await r.text()).not.toContain("one_runtime_");
  });

  it("with ONE_RUNTIME_METRICS_TOKEN, demands the bearer token from everyone, loopback included", () => {
    const token = "metrics-token-0123456789";
    const req = (remoteAddress: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress }, headers }) as unknown as http.IncomingMessage;
    expect(metricsAllowed(req("127.0.0.1"), token)).toBe("unauthorized");
    expect(metricsAllowed(req("127.0.0.1", { authorization: "Bearer wrong" }), token)).toBe("unauthorized");
    expect(metricsAllowed(req("203.0.113.7", { authorization: `Bearer ${token}` }), token)).toBe("ok");
    expect(metricsAllowed(req("::ffff:127.0.0.1"), undefined)).toBe("ok");
    expect(metricsAllowed(req("::1"), undefined)).toBe("ok");
    expect(metricsAllowed(req("10.0.0.5"), undefined)).toBe("forbidden");
    expect(metricsAllowed(req("127.0.0.1", { forwarded: "for=203.0.113.7" }), undefined)).toBe("forbidden");
  });
});

/** Serves one route handler on a port of its own; closed after the file's tests. */
const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => unknown): Promise<string> {
  const s = http.createServer((req, res) => void handler(req, res, new URL(req.url ?? "/", "http://x")));
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}
