// Request budgets per API key, per session token and per address for callers without a valid
// credential: a burst beyond one is HTTP 429 RATE_LIMITED with Retry-After and runs nothing,
// other callers are unaffected, WebSocket operations are refused the same way, and the typed
// client waits as told. Several instances sharing one budget: test/multi-instance/rate-limits.test.ts.
import { createOneRuntimeClient } from "@one-runtime/client";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../server/config.js";
import { startTestServer, type TestServer } from "./support/server.js";

const API_KEY_BUDGET = 6;
const SESSION_BUDGET = 4;
const ANONYMOUS_BUDGET = 5;
const WINDOW_S = 600; // long enough that no window ends during a test, however slow the machine

const CREATE = `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken } }`;
const READ_SESSION = `{ hostedConnectionSession { id status } }`;
const VIEWER = `{ viewer { organization { id } } }`;

type Answer = { status: number; retryAfter: string | null; body: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] } };

async function post(server: TestServer, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Answer> {
  const res = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Answer["body"] };
}

function expectRateLimited(a: Answer) {
  expect(a.status).toBe(429);
  expect(a.body.data).toBeUndefined();
  expect(a.body.errors).toEqual([expect.objectContaining({ extensions: { code: "RATE_LIMITED" } })]);
  expect(a.retryAfter).toMatch(/^\d+$/);
  expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(a.retryAfter)).toBeLessThanOrEqual(WINDOW_S);
}

const errorLines = (server: TestServer) => server.logs.filter((l) => /"level":(50|60)/.test(l));

describe("configuration", () => {
  it("defaults to budgets a legitimate caller never reaches, and reads `<requests>/<seconds>s` or `off`", () => {
    const defaults = loadConfig({}).rateLimits;
    expect(defaults.apiKey!.points / defaults.apiKey!.durationSeconds).toBeGreaterThanOrEqual(100);
    expect(defaults.session!.points).toBeGreaterThanOrEqual(60);
    expect(loadConfig({ ONE_RUNTIME_RATE_LIMIT_API_KEY: "50/2s", ONE_RUNTIME_RATE_LIMIT_SESSION: "off" }).rateLimits).toMatchObject({
      apiKey: { points: 50, durationSeconds: 2 },
      session: null,
    });
    for (const bad of ["50", "50/2", "0/10s", "-1/10s", "ten/10s", "50/0s"]) {
      expect(() => loadConfig({ ONE_RUNTIME_RATE_LIMIT_ANONYMOUS: bad }), bad).toThrow(/ONE_RUNTIME_RATE_LIMIT_ANONYMOUS/);
    }
  });
});

describe("budgets on one instance", () => {
  let server: TestServer;
  const sockets: Client[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        ONE_RUNTIME_RATE_LIMIT_API_KEY: `${API_KEY_BUDGET}/${WINDOW_S}s`,
        ONE_RUNTIME_RATE_LIMIT_SESSION: `${SESSION_BUDGET}/${WINDOW_S}s`,
        ONE_RUNTIME_RATE_LIMIT_ANONYMOUS: `${ANONYMOUS_BUDGET}/${WINDOW_S}s`,
      },
    });
  });
  afterAll(async () => {
    for (const c of sockets) await c.dispose();
    await server?.stop();
  });

  const sessionCount = () => server.services.prisma.hostedConnectionSession.count();

  it("a burst beyond an API key's budget: exactly the budget runs, the rest is 429 RATE_LIMITED with Retry-After and creates nothing", async () => {
    const org = await server.createOrganization("Burst Co");
    const before = await sessionCount();
    const burst = await Promise.all(
      Array.from({ length: API_KEY_BUDGET + 4 }, (_, i) => post(server, CREATE, { input: { integrationSlug: "openai", endUserId: `burst-${i}` } }, org.apiKey)),
    );
    const ok = burst.filter((a) => a.status === 200);
    const refused = burst.filter((a) => a.status !== 200);
    expect(ok).toHaveLength(API_KEY_BUDGET);
    for (const a of ok) expect(a.body.errors).toBeUndefined();
    expect(refused).toHaveLength(4);
    for (const a of refused) expectRateLimited(a);
    expect(await sessionCount()).toBe(before + API_KEY_BUDGET);
    // Still refused afterwards, reads included, while the window lasts.
    expectRateLimited(await post(server, VIEWER, {}, org.apiKey));
  });

  it("another API key, of the same organization or another, is unaffected", async () => {
    const org = await server.createOrganization("Spent Co");
    for (let i = 0; i < API_KEY_BUDGET; i++) expect((await post(server, VIEWER, {}, org.apiKey)).status).toBe(200);
    expectRateLimited(await post(server, VIEWER, {}, org.apiKey));
    const other = await server.createOrganization("Other Co");
    expect(await post(server, VIEWER, {}, other.apiKey)).toMatchObject({ status: 200, body: { data: { viewer: { organization: { id: other.organizationId } } } } });
    const second = (await server.admin({ command: "create-api-key", organizationId: org.organizationId, name: "second" })) as { apiKey: { key: string } };
    expect((await post(server, VIEWER, {}, second.apiKey.key)).status).toBe(200);
  });

  it("a session token has its own budget: beyond it the popup's operations are 429 and change nothing; other sessions are unaffected", async () => {
    const org = await server.createOrganization("Popup Co");
    const create = (endUserId: string) => post(server, CREATE, { input: { integrationSlug: "hacker-news", endUserId } }, org.apiKey).then((a) => a.body.data.createHostedConnectionSession.sessionToken as string);
    const token = await create("popup-1");
    const otherToken = await create("popup-2");
    for (let i = 0; i < SESSION_BUDGET; i++) expect((await post(server, READ_SESSION, {}, token)).status).toBe(200);
    const connections = await server.services.prisma.connection.count();
    expectRateLimited(await post(server, `mutation { completeHostedConnectionSession(input: {}) { status } }`, {}, token));
    expect(await server.services.prisma.connection.count()).toBe(connections);
    const row = await server.services.prisma.hostedConnectionSession.findFirstOrThrow({ where: { endUserId: "popup-1" } });
    expect(row.status).toBe("PENDING");
    expect((await post(server, READ_SESSION, {}, otherToken)).status).toBe(200);
  });

  it("over a WebSocket a spent budget is a RATE_LIMITED error for the operation, without HTTP details", async () => {
    const org = await server.createOrganization("Socket Co");
    const token = (await post(server, CREATE, { input: { integrationSlug: "hacker-news", endUserId: "ws-1" } }, org.apiKey)).body.data.createHostedConnectionSession.sessionToken as string;
    for (let i = 0; i < SESSION_BUDGET; i++) expect((await post(server, READ_SESSION, {}, token)).status).toBe(200);
    const c = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${token}` } });
    sockets.push(c);
    const first = await new Promise<any>((resolve) => {
      c.subscribe({ query: `subscription { hostedConnectionSession { id status } }` }, { next: (v) => resolve(v.errors ?? v), error: (e) => resolve(e), complete: () => resolve(undefined) });
    });
    expect(first).toEqual([expect.objectContaining({ extensions: { code: "RATE_LIMITED" } })]);
  });

  it("callers without a valid credential share their address's budget; a valid key from that address is unaffected", async () => {
    const org = await server.createOrganization("Neighbour Co");
    const answers: Answer[] = [];
    // No credential and refused credentials both spend the address's budget.
    for (let i = 0; i < ANONYMOUS_BUDGET; i++) answers.push(await post(server, `{ __typename }`, {}, i % 2 ? `ort_live_${"A".repeat(43)}` : undefined));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: ANONYMOUS_BUDGET }, (_, i) => (i % 2 ? 401 : 200)));
    expectRateLimited(await post(server, `{ __typename }`));
    expectRateLimited(await post(server, VIEWER, {}, `ort_live_${"B".repeat(43)}`));
    expect((await post(server, VIEWER, {}, org.apiKey)).status).toBe(200);
  });

  it("health, metrics, the close beacon and the popup's files are outside the budgets", async () => {
    // This test runs after the address's budget is spent (above) and spends a session's.
    expectRateLimited(await post(server, `{ __typename }`));
    const org = await server.createOrganization("Beacon Co");
    const token = (await post(server, CREATE, { input: { integrationSlug: "hacker-news", endUserId: "beacon" } }, org.apiKey)).body.data.createHostedConnectionSession.sessionToken as string;
    for (let i = 0; i < SESSION_BUDGET; i++) await post(server, READ_SESSION, {}, token);
    expectRateLimited(await post(server, READ_SESSION, {}, token));
    for (const path of ["/healthz", "/readyz", "/metrics", "/connect", "/connect.js"]) expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    const beacon = await fetch(`${server.url}/connect/closed`, { method: "POST", body: token, headers: { "content-type": "text/plain" } });
    expect(beacon.status).toBe(204);
    // A close counts after the popup's reload grace (a few seconds), whatever the budgets say.
    const status = async () => (await server.services.prisma.hostedConnectionSession.findFirstOrThrow({ where: { endUserId: "beacon" } })).status;
    await expect.poll(status, { timeout: 20_000, interval: 250 }).toBe("CANCELLED");
  });

  it("a refusal is not an error in the logs", () => {
    expect(server.logs.join("\n")).toContain('"status":429');
    expect(errorLines(server)).toEqual([]);
  });
});

describe("the typed client against a real budget", () => {
  const WINDOW = 3;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ONE_RUNTIME_RATE_LIMIT_API_KEY: `1/${WINDOW}s` } });
  });
  afterAll(() => server?.stop());

  it("a rate-limited read waits for Retry-After, then succeeds", async () => {
    const org = await server.createOrganization("Patient Co");
    const seen: { status: number; retryAfter: string | null; sentAt: number; at: number }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const sentAt = Date.now();
      const res = await fetch(input, init);
      seen.push({ status: res.status, retryAfter: res.headers.get("retry-after"), sentAt, at: Date.now() });
      return res;
    };
    // Backoff alone would retry within 1 ms: only Retry-After makes the client wait long enough.
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: recording, retry: { retries: 5, baseDelayMs: 1, maxDelayMs: 10_000 } });
    // Spend the budget, then call at once; a machine stalled past the window gets another round.
    for (let round = 0; round < 3 && seen[0]?.status !== 429; round++) {
      seen.length = 0;
      for (let i = 0; i < 10 && (await post(server, VIEWER, {}, org.apiKey)).status !== 429; i++);
      expect((await client.viewer()).organization.id).toBe(org.organizationId);
    }
    expect(seen[0]).toMatchObject({ status: 429 });
    for (const s of seen.slice(0, -1)) {
      expect(s.status).toBe(429);
      expect(Number(s.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(s.retryAfter)).toBeLessThanOrEqual(WINDOW);
    }
    // Each retry was sent no sooner than the refusal before it said.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.sentAt - seen[i - 1]!.at).toBeGreaterThanOrEqual(Number(seen[i - 1]!.retryAfter) * 1000 - 50);
    expect(seen.at(-1)!.status).toBe(200);
  });
});
