// The typed Node client (@one-runtime/client), imported the way a customer's backend imports it,
// against the real server: every method, every error code it maps, and when it retries.
import { createOneRuntimeClient, OneRuntimeError, type ConnectionQuery, type OneRuntimeClient } from "@one-runtime/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const REQUEST_ID = /^[0-9a-f-]{36}$/;

let server: TestServer;
let or: OneRuntimeClient;
let org: { apiKey: string; organizationId: string };

beforeAll(async () => {
  server = await startTestServer();
  org = await server.createOrganization("Client org");
  or = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url });
});
afterAll(() => server?.stop());

/** What the popup does once the end user submits: finishes the session with its token. */
async function completeAsPopup(sessionToken: string, input: Record<string, unknown>): Promise<string> {
  const r = await server.gql(
    `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { connectionId } }`,
    { input },
    { token: sessionToken },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.completeHostedConnectionSession.connectionId;
}

async function connectOpenAi(endUserId: string): Promise<string> {
  const { sessionToken } = await or.createHostedConnectionSession({ input: { integrationSlug: "openai", endUserId } });
  return completeAsPopup(sessionToken, { credentials: [{ key: "apiKey", value: OPENAI_KEY }] });
}

/** Rejects with the OneRuntimeError the call failed with (and fails the test if it resolved). */
async function failure(call: Promise<unknown>): Promise<OneRuntimeError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(OneRuntimeError);
  return outcome.error as OneRuntimeError;
}

describe("createOneRuntimeClient", () => {
  it("has one method per backend operation, and the proxy's two", () => {
    expect(Object.keys(or).sort()).toEqual([
      "categories",
      "checkConnection",
      "configureIntegration",
      "connection",
      "connectionCredentials",
      "connections",
      "createHostedConnectionSession",
      "createWebhookEndpoint",
      "deleteConnection",
      "deleteWebhookEndpoint",
      "disableWebhookEndpoint",
      "event",
      "events",
      "integration",
      "integrationConfigs",
      "integrations",
      "oauthRedirectUri",
      "proxy",
      "proxyPages",
      "replayWebhookEvents",
      "rotateWebhookSecret",
      "updateWebhookEndpoint",
      "viewer",
      "webhookDeliveries",
      "webhookEndpoint",
      "webhookEndpoints",
    ]);
  });

  it("manages webhook endpoints and reads events with typed results", async () => {
    const { secret, endpoint } = await or.createWebhookEndpoint({ url: "https://hooks.example.com/typed", eventTypes: ["CONNECTION_CREATED"] });
    expect(secret).toMatch(/^whsec_/);
    expect(endpoint).toMatchObject({ url: "https://hooks.example.com/typed", eventTypes: ["CONNECTION_CREATED"], enabled: true });
    expect((await or.disableWebhookEndpoint({ id: endpoint.id })).enabled).toBe(false);
    expect((await or.webhookEndpoints()).nodes.map((e) => e.id)).toContain(endpoint.id);
    const page = await or.events({ first: 5 });
    expect(page.totalCount).toBeGreaterThanOrEqual(0);
    expect(await or.event({ id: "00000000-0000-4000-8000-000000000000" })).toBeNull();
    await or.deleteWebhookEndpoint({ id: endpoint.id });
    expect(await or.webhookEndpoint({ id: endpoint.id })).toBeNull();
  });

  it("refuses a missing API key and a base URL that is not http(s), before any request", () => {
    expect(() => createOneRuntimeClient({ apiKey: undefined, baseUrl: server.url })).toThrow(/apiKey is required/);
    expect(() => createOneRuntimeClient({ apiKey: " ", baseUrl: server.url })).toThrow(/apiKey is required/);
    expect(() => createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: "localhost:4000" })).toThrow(/baseUrl/);
    expect(() => createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: "ftp://example.com" })).toThrow(/baseUrl/);
  });

  it("accepts the service URL with or without a trailing slash or /graphql", async () => {
    for (const baseUrl of [`${server.url}/`, `${server.url}/graphql`, new URL(server.url)]) {
      const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl });
      expect((await client.viewer()).organization.name).toBe("Client org");
    }
  });
});

describe("the catalog", () => {
  it("viewer: the API key's organization", async () => {
    expect(await or.viewer()).toEqual({ organization: { id: org.organizationId, name: "Client org" } });
  });

  it("categories: every category, featured first", async () => {
    const categories = await or.categories();
    expect(categories.length).toBeGreaterThan(1);
    const featured = categories.map((c) => c.featured);
    expect(featured).toEqual([...featured].sort((a, b) => Number(b) - Number(a)));
    expect(categories.find((c) => c.slug === "crm")).toMatchObject({ name: "CRM", featured: true, integrationCount: expect.any(Number) });
  });

  it("integrations: lists, searches, filters and pages", async () => {
    const all = await or.integrations();
    expect(all.nodes.length).toBe(Math.min(all.totalCount, 50));

    const hub = await or.integrations({ search: "hub" });
    expect(hub.nodes[0]).toMatchObject({ slug: "hubspot", authType: "OAUTH2", logoUrl: expect.stringContaining("/logos/hubspot.svg") });

    const apiKeyOnes = await or.integrations({ authType: "API_KEY" });
    expect(apiKeyOnes.nodes.length).toBeGreaterThan(0);
    expect(apiKeyOnes.nodes.every((i) => i.authType === "API_KEY")).toBe(true);

    const crm = await or.integrations({ category: "crm" });
    expect(crm.nodes.every((i) => i.categories.includes("crm"))).toBe(true);

    const first = await or.integrations({ first: 2 });
    expect(first.nodes).toHaveLength(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = await or.integrations({ first: 2, after: first.pageInfo.endCursor });
    expect(next.nodes.map((i) => i.slug)).toEqual(all.nodes.slice(2, 4).map((i) => i.slug));
  });

  it("integration: one entry with what the popup asks for; null for an unknown slug", async () => {
    const openai = await or.integration({ slug: "openai" });
    expect(openai).toMatchObject({ slug: "openai", authType: "API_KEY", configuration: null });
    expect(openai!.credentialFields).toContainEqual(expect.objectContaining({ key: "apiKey", secret: true }));
    expect(await or.integration({ slug: "no-such-tool" })).toBeNull();
  });
});

describe("connecting an end user", () => {
  it("createHostedConnectionSession: a token for the page and the pending session", async () => {
    const created = await or.createHostedConnectionSession({
      input: { integrationSlug: "openai", endUserId: "user-1", endUserName: "Ada", endUserEmail: "ada@example.com", suggestedConnectionName: "Ada's OpenAI" },
    });
    expect(created.sessionToken).toMatch(/^ort_sess_/);
    expect(created.session).toMatchObject({
      status: "PENDING",
      integration: { slug: "openai" },
      endUser: { id: "user-1", name: "Ada", email: "ada@example.com" },
      suggestedConnectionName: "Ada's OpenAI",
    });
    expect(new Date(created.expiresAt).getTime()).toBeGreaterThan(Date.now());
  });

  it("connection, connections and connectionCredentials read what the popup created", async () => {
    const id = await connectOpenAi("user-read");
    expect(await or.connection({ id })).toMatchObject({
      id,
      status: "ACTIVE",
      authType: "API_KEY",
      integrationSlug: "openai",
      integration: { slug: "openai", name: expect.any(String) },
      endUser: { id: "user-read" },
    });
    const list = await or.connections({ endUserId: "user-read" });
    expect(list).toMatchObject({ totalCount: 1, nodes: [{ id }] });
    const withCredentials = await or.connectionCredentials({ id });
    expect(withCredentials?.credentials).toMatchObject({ authType: "API_KEY", apiKey: OPENAI_KEY, values: [{ key: "apiKey", value: OPENAI_KEY }] });
    expect(await or.connection({ id: "00000000-0000-4000-8000-000000000000" })).toBeNull();
  });

  it("deleteConnection deletes once; a second delete is NOT_FOUND", async () => {
    const id = await connectOpenAi("user-delete");
    expect(await or.deleteConnection({ id })).toEqual({ id, revocation: { attempted: false, succeeded: false, error: null } });
    expect(await or.connection({ id })).toBeNull();
    const error = await failure(or.deleteConnection({ id }));
    expect(error).toMatchObject({ code: "NOT_FOUND", status: 200, operation: "deleteConnection", fieldErrors: [] });
    expect(error.requestId).toMatch(REQUEST_ID);
  });
});

describe("OAuth apps", () => {
  it("configureIntegration stores an app whose secret is never readable; integrationConfigs and integration show it", async () => {
    const config = await or.configureIntegration({
      input: { integrationSlug: "hubspot", oauthClientId: "client-123", oauthClientSecret: "shh-secret", scopes: ["crm.objects.contacts.read"] },
    });
    const redirectUri = await or.oauthRedirectUri();
    expect(redirectUri).toBe(`${server.url}/oauth/callback`);
    expect(config).toMatchObject({ integrationSlug: "hubspot", oauthClientId: "client-123", hasClientSecret: true, enabled: true, scopes: ["crm.objects.contacts.read"], redirectUri });
    expect(JSON.stringify(config)).not.toContain("shh-secret");
    expect(await or.integrationConfigs()).toEqual([config]);
    expect((await or.integration({ slug: "hubspot" }))?.configuration).toEqual(config);
    // Configured, HubSpot sessions can now be created.
    const created = await or.createHostedConnectionSession({ input: { integrationSlug: "hubspot", endUserId: "user-oauth" } });
    expect(created.session.integration?.slug).toBe("hubspot");
  });
});

describe("errors", () => {
  it("UNAUTHENTICATED with HTTP 401 for a bad API key", async () => {
    const client = createOneRuntimeClient({ apiKey: "ort_test_not-a-real-key", baseUrl: server.url });
    const error = await failure(client.viewer());
    expect(error).toMatchObject({ name: "OneRuntimeError", code: "UNAUTHENTICATED", status: 401, operation: "viewer" });
    expect(error.requestId).toMatch(REQUEST_ID);
    expect(error.message).toBeTruthy();
  });

  it("FORBIDDEN for a session token used as an API key", async () => {
    const { sessionToken } = await or.createHostedConnectionSession({ input: { integrationSlug: "openai", endUserId: "user-forbidden" } });
    const client = createOneRuntimeClient({ apiKey: sessionToken, baseUrl: server.url });
    expect(await failure(client.connections())).toMatchObject({ code: "FORBIDDEN" });
  });

  it("NOT_FOUND for an integration that is not in the catalog", async () => {
    const error = await failure(or.createHostedConnectionSession({ input: { integrationSlug: "no-such-tool", endUserId: "u" } }));
    expect(error).toMatchObject({ code: "NOT_FOUND", operation: "createHostedConnectionSession" });
  });

  it("BAD_USER_INPUT names the offending fields", async () => {
    const error = await failure(or.createHostedConnectionSession({ input: { integrationSlug: "openai", endUserId: "u", endUserEmail: "not-an-email" } }));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.fieldErrors).toEqual([{ field: "endUserEmail", message: expect.any(String) }]);
    const notOAuth = await failure(or.configureIntegration({ input: { integrationSlug: "openai", oauthClientId: "id", oauthClientSecret: "s" } }));
    expect(notOAuth.fieldErrors).toEqual([{ field: "integrationSlug", message: expect.any(String) }]);
  });

  it("INTEGRATION_NOT_CONFIGURED for an OAuth2 integration without the organization's app", async () => {
    const other = await server.createOrganization("Unconfigured org");
    const client = createOneRuntimeClient({ apiKey: other.apiKey, baseUrl: server.url });
    const error = await failure(client.createHostedConnectionSession({ input: { integrationSlug: "hubspot", endUserId: "u" } }));
    expect(error.code).toBe("INTEGRATION_NOT_CONFIGURED");
  });

  it("never carries the request's variables, which may hold secrets", async () => {
    const error = await failure(or.configureIntegration({ input: { integrationSlug: "openai", oauthClientId: "id", oauthClientSecret: "very-secret-value" } }));
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)} ${String(error.cause)}`).not.toContain("very-secret-value");
  });
});

/** A fetch that plays the given failures first, in order, then hands over to the real one. */
function scriptedFetch(script: Array<"network" | "lost-response" | "hang" | { status: number; json?: boolean; retryAfter?: string }>) {
  const operations: string[] = [];
  const impl: typeof fetch = async (input, init) => {
    operations.push(JSON.parse(String(init?.body)).operationName);
    const step = script.shift();
    if (step === undefined) return fetch(input, init);
    if (step === "network") throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") });
    if (step === "lost-response") {
      await fetch(input, init); // the server did the work; the answer never arrives
      throw new TypeError("fetch failed", { cause: new Error("socket hang up") });
    }
    if (step === "hang") {
      return new Promise<Response>((_, reject) => init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason)));
    }
    const headers: Record<string, string> = { "content-type": step.json === false ? "text/html" : "application/graphql-response+json", "x-request-id": "req-from-proxy" };
    if (step.retryAfter !== undefined) headers["retry-after"] = step.retryAfter;
    const body = step.json === false ? "<html>Bad gateway</html>" : JSON.stringify({ errors: [{ message: "try later", extensions: { code: step.status === 429 ? "RATE_LIMITED" : "INTERNAL_SERVER_ERROR" } }] });
    return new Response(body, { status: step.status, headers });
  };
  return { fetch: impl, operations };
}

const fastRetries = { retries: 2, baseDelayMs: 1, maxDelayMs: 5 };

describe("retries", () => {
  it("a read is retried after network errors and 5xx, then succeeds", async () => {
    const scripted = scriptedFetch(["network", { status: 503 }]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: fastRetries });
    expect((await client.viewer()).organization.id).toBe(org.organizationId);
    expect(scripted.operations).toEqual(["viewer", "viewer", "viewer"]);
  });

  it("a read gives up after the bounded number of retries with the last error", async () => {
    const scripted = scriptedFetch([{ status: 502, json: false }, "network", { status: 502, json: false }, "network"]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: fastRetries });
    const error = await failure(client.categories());
    expect(error).toMatchObject({ code: "HTTP_ERROR", status: 502, requestId: "req-from-proxy", operation: "categories" });
    expect(scripted.operations).toHaveLength(3);
  });

  it("a rate-limited read waits as told by Retry-After and tries again", async () => {
    const scripted = scriptedFetch([{ status: 429, retryAfter: "0" }]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: { retries: 1, baseDelayMs: 60_000 } });
    expect(await client.integration({ slug: "openai" })).toMatchObject({ slug: "openai" });
    expect(scripted.operations).toEqual(["integration", "integration"]);
  });

  it("reports RATE_LIMITED with the status and Retry-After once retries run out", async () => {
    const scripted = scriptedFetch([{ status: 429, retryAfter: "0" }, { status: 429, retryAfter: "0" }]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: { retries: 1 } });
    expect(await failure(client.viewer())).toMatchObject({ code: "RATE_LIMITED", status: 429, retryAfterSeconds: 0 });
  });

  it("a read that fails for a reason another attempt cannot fix is not retried", async () => {
    const scripted = scriptedFetch([]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: fastRetries });
    await failure(client.connections({ first: 1000 }));
    const bad = createOneRuntimeClient({ apiKey: "ort_test_not-a-real-key", baseUrl: server.url, fetch: scripted.fetch, retry: fastRetries });
    await failure(bad.viewer());
    expect(scripted.operations).toEqual(["connections", "viewer"]);
  });

  it("a mutation is never retried, even when the network fails", async () => {
    for (const step of ["network", { status: 503 }] as const) {
      const scripted = scriptedFetch([step]);
      const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: fastRetries });
      await failure(client.createHostedConnectionSession({ input: { integrationSlug: "openai", endUserId: "user-no-retry" } }));
      expect(scripted.operations).toEqual(["createHostedConnectionSession"]);
    }
  });

  it("a mutation whose response is lost runs exactly once (a retry could have duplicated it)", async () => {
    const id = await connectOpenAi("user-lost");
    const scripted = scriptedFetch(["lost-response"]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: fastRetries });
    expect(await failure(client.deleteConnection({ id }))).toMatchObject({ code: "NETWORK_ERROR", status: undefined });
    expect(scripted.operations).toEqual(["deleteConnection"]);
    expect(await or.connection({ id })).toBeNull(); // it did happen, once
  });

  it("each attempt has a deadline: TIMEOUT, retried for reads", async () => {
    const scripted = scriptedFetch(["hang", "hang"]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, timeoutMs: 50, retry: { retries: 1, baseDelayMs: 1 } });
    expect(await failure(client.viewer())).toMatchObject({ code: "TIMEOUT" });
    expect(scripted.operations).toHaveLength(2);
  });

  it("the caller's signal aborts the call and the retries to come", async () => {
    const scripted = scriptedFetch(["hang"]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: fastRetries });
    const controller = new AbortController();
    const call = client.viewer(undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await failure(call)).toMatchObject({ code: "ABORTED" });
    expect(scripted.operations).toHaveLength(1);
  });

  it("retries can be turned off", async () => {
    const scripted = scriptedFetch(["network"]);
    const client = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url, fetch: scripted.fetch, retry: { retries: 0 } });
    expect(await failure(client.viewer())).toMatchObject({ code: "NETWORK_ERROR", message: expect.stringContaining("ECONNREFUSED") });
    expect(scripted.operations).toHaveLength(1);
  });
});

describe("types", () => {
  it("methods take the operation's variables and resolve to its root field", () => {
    expectTypeOf<Awaited<ReturnType<OneRuntimeClient["connection"]>>>().toEqualTypeOf<ConnectionQuery["connection"]>();
    expectTypeOf<Parameters<OneRuntimeClient["connection"]>[0]>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<Awaited<ReturnType<OneRuntimeClient["oauthRedirectUri"]>>>().toEqualTypeOf<string>();
    // Compile-time only: a required variable cannot be left out; optional ones can.
    const neverCalled = (client: OneRuntimeClient) => {
      // @ts-expect-error `id` is required
      void client.connection();
      // @ts-expect-error `authType` is an enum
      void client.integrations({ authType: "PASSWORD" });
      void client.integrations();
    };
    expect(neverCalled).toBeTypeOf("function");
  });
});
