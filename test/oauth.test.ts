// OAuth2 through the public API against a real authorization server (oauth2-mock-server):
// OAuth apps, authorization with state + PKCE, the callback's refusals, token refresh under
// concurrency, NEEDS_REAUTH, reconnect in place, revocation, and the secret never leaking.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN_REQUEST_TIMEOUT_MS } from "../server/oauth/provider.js";
import { followAuthorization, startMockProvider, type MockProvider } from "./support/oauth-provider.js";
import { startTestServer, type TestServer } from "./support/server.js";

const CLIENT_SECRET = "mock-client-secret-7f3a9c1e5b";
const CONFIGURE = `mutation($input: ConfigureIntegrationInput!) { configureIntegration(input: $input) { integrationSlug oauthClientId hasClientSecret scopes redirectUri } }`;
const START = `mutation($input: StartHostedConnectionAuthorizationInput!) { startHostedConnectionAuthorization(input: $input) { authorizationUrl } }`;
const READ = `{ hostedConnectionSession { status connectionId error { code } } }`;
const CREDS = `query($id: ID!) { connection(id: $id) { id status statusReason metadata scopes credentials { accessToken tokenType expiresAt scopes } } }`;

let server: TestServer;
let provider: MockProvider;
let org: { apiKey: string; organizationId: string };

beforeAll(async () => {
  provider = await startMockProvider();
  server = await startTestServer({ env: { ONE_RUNTIME_CATALOG_DIR: provider.catalogDir, ONE_RUNTIME_SANDBOX: "true" } });
  org = await server.createOrganization("OAuth org");
});
afterAll(async () => {
  await server?.stop();
  await provider?.stop();
});

async function configure(slug = "mock-provider") {
  const r = await server.gql(CONFIGURE, { input: { integrationSlug: slug, oauthClientId: "mock-client", oauthClientSecret: CLIENT_SECRET } }, { token: org.apiKey });
  expect(r.errors).toBeUndefined();
  return r.data.configureIntegration;
}

async function begin(endUserId: string, extra: Record<string, unknown> = {}) {
  const { sessionToken, sessionId } = await server.createSession(org.apiKey, { integrationSlug: "mock-provider", endUserId, ...extra });
  const r = await server.gql(START, { input: { connectionName: `${endUserId}'s mock` } }, { token: sessionToken });
  expect(r.errors).toBeUndefined();
  return { sessionToken, sessionId, authorizationUrl: r.data.startHostedConnectionAuthorization.authorizationUrl as string };
}

async function connect(endUserId: string, extra: Record<string, unknown> = {}) {
  const flow = await begin(endUserId, extra);
  const back = await followAuthorization(flow.authorizationUrl);
  expect(back.status).toBe(200);
  const s = await server.gql(READ, {}, { token: flow.sessionToken });
  return { ...flow, connectionId: s.data.hostedConnectionSession.connectionId as string };
}

const sessionState = (token: string) => server.gql(READ, {}, { token }).then((r) => r.data.hostedConnectionSession);

describe("OAuth apps", () => {
  it("a session for an OAuth2 integration without an app fails with INTEGRATION_NOT_CONFIGURED and stores nothing", async () => {
    const before = await server.services.prisma.hostedConnectionSession.count();
    const r = await server.gql(`mutation { createHostedConnectionSession(input: { integrationSlug: "mock-provider", endUserId: "x" }) { sessionToken } }`, {}, { token: org.apiKey });
    expect(r.errors?.[0]?.extensions?.code).toBe("INTEGRATION_NOT_CONFIGURED");
    expect(await server.services.prisma.hostedConnectionSession.count()).toBe(before);
  });

  it("configures an app, shows the redirect URI to register, and never returns the secret", async () => {
    const config = await configure();
    expect(config).toEqual({ integrationSlug: "mock-provider", oauthClientId: "mock-client", hasClientSecret: true, scopes: [], redirectUri: `${server.url}/oauth/callback` });
    const listed = await server.gql(`{ integrationConfigs { integrationSlug } oauthRedirectUri integration(slug: "mock-provider") { configuration { oauthClientId } } }`, {}, { token: org.apiKey });
    expect(listed.data).toEqual({ integrationConfigs: [{ integrationSlug: "mock-provider" }], oauthRedirectUri: `${server.url}/oauth/callback`, integration: { configuration: { oauthClientId: "mock-client" } } });
  });

  it("refuses to configure an integration that does not use OAuth2", async () => {
    const r = await server.gql(CONFIGURE, { input: { integrationSlug: "openai", oauthClientId: "a", oauthClientSecret: "b" } }, { token: org.apiKey });
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("authorization and callback", () => {
  beforeAll(() => configure());

  it("starts with a 256-bit state and a PKCE S256 challenge, and moves the session to AUTHORIZING", async () => {
    const { authorizationUrl, sessionToken } = await begin("alice");
    const url = new URL(authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${provider.url}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "mock-client",
      redirect_uri: `${server.url}/oauth/callback`,
      scope: "read write",
      code_challenge_method: "S256",
    });
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await sessionState(sessionToken)).status).toBe("AUTHORIZING");
    const row = await server.services.prisma.hostedConnectionSession.findFirstOrThrow({ where: { endUserId: "alice" } });
    expect(JSON.stringify(row)).not.toContain(url.searchParams.get("state"));
  });

  it("exchanges the code with the PKCE verifier, seals the tokens and connects", async () => {
    provider.tokenRequests.length = 0;
    const flow = await begin("bob");
    const challenge = new URL(flow.authorizationUrl).searchParams.get("code_challenge");
    const back = await followAuthorization(flow.authorizationUrl);
    expect(back.status).toBe(200);
    expect(back.body).toContain("Connected to");
    const exchange = provider.tokenRequests.find((r) => r.grant_type === "authorization_code")!;
    expect(createHash("sha256").update(exchange.code_verifier!).digest("base64url")).toBe(challenge);
    const s = await sessionState(flow.sessionToken);
    expect(s.status).toBe("CONNECTED");
    const c = await server.gql(CREDS, { id: s.connectionId }, { token: org.apiKey });
    // The scopes are what the provider says it granted (this mock grants "dummy"), not what we asked.
    expect(c.data.connection).toMatchObject({ status: "ACTIVE", scopes: ["dummy"], credentials: { tokenType: "bearer", scopes: ["dummy"] } });
    expect(c.data.connection.credentials.accessToken.length).toBeGreaterThan(20);
    const row = await server.services.prisma.connection.findUniqueOrThrow({ where: { id: s.connectionId } });
    expect(row.credentialsEnc).not.toContain(c.data.connection.credentials.accessToken.slice(0, 30));
  });

  it("a replayed callback is refused and stores nothing", async () => {
    const flow = await begin("carol");
    const first = await followAuthorization(flow.authorizationUrl);
    expect(first.status).toBe(200);
    const count = await server.services.prisma.connection.count();
    const replay = await fetch(first.callbackUrl, { redirect: "manual" });
    expect(replay.status).toBe(400);
    expect(replay.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await server.services.prisma.connection.count()).toBe(count);
  });

  it("a tampered or unknown state is refused, nothing stored, the session left authorizing", async () => {
    const flow = await begin("dave");
    const atProvider = await fetch(flow.authorizationUrl, { redirect: "manual" });
    const callback = new URL(atProvider.headers.get("location")!);
    callback.searchParams.set("state", `${callback.searchParams.get("state")!.slice(0, -2)}xx`);
    const count = await server.services.prisma.connection.count();
    const r = await fetch(callback, { redirect: "manual" });
    expect(r.status).toBe(400);
    expect(await server.services.prisma.connection.count()).toBe(count);
    expect((await sessionState(flow.sessionToken)).status).toBe("AUTHORIZING");
    const missing = await fetch(`${server.url}/oauth/callback?code=abc`);
    expect(missing.status).toBe(400);
  });

  it("two concurrent callbacks with one state: exactly one wins", async () => {
    const flow = await begin("erin");
    const callbackUrl = (await fetch(flow.authorizationUrl, { redirect: "manual" })).headers.get("location")!;
    const results = await Promise.all(Array.from({ length: 5 }, () => fetch(callbackUrl, { redirect: "manual" }).then((r) => r.status)));
    expect(results.filter((s) => s === 200)).toHaveLength(1);
    expect(await server.services.prisma.connection.count({ where: { endUserId: "erin" } })).toBe(1);
  });

  it("a provider error fails the session with the provider's code", async () => {
    const flow = await begin("frank");
    provider.server.service.once("beforeAuthorizeRedirect", ({ url }: { url: URL }) => {
      url.searchParams.delete("code");
      url.searchParams.set("error", "access_denied");
    });
    const back = await followAuthorization(flow.authorizationUrl);
    expect(back.status).toBe(400);
    expect(await sessionState(flow.sessionToken)).toMatchObject({ status: "FAILED", error: { code: "access_denied" } });
  });

  it("a provider error whose description holds a NUL still fails the session cleanly (it used to be a 500)", async () => {
    const flow = await begin("frances");
    provider.server.service.once("beforeAuthorizeRedirect", ({ url }: { url: URL }) => {
      url.searchParams.delete("code");
      url.searchParams.set("error", "access_denied");
      url.searchParams.set("error_description", "denied\u0000by policy");
    });
    const from = server.logs.length;
    const back = await followAuthorization(flow.authorizationUrl);
    expect(back.status).toBe(400);
    expect(await sessionState(flow.sessionToken)).toMatchObject({ status: "FAILED", error: { code: "access_denied" } });
    expect(server.logs.slice(from).filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
  });

  it("a failing token exchange fails the session with a clear code", async () => {
    const flow = await begin("gina");
    provider.server.service.once("beforeResponse", (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 400;
      response.body = { error: "invalid_client" };
    });
    await followAuthorization(flow.authorizationUrl);
    expect(await sessionState(flow.sessionToken)).toMatchObject({ status: "FAILED", error: { code: "invalid_client" } });
  });

  it("a token exchange that times out fails the session with token_exchange_timeout", async () => {
    await configure("silent-provider");
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "silent-provider", endUserId: "slow" });
    const r = await server.gql(START, { input: {} }, { token: sessionToken });
    const started = Date.now();
    const back = await followAuthorization(r.data.startHostedConnectionAuthorization.authorizationUrl);
    expect(back.status).toBe(400);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TOKEN_REQUEST_TIMEOUT_MS - 500);
    expect(await sessionState(sessionToken)).toMatchObject({ status: "FAILED", error: { code: "token_exchange_timeout" } });
  }, TOKEN_REQUEST_TIMEOUT_MS + 120_000);

  it("a session that expires during authorization cannot complete", async () => {
    const flow = await begin("hana");
    await server.services.prisma.hostedConnectionSession.update({ where: { id: flow.sessionId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const back = await followAuthorization(flow.authorizationUrl);
    expect(back.status).toBe(410);
    expect((await sessionState(flow.sessionToken)).status).toBe("EXPIRED");
    expect(await server.services.prisma.connection.count({ where: { endUserId: "hana" } })).toBe(0);
  });

  it("checks `iss` against the issuer the catalog names, and ignores it where none is named (RFC 9207)", async () => {
    const addIss = (iss: string) =>
      provider.server.service.once("beforeAuthorizeRedirect", ({ url }: { url: URL }) => {
        url.searchParams.set("iss", iss);
      });
    const plain = await begin("iss-1");
    addIss("https://accounts.example.com"); // no issuer named for mock-provider: not compared
    expect((await followAuthorization(plain.authorizationUrl)).status).toBe(200);

    await configure("issuer-provider");
    const flow = async (endUserId: string) => {
      const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "issuer-provider", endUserId });
      const r = await server.gql(START, { input: {} }, { token: sessionToken });
      return { sessionToken, authorizationUrl: r.data.startHostedConnectionAuthorization.authorizationUrl as string };
    };
    const wrong = await flow("iss-2");
    addIss("https://attacker.example.com");
    expect((await followAuthorization(wrong.authorizationUrl)).status).toBe(400);
    expect(await sessionState(wrong.sessionToken)).toMatchObject({ status: "FAILED", error: { code: "issuer_mismatch" } });
    const right = await flow("iss-3");
    addIss(provider.url);
    expect((await followAuthorization(right.authorizationUrl)).status).toBe(200);
  });

  it("checks values the end user supplies for URL templates strictly", async () => {
    await configure("tenant-provider");
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "tenant-provider", endUserId: "ivan" });
    for (const value of ["evil.com/x", "a", "acme@attacker", "ACME.example"]) {
      const bad = await server.gql(START, { input: { userInputs: [{ key: "tenant", value }] } }, { token: sessionToken });
      expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(bad.errors?.[0]?.extensions?.fieldErrors?.[0]?.field).toBe("tenant");
    }
    const ok = await server.gql(START, { input: { userInputs: [{ key: "tenant", value: "acme-corp" }] } }, { token: sessionToken });
    expect(new URL(ok.data.startHostedConnectionAuthorization.authorizationUrl).host).toBe("acme-corp.example.com");
  });
});

describe("credentials for backends", () => {
  beforeAll(() => configure());

  it("20 parallel reads of an expiring token cause exactly one refresh; all see the new token", async () => {
    provider.server.service.once("beforeResponse", (response: { body: Record<string, unknown> }) => {
      response.body.expires_in = 60; // inside the 5-minute margin: the next read must refresh
    });
    const { connectionId } = await connect("jack");
    provider.tokenRequests.length = 0;
    const reads = await Promise.all(Array.from({ length: 20 }, () => server.gql(CREDS, { id: connectionId }, { token: org.apiKey })));
    expect(reads.every((r) => !r.errors)).toBe(true);
    expect(provider.tokenRequests.filter((r) => r.grant_type === "refresh_token")).toHaveLength(1);
    const tokens = new Set(reads.map((r) => r.data.connection.credentials.accessToken));
    expect(tokens.size).toBe(1);
    expect(new Date(reads[0]!.data.connection.credentials.expiresAt).getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
  });

  it("a refused refresh marks the connection NEEDS_REAUTH with a typed error; reconnect restores it in place", async () => {
    provider.server.service.once("beforeResponse", (response: { body: Record<string, unknown> }) => {
      response.body.expires_in = 1;
    });
    const { connectionId } = await connect("kim");
    provider.server.service.once("beforeResponse", (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 400;
      response.body = { error: "invalid_grant" };
    });
    const refused = await server.gql(CREDS, { id: connectionId }, { token: org.apiKey });
    expect(refused.errors?.[0]?.extensions?.code).toBe("NEEDS_REAUTH");
    const status = await server.gql(`query($id: ID!) { connection(id: $id) { status statusReason } }`, { id: connectionId }, { token: org.apiKey });
    expect(status.data.connection).toEqual({ status: "NEEDS_REAUTH", statusReason: "invalid_grant" });

    const again = await connect("kim", { connectionId });
    expect(again.connectionId).toBe(connectionId);
    const restored = await server.gql(CREDS, { id: connectionId }, { token: org.apiKey });
    expect(restored.errors).toBeUndefined();
    expect(restored.data.connection.status).toBe("ACTIVE");
    expect(await server.services.prisma.connection.count({ where: { endUserId: "kim" } })).toBe(1);
  });

  it("deleting revokes the token at the provider and reports it", async () => {
    const { connectionId } = await connect("lena");
    let revoked = "";
    provider.server.service.once("beforeRevoke", (_res: unknown, req: { body?: { token?: string } }) => {
      revoked = req.body?.token ?? "revoked";
    });
    const del = await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id revocation { attempted succeeded error } } }`, { id: connectionId }, { token: org.apiKey });
    expect(del.data.deleteConnection).toEqual({ id: connectionId, revocation: { attempted: true, succeeded: true, error: null } });
    expect(revoked).not.toBe("");
  });
});

describe("the OAuth2 sandbox", () => {
  it("completes a flow with no outside account: consent page, approve, connected", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "oauth2-sandbox", endUserId: "sandy" });
    const start = await server.gql(START, { input: {} }, { token: sessionToken });
    const authorizationUrl = start.data.startHostedConnectionAuthorization.authorizationUrl as string;
    expect(authorizationUrl.startsWith(`${server.url}/sandbox/oauth/authorize?`)).toBe(true);
    const consent = await fetch(authorizationUrl);
    expect(await consent.text()).toContain("Development sandbox");
    const form = new URLSearchParams(new URL(authorizationUrl).searchParams);
    form.set("decision", "approve");
    const approved = await fetch(`${server.url}/sandbox/oauth/authorize`, { method: "POST", body: form, redirect: "manual" });
    expect(approved.status).toBe(303);
    const back = await fetch(approved.headers.get("location")!, { redirect: "manual" });
    expect(back.status).toBe(200);
    expect((await sessionState(sessionToken)).status).toBe("CONNECTED");
  });

  it("denying in the sandbox fails the session with access_denied", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "oauth2-sandbox", endUserId: "sandy2" });
    const start = await server.gql(START, { input: {} }, { token: sessionToken });
    const form = new URLSearchParams(new URL(start.data.startHostedConnectionAuthorization.authorizationUrl).searchParams);
    form.set("decision", "deny");
    const denied = await fetch(`${server.url}/sandbox/oauth/authorize`, { method: "POST", body: form, redirect: "manual" });
    await fetch(denied.headers.get("location")!, { redirect: "manual" });
    expect(await sessionState(sessionToken)).toMatchObject({ status: "FAILED", error: { code: "access_denied" } });
  });
});

describe("the client secret", () => {
  it("never appears in logs, database rows or API responses", async () => {
    const configs = await server.services.prisma.integrationConfig.findMany();
    expect(JSON.stringify(configs)).not.toContain(CLIENT_SECRET);
    const api = await server.gql(`{ integrationConfigs { id integrationSlug oauthClientId hasClientSecret scopes enabled redirectUri } }`, {}, { token: org.apiKey });
    expect(JSON.stringify(api)).not.toContain(CLIENT_SECRET);
    expect(server.logs.join("")).not.toContain(CLIENT_SECRET);
    const tables = await server.services.prisma.$queryRawUnsafe<{ dump: string }[]>(
      `SELECT (SELECT json_agg(t)::text FROM "IntegrationConfig" t) || (SELECT json_agg(t)::text FROM "Connection" t) || (SELECT json_agg(t)::text FROM "HostedConnectionSession" t) AS dump`,
    );
    expect(tables[0]!.dump).not.toContain(CLIENT_SECRET);
  });
});
