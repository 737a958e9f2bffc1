// Provider quirks written as catalog data, each exercised end to end through the public API
// against a stand-in provider (test/support/quirky-provider.ts): a separate refresh endpoint,
// JSON token and revocation bodies, errors in a 200 (`ok: false`), the callback's HMAC, the
// client credentials grant, end-user chosen hosts (a region select), refresh scopes and token
// responses nested under a key.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { integrationEntrySchema, oauth2Schema } from "../server/catalog/entry-schema.js";
import { callbackHmacValid } from "../server/oauth/provider.js";
import { followAuthorization } from "./support/oauth-provider.js";
import { startQuirkyProvider, tokenResponse, type QuirkyProvider } from "./support/quirky-provider.js";
import { startTestServer, type TestServer } from "./support/server.js";

const SECRET = "quirk-client-secret-5d1e";
const START = `mutation($input: StartHostedConnectionAuthorizationInput!) { startHostedConnectionAuthorization(input: $input) { authorizationUrl } }`;
const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`;
const READ = `{ hostedConnectionSession { status connectionId error { code message } integration { connectsAtProvider credentialFields { key secret optional options { value label } } } } }`;
const CREDS = `query($id: ID!) { connection(id: $id) { status statusReason credentials { accessToken tokenType expiresAt scopes } } }`;
const DELETE = `mutation($id: ID!) { deleteConnection(id: $id) { revocation { attempted succeeded error } } }`;

let provider: QuirkyProvider;
let server: TestServer;
let org: { apiKey: string; organizationId: string };
let catalogDir: string;

const entry = (slug: string, oauth2: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  slug,
  name: `Quirk ${slug}`,
  description: "A stand-in provider with one quirk.",
  categories: ["developer-tools"],
  authType: "OAUTH2",
  docsUrl: "https://example.com/docs",
  ...extra,
  oauth2: { pkce: false, defaultScopes: ["read"], ...oauth2 },
});
const endpoints = (name: string) => ({ authorizationUrl: `${provider.url}/${name}/authorize`, tokenUrl: `${provider.url}/${name}/token` });

beforeAll(async () => {
  provider = await startQuirkyProvider();
  catalogDir = await mkdtemp(join(tmpdir(), "one-runtime-quirks-"));
  await mkdir(join(catalogDir, "integrations"));
  const clientFields = [
    { key: "clientId", label: "Client ID", secret: false },
    { key: "clientSecret", label: "Client secret", secret: true },
    { key: "userId", label: "User ID", secret: false, optional: true, pattern: "[0-9]{1,20}" },
  ];
  const entries = [
    entry("q-figma", { ...endpoints("q-figma"), refreshUrl: `${provider.url}/q-figma/refresh`, tokenEndpointAuthMethod: "client_secret_basic" }),
    entry("q-quickbooks", { ...endpoints("q-quickbooks"), revocationUrl: `${provider.url}/q-quickbooks/revoke`, revocationRequestFormat: "json", tokenEndpointAuthMethod: "client_secret_basic" }),
    entry("q-notion", { ...endpoints("q-notion"), revocationUrl: `${provider.url}/q-notion/revoke`, tokenRequestFormat: "json" }),
    entry("q-slack", { ...endpoints("q-slack"), successField: "ok" }),
    entry("q-shopify", {
      authorizationUrl: `${provider.url}/{shop}/authorize`,
      tokenUrl: `${provider.url}/{shop}/token`,
      callbackHmacParam: "hmac",
      userInputs: [{ key: "shop", label: "Shop name", pattern: "[a-z0-9-]{3,30}", placeholder: "my-store" }],
    }),
    entry(
      "q-greenhouse",
      { grantType: "client_credentials", clientCredentialsFrom: "endUser", tokenUrl: `${provider.url}/q-greenhouse/token`, tokenEndpointAuthMethod: "client_secret_basic", tokenParams: { sub: "{userId}" }, defaultScopes: [] },
      { credentialFields: clientFields },
    ),
    entry("q-cc-org", { grantType: "client_credentials", tokenUrl: `${provider.url}/q-cc-org/token`, revocationUrl: `${provider.url}/q-cc-org/revoke`, defaultScopes: ["jobs:read", "users:read"] }),
    entry("q-region", {
      authorizationUrl: `${provider.url}/q-region-{region}/authorize`,
      tokenUrl: `${provider.url}/q-region-{region}/token`,
      userInputs: [{ key: "region", label: "Region", options: [{ value: "eu", label: "Europe" }, { value: "us", label: "United States" }] }],
    }),
    entry("q-scopes", { ...endpoints("q-scopes"), defaultScopes: ["read", "offline"], refreshScopes: ["read"] }),
    entry("q-nested", { ...endpoints("q-nested"), tokenResponsePath: "data" }),
  ];
  for (const e of entries) await writeFile(join(catalogDir, "integrations", `${e.slug}.json`), JSON.stringify(e));
  server = await startTestServer({ env: { ONE_RUNTIME_CATALOG_DIR: catalogDir, ONE_RUNTIME_SANDBOX: "false" } });
  org = await server.createOrganization("Quirks org");
  for (const e of entries) {
    if (e.slug === "q-greenhouse") continue;
    const r = await server.gql(
      `mutation($input: ConfigureIntegrationInput!) { configureIntegration(input: $input) { integrationSlug } }`,
      { input: { integrationSlug: e.slug, oauthClientId: `${e.slug}-client`, oauthClientSecret: SECRET } },
      { token: org.apiKey },
    );
    expect(r.errors).toBeUndefined();
  }
});
afterAll(async () => {
  await server?.stop();
  await provider?.stop();
  await rm(catalogDir, { recursive: true, force: true });
});

const requestsTo = (path: string) => provider.requests.filter((r) => r.path === path);
/** The client id and secret of an HTTP Basic header, form-decoded as RFC 6749 §2.3.1 encodes them. */
const basicClient = (header: string) => {
  const [id, secret] = Buffer.from(header.replace(/^Basic /, ""), "base64").toString("utf8").split(":");
  return `${decodeURIComponent(id ?? "")}:${decodeURIComponent(secret ?? "")}`;
};

async function begin(slug: string, userInputs: { key: string; value: string }[] = []) {
  const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: slug, endUserId: `u-${slug}-${Math.random()}` });
  const r = await server.gql(START, { input: { userInputs } }, { token: sessionToken });
  return { sessionToken, errors: r.errors, authorizationUrl: r.data?.startHostedConnectionAuthorization?.authorizationUrl as string };
}

/** Authorizes through the stand-in; returns the session as the popup then reads it. */
async function authorize(slug: string, userInputs: { key: string; value: string }[] = []) {
  const flow = await begin(slug, userInputs);
  expect(flow.errors).toBeUndefined();
  const back = await followAuthorization(flow.authorizationUrl);
  const read = await server.gql(READ, {}, { token: flow.sessionToken });
  return { ...flow, back, session: read.data.hostedConnectionSession };
}

const credentials = (id: string) => server.gql(CREDS, { id }, { token: org.apiKey });
/** Makes the next credentials read refresh (the token looks about to expire). */
async function expireSoon(connectionId: string) {
  const row = await server.services.prisma.connection.findUniqueOrThrow({ where: { id: connectionId } });
  const { openCredentials, sealCredentials } = await import("../server/connections/credentials.js");
  const stored = openCredentials(server.services.vault, row);
  if (stored.type !== "OAUTH2") throw new Error("not OAuth2");
  const next = { ...stored, tokens: { ...stored.tokens, expiresAt: new Date(Date.now() + 1000).toISOString() } };
  const sealed = sealCredentials(server.services.vault, row, next);
  await server.services.prisma.connection.update({ where: { id: connectionId }, data: { credentialsEnc: sealed.ciphertext, encryptionKeyId: sealed.keyId } });
}

describe("entry schema: quirk fields are validated", () => {
  const base = { slug: "x", name: "X", description: "X.", categories: ["crm"], authType: "OAUTH2", docsUrl: "https://example.com" };
  const issues = (oauth2: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const r = integrationEntrySchema.safeParse({ ...base, ...extra, oauth2 });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  const tokenUrl = "https://example.com/token";

  it("requires an authorization URL for the authorization code grant only", () => {
    expect(issues({ tokenUrl })).toContain("oauth2.authorizationUrl: required for the authorization_code grant");
    expect(issues({ tokenUrl, grantType: "client_credentials" })).toEqual([]);
  });

  it("wants the end user's clientId and clientSecret fields when the end user brings the client", () => {
    expect(issues({ tokenUrl, grantType: "client_credentials", clientCredentialsFrom: "endUser" })).toEqual([
      'credentialFields: client credentials from the end user need a "clientId" field',
      'credentialFields: client credentials from the end user need a "clientSecret" field',
    ]);
    expect(issues({ tokenUrl, authorizationUrl: tokenUrl, clientCredentialsFrom: "endUser" })).toContain("oauth2.clientCredentialsFrom: only for the client_credentials grant");
  });

  it("refuses token parameters naming no field or outside client credentials, a bad refresh URL, and an input with both a pattern and options", () => {
    expect(issues({ tokenUrl, grantType: "client_credentials", tokenParams: { sub: "{userId}" } })).toContain("oauth2.tokenParams.sub: placeholder {userId} has no matching credentialFields entry");
    expect(issues({ tokenUrl, authorizationUrl: tokenUrl, tokenParams: { audience: "api" } })).toContain("oauth2.tokenParams: only for the client_credentials grant");
    expect(issues({ tokenUrl, authorizationUrl: tokenUrl, refreshUrl: "http://example.com/refresh" })[0]).toMatch(/^oauth2.refreshUrl: an https URL/);
    expect(
      issues({ tokenUrl, authorizationUrl: "https://{r}.example.com/a", userInputs: [{ key: "r", label: "Region", pattern: "[a-z]+", options: [{ value: "eu", label: "EU" }] }] }),
    ).toEqual(["oauth2.userInputs.0: give either a pattern (typed values) or options (a select), not both"]);
    expect(issues({ tokenUrl, authorizationUrl: tokenUrl, userInputs: [{ key: "r", label: "Region", options: [{ value: "EU/../x", label: "EU" }] }] })[0]).toMatch(/^oauth2.userInputs.0.options.0.value: lowercase DNS labels/);
  });
});

describe("a refresh endpoint separate from the token endpoint (Figma)", () => {
  it("exchanges the code at the token endpoint and spends the refresh token at the refresh endpoint", async () => {
    provider.answers.set("/q-figma/token", (req) => (req.body.grant_type === "refresh_token" ? { status: 400, json: { error: "invalid_grant" } } : tokenResponse()));
    provider.answers.set("/q-figma/refresh", () => ({ json: { access_token: "figma-refreshed", token_type: "bearer", expires_in: 7776000 } }));
    const { session } = await authorize("q-figma");
    expect(session.status).toBe("CONNECTED");
    await expireSoon(session.connectionId);
    const read = await credentials(session.connectionId);
    expect(read.errors).toBeUndefined();
    expect(read.data.connection.credentials.accessToken).toBe("figma-refreshed");
    expect(requestsTo("/q-figma/refresh")).toHaveLength(1);
    expect(basicClient(requestsTo("/q-figma/refresh")[0]!.authorization)).toBe(`q-figma-client:${SECRET}`);
    expect(requestsTo("/q-figma/token").map((r) => r.body.grant_type)).toEqual(["authorization_code"]);
  });
});

describe("JSON bodies for token and revocation requests", () => {
  it("QuickBooks' shape: a form token request, then a JSON revocation request", async () => {
    const { session } = await authorize("q-quickbooks");
    expect(session.status).toBe("CONNECTED");
    expect(requestsTo("/q-quickbooks/token")[0]!.contentType).toContain("application/x-www-form-urlencoded");
    const del = await server.gql(DELETE, { id: session.connectionId }, { token: org.apiKey });
    expect(del.data.deleteConnection.revocation).toEqual({ attempted: true, succeeded: true, error: null });
    const [revoke] = requestsTo("/q-quickbooks/revoke");
    expect(revoke!.contentType).toBe("application/json");
    expect(revoke!.body.token).toMatch(/^rt-/);
  });

  it("an entry whose token requests are JSON sends its revocation as JSON too", async () => {
    const { session } = await authorize("q-notion");
    expect(session.status).toBe("CONNECTED");
    const [token] = requestsTo("/q-notion/token");
    expect(token!.contentType).toBe("application/json");
    expect(token!.body).toMatchObject({ grant_type: "authorization_code", client_id: "q-notion-client", client_secret: SECRET });
    await server.gql(DELETE, { id: session.connectionId }, { token: org.apiKey });
    expect(requestsTo("/q-notion/revoke")[0]!.contentType).toBe("application/json");
  });
});

describe("errors answered as HTTP 200 with ok: false (Slack)", () => {
  it("a refused code exchange fails the session with the provider's error and stores no connection", async () => {
    provider.answers.set("/q-slack/token", () => ({ json: { ok: false, error: "invalid_code" } }));
    const before = await server.services.prisma.connection.count({ where: { integrationSlug: "q-slack" } });
    const { session, back } = await authorize("q-slack");
    expect(back.status).toBe(400);
    expect(session).toMatchObject({ status: "FAILED", connectionId: null, error: { code: "invalid_code" } });
    expect(await server.services.prisma.connection.count({ where: { integrationSlug: "q-slack" } })).toBe(before);
  });

  it("connects with ok: true and a `bot` token type, and a refused refresh fails with the provider's error", async () => {
    provider.answers.set("/q-slack/token", (req) =>
      req.body.grant_type === "refresh_token" ? { json: { ok: false, error: "invalid_refresh_token" } } : { json: { ok: true, access_token: "xoxb-1", token_type: "bot", expires_in: 43200, refresh_token: "xoxe-1" } },
    );
    const { session } = await authorize("q-slack");
    expect(session.status).toBe("CONNECTED");
    expect((await credentials(session.connectionId)).data.connection.credentials).toMatchObject({ accessToken: "xoxb-1", tokenType: "bot" });
    await expireSoon(session.connectionId);
    // Still valid for a second: the provider's refusal keeps the old token usable, and nothing new is stored.
    const soon = await credentials(session.connectionId);
    expect(soon.data.connection.credentials.accessToken).toBe("xoxb-1");
    const row = await server.services.prisma.connection.findUniqueOrThrow({ where: { id: session.connectionId } });
    await server.services.prisma.connection.update({ where: { id: row.id }, data: { tokenExpiresAt: new Date(Date.now() - 1000) } });
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await credentials(session.connectionId);
    expect(expired.errors?.[0]?.extensions?.code).toBe("PROVIDER_ERROR");
    expect(expired.errors?.[0]?.message).toContain("invalid_refresh_token");
  });
});

describe("the callback's HMAC (Shopify)", () => {
  const shop = [{ key: "shop", value: "q-shopify" }];

  it("accepts the signature of Shopify's documented example, and nothing else", () => {
    const def = oauth2Schema.parse({ authorizationUrl: "https://x.example/a", tokenUrl: "https://x.example/t", callbackHmacParam: "hmac" });
    const url = new URL(
      "https://one-runtime.example/oauth/callback?code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173",
    );
    expect(callbackHmacValid(def, url, "hush")).toBe(true);
    expect(callbackHmacValid(def, url, "hush!")).toBe(false);
    url.searchParams.set("shop", "other-shop.myshopify.com");
    expect(callbackHmacValid(def, url, "hush")).toBe(false);
  });

  it("connects when the callback carries the HMAC of its sorted query keyed with the client secret", async () => {
    provider.signing.set("q-shopify", { secret: SECRET, mode: "good" });
    const { session, authorizationUrl } = await authorize("q-shopify", shop);
    expect(new URL(authorizationUrl).pathname).toBe("/q-shopify/authorize");
    expect(session.status).toBe("CONNECTED");
  });

  for (const mode of ["bad", "none"] as const) {
    it(`refuses a callback with a ${mode === "bad" ? "wrong" : "missing"} HMAC before any token request, and stores nothing`, async () => {
      provider.signing.set("q-shopify", { secret: SECRET, mode });
      const tokenCalls = requestsTo("/q-shopify/token").length;
      const { session, back } = await authorize("q-shopify", shop);
      expect(back.status).toBe(400);
      expect(session).toMatchObject({ status: "FAILED", connectionId: null, error: { code: "invalid_signature" } });
      expect(requestsTo("/q-shopify/token")).toHaveLength(tokenCalls);
    });
  }
});

describe("the client credentials grant (Greenhouse, Personio)", () => {
  const good = [
    { key: "clientId", value: "gh-id" },
    { key: "clientSecret", value: "gh-secret" },
    { key: "userId", value: "4242" },
  ];
  beforeAll(() => {
    provider.answers.set("/q-greenhouse/token", (req) =>
      basicClient(req.authorization) === "gh-id:gh-secret" && req.body.grant_type === "client_credentials"
        ? { json: { access_token: `gh-${requestsTo("/q-greenhouse/token").length}`, token_type: "Bearer", expires_at: new Date(Date.now() + 3_600_000).toISOString() } }
        : { status: 401, json: { error: "invalid_client" } },
    );
  });

  it("needs no OAuth app when the end user brings the client, and the popup asks for the fields with no provider page", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "q-greenhouse", endUserId: "cc-1" });
    const read = await server.gql(READ, {}, { token: sessionToken });
    expect(read.data.hostedConnectionSession.integration).toEqual({
      connectsAtProvider: false,
      credentialFields: [
        { key: "clientId", secret: false, optional: false, options: null },
        { key: "clientSecret", secret: true, optional: false, options: null },
        { key: "userId", secret: false, optional: true, options: null },
      ],
    });
    const start = await server.gql(START, { input: {} }, { token: sessionToken });
    expect(start.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("refused credentials come back as a field error, keep the session open and store nothing", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "q-greenhouse", endUserId: "cc-2" });
    const r = await server.gql(COMPLETE, { input: { credentials: [good[0], { key: "clientSecret", value: "wrong" }] } }, { token: sessionToken });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", fieldErrors: [{ field: "clientSecret" }] });
    expect((await server.gql(READ, {}, { token: sessionToken })).data.hostedConnectionSession.status).toBe("PENDING");
    expect(await server.services.prisma.connection.count({ where: { endUserId: "cc-2" } })).toBe(0);
  });

  it("connects with the end user's client (Basic auth, sub from the user id), reads expires_at, and asks again once the token is due", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "q-greenhouse", endUserId: "cc-3" });
    const r = await server.gql(COMPLETE, { input: { credentials: good } }, { token: sessionToken });
    expect(r.errors).toBeUndefined();
    expect(r.data.completeHostedConnectionSession.status).toBe("CONNECTED");
    const last = requestsTo("/q-greenhouse/token").at(-1)!;
    expect(last.body).toEqual({ grant_type: "client_credentials", sub: "4242" });
    const id = r.data.completeHostedConnectionSession.connectionId as string;
    const first = (await credentials(id)).data.connection.credentials;
    expect(new Date(first.expiresAt).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    await expireSoon(id);
    const renewed = (await credentials(id)).data.connection.credentials;
    expect(renewed.accessToken).not.toBe(first.accessToken);
    expect(basicClient(requestsTo("/q-greenhouse/token").at(-1)!.authorization)).toBe("gh-id:gh-secret");
  });

  it("with the organization's OAuth app: no fields at all, the app's client and scopes, and a token refused by the provider is PROVIDER_ERROR", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "q-cc-org", endUserId: "cc-4" });
    const read = await server.gql(READ, {}, { token: sessionToken });
    expect(read.data.hostedConnectionSession.integration.credentialFields).toEqual([]);
    provider.answers.set("/q-cc-org/token", () => ({ status: 400, json: { error: "invalid_scope" } }));
    const refused = await server.gql(COMPLETE, { input: {} }, { token: sessionToken });
    expect(refused.errors?.[0]?.extensions?.code).toBe("PROVIDER_ERROR");
    expect(refused.errors?.[0]?.message).toContain("invalid_scope");
    provider.answers.delete("/q-cc-org/token");
    const r = await server.gql(COMPLETE, { input: {} }, { token: sessionToken });
    expect(r.data.completeHostedConnectionSession.status).toBe("CONNECTED");
    expect(requestsTo("/q-cc-org/token").at(-1)!.body).toEqual({ grant_type: "client_credentials", scope: "jobs:read users:read", client_id: "q-cc-org-client", client_secret: SECRET });
  });
});

describe("per-connection hosts from the end user's inputs: a region select", () => {
  it("lists the regions, refuses one not listed, and fills the chosen one into the URLs", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "q-region", endUserId: "r-1" });
    const read = await server.gql(READ, {}, { token: sessionToken });
    expect(read.data.hostedConnectionSession.integration.credentialFields[0].options).toEqual([
      { value: "eu", label: "Europe" },
      { value: "us", label: "United States" },
    ]);
    const bad = await server.gql(START, { input: { userInputs: [{ key: "region", value: "mars" }] } }, { token: sessionToken });
    expect(bad.errors?.[0]?.extensions?.fieldErrors).toEqual([{ field: "region", message: "Choose one of: Europe, United States" }]);
    const { session, authorizationUrl } = await authorize("q-region", [{ key: "region", value: "eu" }]);
    expect(new URL(authorizationUrl).pathname).toBe("/q-region-eu/authorize");
    expect(session.status).toBe("CONNECTED");
    expect(requestsTo("/q-region-eu/token")).toHaveLength(1);
  });
});

describe("scopes that differ between authorization and refresh", () => {
  it("asks for the authorization scopes, and sends refreshScopes with the refresh", async () => {
    const { session, authorizationUrl } = await authorize("q-scopes");
    expect(new URL(authorizationUrl).searchParams.get("scope")).toBe("read offline");
    expect(requestsTo("/q-scopes/token")[0]!.body.scope).toBeUndefined();
    await expireSoon(session.connectionId);
    expect((await credentials(session.connectionId)).errors).toBeUndefined();
    const refresh = requestsTo("/q-scopes/token").at(-1)!;
    expect(refresh.body).toMatchObject({ grant_type: "refresh_token", scope: "read" });
  });
});

describe("token responses nested under another key", () => {
  it("reads the token set from under tokenResponsePath", async () => {
    provider.answers.set("/q-nested/token", () => ({ json: { code: 0, message: "ok", data: { access_token: "nested-at", token_type: "Bearer", expires_in: 86400, refresh_token: "nested-rt", scope: "read" } } }));
    const { session } = await authorize("q-nested");
    expect(session.status).toBe("CONNECTED");
    const creds = (await credentials(session.connectionId)).data.connection.credentials;
    expect(creds).toMatchObject({ accessToken: "nested-at", tokenType: "bearer", scopes: ["read"] });
  });
});
