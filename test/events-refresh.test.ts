// Token refresh failures as events, against a real authorization server (oauth2-mock-server): a
// refused refresh token leaves one connection.needs_reauth, a provider failure one
// connection.refresh_failed, each committed with the change (the error is still the caller's).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followAuthorization, startMockProvider, type MockProvider } from "./support/oauth-provider.js";
import { startTestServer, type TestServer } from "./support/server.js";

const CREDS = `query($id: ID!) { connection(id: $id) { credentials { accessToken } } }`;
const EVENTS = `query($id: ID) { events(connectionId: $id) { nodes { type connectionId endUserId integrationSlug data } } }`;

let server: TestServer;
let provider: MockProvider;
let org: { apiKey: string };

beforeAll(async () => {
  provider = await startMockProvider();
  server = await startTestServer({ env: { ONE_RUNTIME_CATALOG_DIR: provider.catalogDir } });
  org = await server.createOrganization("Refresh events org");
  const r = await server.gql(
    `mutation($input: ConfigureIntegrationInput!) { configureIntegration(input: $input) { integrationSlug } }`,
    { input: { integrationSlug: "mock-provider", oauthClientId: "mock-client", oauthClientSecret: "mock-client-secret-1" } },
    { token: org.apiKey },
  );
  expect(r.errors).toBeUndefined();
});
afterAll(async () => {
  await server?.stop();
  await provider?.stop();
});

/** A connection whose access token is already expired, so the next read refreshes. */
async function expiredConnection(endUserId: string): Promise<string> {
  provider.server.service.once("beforeResponse", (response: { body: Record<string, unknown> }) => {
    response.body.expires_in = 1;
  });
  const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "mock-provider", endUserId });
  const start = await server.gql(`mutation { startHostedConnectionAuthorization(input: {}) { authorizationUrl } }`, {}, { token: sessionToken });
  await followAuthorization(start.data.startHostedConnectionAuthorization.authorizationUrl);
  const s = await server.gql(`{ hostedConnectionSession { connectionId } }`, {}, { token: sessionToken });
  await new Promise((r) => setTimeout(r, 1_100));
  return s.data.hostedConnectionSession.connectionId;
}

const typesFor = async (id: string) => (await server.gql(EVENTS, { id }, { token: org.apiKey })).data.events.nodes;

describe("refresh events", () => {
  it("a refused refresh token records one connection.needs_reauth, however many reads race to refresh", async () => {
    const id = await expiredConnection("nina");
    provider.server.service.once("beforeResponse", (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 400;
      response.body = { error: "invalid_grant" };
    });
    const reads = await Promise.all([1, 2, 3].map(() => server.gql(CREDS, { id }, { token: org.apiKey })));
    expect(reads.some((r) => r.errors?.[0]?.extensions?.code === "NEEDS_REAUTH")).toBe(true);
    const events = await typesFor(id);
    expect(events.map((e: any) => e.type)).toEqual(["CONNECTION_NEEDS_REAUTH", "CONNECTION_CREATED"]);
    expect(events[0]).toMatchObject({ endUserId: "nina", integrationSlug: "mock-provider", data: { reason: "invalid_grant" } });
  });

  it("a provider failure records connection.refresh_failed and still reports PROVIDER_ERROR", async () => {
    const id = await expiredConnection("omar");
    provider.server.service.once("beforeResponse", (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 500;
      response.body = { error: "server_error" };
    });
    const read = await server.gql(CREDS, { id }, { token: org.apiKey });
    expect(read.errors?.[0]?.extensions?.code).toBe("PROVIDER_ERROR");
    const events = await typesFor(id);
    expect(events.map((e: any) => e.type)).toEqual(["CONNECTION_REFRESH_FAILED", "CONNECTION_CREATED"]);
    const status = await server.gql(`query($id: ID!) { connection(id: $id) { status } }`, { id }, { token: org.apiKey });
    expect(status.data.connection.status).toBe("ACTIVE");
  });
});
