// Webhooks: endpoints managed through the API; each event delivered to a real HTTP receiver,
// signed per Standard Webhooks (checked with the independent `standardwebhooks` package), retried
// with backoff (Retry-After honoured), recorded attempt by attempt, replayable, and the endpoint
// disabled (with an event) after too many consecutive failures.
import { verifyWebhook } from "@one-runtime/client";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postWebhook } from "../server/webhooks/send.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { startWebhookReceiver, type Responder, type WebhookReceiver } from "./support/webhook-receiver.js";

const DISABLE_AFTER = 4;
let server: TestServer;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  server = await startTestServer({
    env: {
      ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true",
      ONE_RUNTIME_WEBHOOK_POLL_MS: "100",
      ONE_RUNTIME_WEBHOOK_BACKOFF_BASE_MS: "100",
      ONE_RUNTIME_WEBHOOK_BACKOFF_MAX_MS: "400",
      ONE_RUNTIME_WEBHOOK_TIMEOUT_MS: "2000",
      ONE_RUNTIME_WEBHOOK_DISABLE_AFTER: String(DISABLE_AFTER),
    },
  });
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await server?.stop();
});

async function receiver(respond?: Responder) {
  const r = await startWebhookReceiver(respond);
  receivers.push(r);
  return r;
}

const CREATE = `mutation($url: String!, $eventTypes: [EventType!]) {
  createWebhookEndpoint(url: $url, eventTypes: $eventTypes) { secret endpoint { id url enabled eventTypes } }
}`;
const DELIVERIES = `query($endpointId: ID, $eventId: ID) {
  webhookDeliveries(endpointId: $endpointId, eventId: $eventId) {
    totalCount nodes { id status attemptCount lastStatusCode event { id type } attempts { statusCode durationMs error responseExcerpt startedAt } }
  }
}`;

/** An organization with one endpoint at `url`. */
async function orgWithEndpoint(url: string, eventTypes?: string[]) {
  const org = await server.createOrganization("Webhooks org");
  const r = await server.gql(CREATE, { url, eventTypes }, { token: org.apiKey });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  const { secret, endpoint } = r.data.createWebhookEndpoint;
  return { ...org, secret: secret as string, endpointId: endpoint.id as string };
}

async function connect(apiKey: string, endUserId = "alice") {
  const { sessionToken } = await server.createSession(apiKey, { integrationSlug: "hacker-news", endUserId });
  const r = await server.gql(`mutation { completeHostedConnectionSession(input: {}) { connectionId } }`, {}, { token: sessionToken });
  return r.data.completeHostedConnectionSession.connectionId as string;
}

async function deliveries(apiKey: string, vars: Record<string, unknown> = {}) {
  const r = await server.gql(DELIVERIES, vars, { token: apiKey });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.webhookDeliveries.nodes as any[];
}

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const headersOf = (h: Record<string, unknown>) => ({
  "webhook-id": String(h["webhook-id"]),
  "webhook-timestamp": String(h["webhook-timestamp"]),
  "webhook-signature": String(h["webhook-signature"]),
});

describe("webhook deliveries", () => {
  it("delivers an event signed per Standard Webhooks, with the event id as webhook-id", async () => {
    const r = await receiver();
    const org = await orgWithEndpoint(r.url);
    const connectionId = await connect(org.apiKey);
    const [hook] = await r.waitFor(1);
    const payload = new Webhook(org.secret).verify(hook!.body, headersOf(hook!.headers)) as any;
    expect(payload).toMatchObject({ type: "connection.created", data: { connectionId, endUserId: "alice", integrationSlug: "hacker-news", organizationId: org.organizationId } });
    const events = await server.gql(`{ events { nodes { id type } } }`, {}, { token: org.apiKey });
    expect(hook!.headers["webhook-id"]).toBe(events.data.events.nodes[0].id);
    expect(payload.id).toBe(events.data.events.nodes[0].id);
    expect(await verifyWebhook({ headers: hook!.headers, body: hook!.body, secret: org.secret })).toEqual(payload);
    expect(hook!.headers["content-type"]).toBe("application/json");
    // A wrong secret or an altered body does not verify.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(hook!.body, headersOf(hook!.headers))).toThrow();
    expect(() => new Webhook(org.secret).verify(hook!.body.replace("alice", "mallory"), headersOf(hook!.headers))).toThrow();
    const [d] = await until(() => deliveries(org.apiKey), (n) => n[0]?.status === "SUCCEEDED");
    expect(d).toMatchObject({ attemptCount: 1, lastStatusCode: 204 });
  });

  it("retries a receiver that fails twice, and it gets the same event (same id, same body) once it succeeds", async () => {
    const r = await receiver((_, res, n) => res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? "boom" : "ok"));
    const org = await orgWithEndpoint(r.url);
    await connect(org.apiKey);
    const hooks = await r.waitFor(3);
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(1);
    expect(new Set(hooks.map((h) => h.body)).size).toBe(1);
    for (const h of hooks) expect(() => new Webhook(org.secret).verify(h.body, headersOf(h.headers))).not.toThrow();
    const [d] = await until(() => deliveries(org.apiKey), (n) => n[0]?.status === "SUCCEEDED");
    expect(d.attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 200]);
    expect(d.attempts[0].responseExcerpt).toBe("boom");
    expect(d.attempts.every((a: any) => a.durationMs >= 0)).toBe(true);
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(3); // nothing after the success
  });

  it("waits as long as a 429's Retry-After asks, though its backoff would retry sooner", async () => {
    const r = await receiver((_, res, n) => (n === 1 ? res.writeHead(429, { "retry-after": "2" }).end() : res.writeHead(200).end()));
    const org = await orgWithEndpoint(r.url);
    await connect(org.apiKey);
    const [first, second] = await r.waitFor(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_900);
  });

  it("sends only the event types an endpoint asked for", async () => {
    const r = await receiver();
    const org = await orgWithEndpoint(r.url, ["SESSION_CANCELLED"]);
    await connect(org.apiKey);
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "bob" });
    await server.gql(`mutation { cancelHostedConnectionSession { status } }`, {}, { token: sessionToken });
    const [hook] = await r.waitFor(1);
    expect(JSON.parse(hook!.body).type).toBe("session.cancelled");
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(1);
  });

  it("does not follow a redirect: the 3xx is the attempt's answer", async () => {
    const target = await receiver();
    const r = await receiver((_, res) => res.writeHead(307, { location: target.url }).end());
    const org = await orgWithEndpoint(r.url);
    await connect(org.apiKey);
    await r.waitFor(1);
    const [d] = await until(() => deliveries(org.apiKey), (n) => n[0]?.attempts.length >= 1);
    expect(d.attempts[0].statusCode).toBe(307);
    expect(target.received).toHaveLength(0);
  });

  it("keeps only the start of a large response body", async () => {
    const r = await receiver((_, res) => res.writeHead(200).end("x".repeat(100_000)));
    const org = await orgWithEndpoint(r.url);
    await connect(org.apiKey);
    const [d] = await until(() => deliveries(org.apiKey), (n) => n[0]?.status === "SUCCEEDED");
    expect(d.attempts[0].responseExcerpt.length).toBe(2048);
  });

  it("replays one event, and a time range, with the same event ids", async () => {
    const r = await receiver();
    const org = await orgWithEndpoint(r.url);
    const from = new Date(Date.now() - 1000).toISOString();
    await connect(org.apiKey, "a");
    await connect(org.apiKey, "b");
    const firstTwo = await r.waitFor(2);
    const ids = firstTwo.map((h) => h.headers["webhook-id"]);
    const one = await server.gql(`mutation($id: ID!) { replayWebhookEvents(eventId: $id) { queued } }`, { id: ids[0] }, { token: org.apiKey });
    expect(one.data.replayWebhookEvents.queued).toBe(1);
    const third = (await r.waitFor(3))[2]!;
    expect(third.headers["webhook-id"]).toBe(ids[0]);
    const range = await server.gql(
      `mutation($from: DateTime!, $to: DateTime!) { replayWebhookEvents(from: $from, to: $to) { queued } }`,
      { from, to: new Date(Date.now() + 1000).toISOString() },
      { token: org.apiKey },
    );
    expect(range.data.replayWebhookEvents.queued).toBe(2);
    const all = await r.waitFor(5);
    expect(all.slice(3).map((h) => h.headers["webhook-id"]).sort()).toEqual([...ids].sort());
    const other = await server.createOrganization("Replay stranger");
    const stranger = await server.gql(`mutation($id: ID!) { replayWebhookEvents(eventId: $id) { queued } }`, { id: ids[0] }, { token: other.apiKey });
    expect(stranger.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it(`disables an endpoint after ${DISABLE_AFTER} consecutive failed attempts, fails its pending deliveries, and records an event saying so`, async () => {
    const r = await receiver((_, res) => res.writeHead(500).end());
    const org = await orgWithEndpoint(r.url);
    await connect(org.apiKey);
    const endpoint = await until(
      async () => (await server.gql(`query($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason consecutiveFailures } }`, { id: org.endpointId }, { token: org.apiKey })).data.webhookEndpoint,
      (e) => e.enabled === false,
    );
    expect(endpoint.consecutiveFailures).toBe(DISABLE_AFTER);
    expect(endpoint.disabledReason).toMatch(/consecutive failed attempts/);
    const [d] = await deliveries(org.apiKey);
    expect(d.status).toBe("FAILED");
    expect(r.received).toHaveLength(DISABLE_AFTER);
    const events = await server.gql(`{ events(type: WEBHOOK_ENDPOINT_DISABLED) { nodes { data } } }`, {}, { token: org.apiKey });
    expect(events.data.events.nodes).toHaveLength(1);
    expect(events.data.events.nodes[0].data).toMatchObject({ webhookEndpointId: org.endpointId });
  });

  it("signs with both secrets after a rotation, so either verifies", async () => {
    const r = await receiver();
    const org = await orgWithEndpoint(r.url);
    const rotated = await server.gql(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretValidUntil } } }`, { id: org.endpointId }, { token: org.apiKey });
    const newSecret = rotated.data.rotateWebhookSecret.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(org.secret);
    expect(new Date(rotated.data.rotateWebhookSecret.endpoint.previousSecretValidUntil).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    await connect(org.apiKey);
    const [hook] = await r.waitFor(1);
    expect(String(hook!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(() => new Webhook(newSecret).verify(hook!.body, headersOf(hook!.headers))).not.toThrow();
    expect(() => new Webhook(org.secret).verify(hook!.body, headersOf(hook!.headers))).not.toThrow();
  });
});

describe("the README's plain-Node verification snippet", () => {
  it("verifies a real delivery and refuses it under another secret", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const snippet = /<!-- webhook-verification-snippet -->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toBeTruthy();
    const dir = await mkdtemp(join(tmpdir(), "one-runtime-snippet-"));
    try {
      const file = join(dir, "verify.mjs");
      await writeFile(file, `${snippet}\nexport { verifyOneRuntimeWebhook };\n`);
      const { verifyOneRuntimeWebhook } = await import(file);
      const r = await receiver();
      const org = await orgWithEndpoint(r.url);
      const connectionId = await connect(org.apiKey);
      const [hook] = await r.waitFor(1);
      expect(verifyOneRuntimeWebhook(hook!.headers, hook!.body, org.secret).data.connectionId).toBe(connectionId);
      expect(() => verifyOneRuntimeWebhook(hook!.headers, hook!.body, `whsec_${Buffer.alloc(32, 9).toString("base64")}`)).toThrow(/bad signature/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("webhook endpoints", () => {
  it("stores the secret encrypted, never as given", async () => {
    const org = await orgWithEndpoint("https://hooks.example.com/one-runtime");
    const row = await server.services.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: org.endpointId } });
    expect(JSON.stringify(row)).not.toContain(org.secret.slice(6));
    const listed = await server.gql(`{ webhookEndpoints { totalCount nodes { id url enabled eventTypes } } }`, {}, { token: org.apiKey });
    expect(listed.data.webhookEndpoints.nodes).toEqual([{ id: org.endpointId, url: "https://hooks.example.com/one-runtime", enabled: true, eventTypes: [] }]);
  });

  it("refuses URLs that are not https or that name a private, link-local or metadata address, changing nothing", async () => {
    const org = await server.createOrganization("Refusals");
    for (const url of ["ftp://hooks.example.com/", "http://hooks.example.com/", "https://169.254.169.254/latest", "https://10.0.0.5/", "https://[fd00::1]/", "not a url", "https://user:pw@hooks.example.com/"]) {
      const r = await server.gql(CREATE, { url }, { token: org.apiKey });
      expect(r.errors?.[0]?.extensions?.code, url).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.extensions?.fieldErrors?.[0]?.field).toBe("url");
    }
    const listed = await server.gql(`{ webhookEndpoints { totalCount } }`, {}, { token: org.apiKey });
    expect(listed.data.webhookEndpoints.totalCount).toBe(0);
  });

  it("updates, disables, re-enables and deletes; another organization's id is NOT_FOUND", async () => {
    const org = await orgWithEndpoint("https://hooks.example.com/a");
    const other = await server.createOrganization("Stranger");
    const updated = await server.gql(
      `mutation($id: ID!) { updateWebhookEndpoint(id: $id, url: "https://hooks.example.com/b", eventTypes: [CONNECTION_DELETED]) { url eventTypes } }`,
      { id: org.endpointId },
      { token: org.apiKey },
    );
    expect(updated.data.updateWebhookEndpoint).toEqual({ url: "https://hooks.example.com/b", eventTypes: ["CONNECTION_DELETED"] });
    const disabled = await server.gql(`mutation($id: ID!) { disableWebhookEndpoint(id: $id) { enabled disabledReason } }`, { id: org.endpointId }, { token: org.apiKey });
    expect(disabled.data.disableWebhookEndpoint).toEqual({ enabled: false, disabledReason: "disabled by a call" });
    const enabled = await server.gql(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: true) { enabled } }`, { id: org.endpointId }, { token: org.apiKey });
    expect(enabled.data.updateWebhookEndpoint.enabled).toBe(true);
    for (const op of [
      `mutation($id: ID!) { updateWebhookEndpoint(id: $id, url: "https://evil.example.com") { id } }`,
      `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`,
      `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`,
    ]) {
      const r = await server.gql(op, { id: org.endpointId }, { token: other.apiKey });
      expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }
    const deleted = await server.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: org.endpointId }, { token: org.apiKey });
    expect(deleted.data.deleteWebhookEndpoint.id).toBe(org.endpointId);
    const gone = await server.gql(`query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: org.endpointId }, { token: org.apiKey });
    expect(gone.data.webhookEndpoint).toBeNull();
  });
});

describe("the outbound guard on deliveries", () => {
  /** Name resolution that answers `address` for every name, as a hostile DNS record would. */
  const resolvingTo =
    (address: string): LookupFunction =>
    (_host, options, callback) =>
      (options as { all?: boolean }).all ? (callback as any)(null, [{ address, family: 4 }]) : (callback as any)(null, address, 4);
  const send = (url: string, allowLoopback: boolean, lookup?: LookupFunction) =>
    postWebhook(url, { "webhook-id": "evt" }, "{}", { policy: { allowLoopback, ...(lookup ? { lookup } : {}) }, timeoutMs: 2_000 });

  it("refuses a name that resolves to the metadata address or to loopback, and reaches no one", async () => {
    const r = await receiver();
    const metadata = await send("https://hooks.example.com/", true, resolvingTo("169.254.169.254"));
    expect(metadata).toMatchObject({ statusCode: null, error: expect.stringMatching(/^destination refused/) });
    const loopbackName = await send("https://hooks.example.com/", false, resolvingTo("127.0.0.1"));
    expect(loopbackName).toMatchObject({ statusCode: null, error: expect.stringMatching(/^destination refused/) });
    const privateName = await send("https://hooks.example.com/", true, resolvingTo("10.1.2.3"));
    expect(privateName.error).toMatch(/^destination refused/);
    expect(r.received).toHaveLength(0);
  });

  it("reaches a loopback receiver only when the loopback switch is on", async () => {
    const r = await receiver();
    const off = await send(r.url, false);
    expect(off.error).toMatch(/^destination refused/);
    expect(r.received).toHaveLength(0);
    const on = await send(r.url, true);
    expect(on).toMatchObject({ statusCode: 204, error: null });
    expect(r.received).toHaveLength(1);
  });
});
