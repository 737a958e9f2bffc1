// Connection health checks against a provider API stand-in (a real HTTP server on 127.0.0.1):
// the catalog's check request sent as the connection (its credential placed by the catalog),
// the connection marked ACTIVE / DEGRADED / REVOKED with the last check's time and outcome, and
// one event per transition however many checks see it; on demand (checkConnection) and on a
// schedule that checks each connection once per interval.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDueHealthChecks } from "../server/health/schedule.js";
import { status } from "./support/provider-api.js";
import { startProxyFixture, type ProxyFixture } from "./support/proxy-fixture.js";

const KEY = "health-key-0123456789abcdef";
let fx: ProxyFixture;

const CHECK = `mutation($id: ID!) { checkConnection(id: $id) { id status statusReason lastHealthCheck { checkedAt statusCode outcome } } }`;
const EVENTS = `query($id: ID) { events(connectionId: $id) { nodes { type data } } }`;

beforeAll(async () => {
  fx = await startProxyFixture({
    env: { ONE_RUNTIME_HEALTH_CHECK_INTERVAL_MS: "600000" },
    extraEntries: (apiUrl) => ({
      "health-header": {
        categories: ["developer-tools"],
        docsUrl: "https://example.com/docs",
        description: "A provider API stand-in with a health check.",
        authType: "API_KEY",
        credentialFields: [{ key: "apiKey", label: "API key", secret: true }],
        api: { baseUrl: `${apiUrl}/v1`, auth: { type: "header", name: "X-Api-Key", value: "{apiKey}" }, healthCheck: { path: "/me" } },
      },
      "health-ok-field": {
        categories: ["developer-tools"],
        docsUrl: "https://example.com/docs",
        description: "A stand-in that answers 200 with ok: false, as Slack does.",
        authType: "API_KEY",
        credentialFields: [{ key: "apiKey", label: "API key", secret: true }],
        api: { baseUrl: `${apiUrl}/api`, healthCheck: { method: "POST", path: "/auth.test", successField: "ok" } },
      },
    }),
  });
});
afterAll(() => fx?.stop());

const check = async (id: string) => {
  const r = await fx.server.gql(CHECK, { id }, { token: fx.org.apiKey });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.checkConnection;
};
const eventsOf = async (id: string) => (await fx.server.gql(EVENTS, { id }, { token: fx.org.apiKey })).data.events.nodes.filter((e: { type: string }) => e.type.startsWith("CONNECTION_HEALTH"));

describe("health checks", () => {
  it("sends the catalog's request with the connection's credential and records an ACTIVE outcome", async () => {
    const id = await fx.connectWith("health-header", { apiKey: KEY });
    fx.api.seen.length = 0;
    const c = await check(id);
    expect(c).toMatchObject({ status: "ACTIVE", statusReason: null, lastHealthCheck: { statusCode: 200, outcome: "ok (HTTP 200)" } });
    expect(fx.api.seen).toHaveLength(1);
    expect(fx.api.seen[0]).toMatchObject({ method: "GET", url: "/v1/me" });
    expect(fx.api.seen[0]!.headers["x-api-key"]).toBe(KEY);
    expect(await eventsOf(id)).toEqual([]);
  });

  it("a provider that starts answering 401 marks the connection REVOKED and emits one event, however many checks see it", async () => {
    const id = await fx.connectWith("health-header", { apiKey: KEY });
    await check(id);
    fx.api.queue(status(401), status(401), status(401));
    const results = await Promise.all([check(id), check(id), check(id)]);
    for (const r of results) expect(r.status).toBe("REVOKED");
    expect(results[0].lastHealthCheck.statusCode).toBe(401);
    const events = await eventsOf(id);
    expect(events).toEqual([{ type: "CONNECTION_HEALTH_DEGRADED", data: expect.objectContaining({ status: "REVOKED", statusCode: 401 }) }]);
  });

  it("a provider error marks it DEGRADED, and a passing check recovers it, each with one event", async () => {
    const id = await fx.connectWith("health-header", { apiKey: KEY });
    fx.api.queue(status(503), status(503));
    expect((await check(id)).status).toBe("DEGRADED");
    expect((await check(id)).status).toBe("DEGRADED");
    const recovered = await check(id);
    expect(recovered).toMatchObject({ status: "ACTIVE", statusReason: null });
    expect((await eventsOf(id)).map((e: { type: string }) => e.type)).toEqual(["CONNECTION_HEALTH_RECOVERED", "CONNECTION_HEALTH_DEGRADED"]);
  });

  it("judges a 200 by the catalog's success field where it names one (Slack's ok: false)", async () => {
    const id = await fx.connectWith("health-ok-field", { apiKey: KEY });
    fx.api.queue((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, error: "invalid_auth" })));
    const c = await check(id);
    expect(c).toMatchObject({ status: "REVOKED", lastHealthCheck: { statusCode: 200 } });
    expect(c.lastHealthCheck.outcome).toContain("invalid_auth");
    expect(fx.api.seen.at(-1)).toMatchObject({ method: "POST", url: "/api/auth.test" });
  });

  it("refuses an integration without a health check, and another organization's connection, changing nothing", async () => {
    const id = await fx.connectWith("proxy-header", { apiKey: KEY });
    const none = await fx.server.gql(CHECK, { id }, { token: fx.org.apiKey });
    expect(none.errors?.[0]?.extensions?.code).toBe("HEALTH_CHECK_NOT_SUPPORTED");
    const stranger = await fx.server.createOrganization("Stranger");
    const own = await fx.connectWith("health-header", { apiKey: KEY });
    const r = await fx.server.gql(CHECK, { id: own }, { token: stranger.apiKey });
    expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("the scheduled pass checks each due connection once and sets its next check about an interval on", async () => {
    const id = await fx.connectWith("health-header", { apiKey: KEY });
    await fx.server.services.prisma.connection.updateMany({ data: { healthCheckDueAt: new Date(Date.now() + 3600_000) } });
    await fx.server.services.prisma.connection.update({ where: { id }, data: { healthCheckDueAt: new Date(Date.now() - 1000) } });
    fx.api.seen.length = 0;
    const [a, b] = await Promise.all([runDueHealthChecks(fx.server.services), runDueHealthChecks(fx.server.services)]);
    expect(a + b).toBe(1);
    expect(fx.api.seen).toHaveLength(1);
    const row = await fx.server.services.prisma.connection.findUniqueOrThrow({ where: { id } });
    const inMs = row.healthCheckDueAt.getTime() - Date.now();
    expect(inMs).toBeGreaterThan(0.85 * 600_000);
    expect(inMs).toBeLessThan(1.15 * 600_000);
    expect(await runDueHealthChecks(fx.server.services)).toBe(0);
  });
});
