// Two One Runtime PROCESSES on one PostgreSQL database proxy calls for the same OAuth2 connection:
// when the provider rejects the token on both at once, the provider sees ONE refresh (the row
// lock of the refresh path), and both calls succeed with the new token. PostgreSQL only: the
// instances are separate processes.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession, createOrganizationIn, gql, newEncryptionKey, spawnInstance, type Instance } from "../support/instances.js";
import { followAuthorization, startMockProvider, type MockProvider } from "../support/oauth-provider.js";
import { createTestDatabase } from "../support/postgres.js";
import { refuseTogether, startProviderApi, writeProxyEntries, type ProviderApi } from "../support/provider-api.js";
import { testStore } from "../support/server.js";

const START = `mutation($input: StartHostedConnectionAuthorizationInput!) { startHostedConnectionAuthorization(input: $input) { authorizationUrl } }`;

describe.skipIf(testStore !== "postgres")("the proxy across two instances", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let oauth: MockProvider;
  let api: ProviderApi;
  let a: Instance;
  let b: Instance;
  let apiKey: string;

  beforeAll(async () => {
    oauth = await startMockProvider();
    oauth.server.service.on("beforeTokenSigning", (token: { payload: Record<string, unknown> }) => {
      token.payload.jti = randomUUID();
    });
    api = await startProviderApi();
    await writeProxyEntries(oauth.catalogDir, oauth.url, api.url);
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey(), ONE_RUNTIME_CATALOG_DIR: oauth.catalogDir, ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true" };
    [a, b] = await Promise.all([spawnInstance("proxy-a", env), spawnInstance("proxy-b", env)]);
    ({ apiKey } = await createOrganizationIn(db.url, "Proxy across instances Co"));
    const configured = await gql(a.url, `mutation($input: ConfigureIntegrationInput!) { configureIntegration(input: $input) { integrationSlug } }`, {
      input: { integrationSlug: "proxy-oauth", oauthClientId: "proxy-client", oauthClientSecret: "proxy-client-secret-9d2e4f" },
    }, apiKey);
    expect(configured.errors).toBeUndefined();
  });
  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map((i) => i.stop("SIGKILL")));
    await db?.drop();
    await api?.stop();
    await oauth?.stop();
  });

  it("concurrent provider 401s on both instances cause one refresh, and both calls succeed", async () => {
    const { sessionToken } = await createSession(a.url, apiKey, { integrationSlug: "proxy-oauth", endUserId: "two-instances" });
    const started = await gql(a.url, START, { input: {} }, sessionToken);
    expect((await followAuthorization(started.data.startHostedConnectionAuthorization.authorizationUrl)).status).toBe(200);
    const session = await gql(a.url, `{ hostedConnectionSession { connectionId } }`, {}, sessionToken);
    const connectionId = session.data.hostedConnectionSession.connectionId as string;
    const creds = await gql(b.url, `query($id: ID!) { connection(id: $id) { credentials { accessToken } } }`, { id: connectionId }, apiKey);
    const old = `Bearer ${creds.data.connection.credentials.accessToken}`;

    // Both instances' first attempts are answered 401 only once both have arrived.
    const refusesOld = refuseTogether(old, 2);
    api.queue(refusesOld, refusesOld, refusesOld, refusesOld);
    const refreshes = () => oauth.tokenRequests.filter((t) => t.grant_type === "refresh_token").length;
    const before = refreshes();
    const seenBefore = api.seen.length;
    const answers = await Promise.all([a, b].map((i) => fetch(`${i.url}/proxy/${connectionId}/me`, { headers: { authorization: `Bearer ${apiKey}` } })));
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(refreshes()).toBe(before + 1);
    const sent = api.seen.slice(seenBefore).map((s) => s.headers.authorization);
    expect(sent.filter((h) => h === old)).toHaveLength(2);
    // Each instance's retry carried the one new token.
    expect(sent.filter((h) => h !== old)).toHaveLength(2);
    expect(new Set(sent.filter((h) => h !== old)).size).toBe(1);
  });
});
