// Nothing secret in a row or a log line: full flows with every kind of secret, then every table
// dumped raw and every log line the server wrote, searched for each secret.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followAuthorization, startMockProvider, type MockProvider } from "./support/oauth-provider.js";
import { startTestServer, type TestServer } from "./support/server.js";

const OPENAI_KEY = "sk-proj-SECRETsecretSECRET0123456789abcdef";
const TWILIO_TOKEN = "twilio-auth-token-SECRET-42";
const CLIENT_SECRET = "oauth-client-secret-SECRET-99";
const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`;

let server: TestServer;
let provider: MockProvider;
const secrets: string[] = [OPENAI_KEY, TWILIO_TOKEN, CLIENT_SECRET];

beforeAll(async () => {
  provider = await startMockProvider();
  server = await startTestServer({ env: { ONE_RUNTIME_CATALOG_DIR: provider.catalogDir, ONE_RUNTIME_LOG_LEVEL: "debug" } });
  const org = await server.createOrganization("Secrets org");
  secrets.push(org.apiKey);

  const a = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "u1" });
  secrets.push(a.sessionToken);
  await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, { token: a.sessionToken });

  const b = await server.createSession(org.apiKey, { integrationSlug: "twilio", endUserId: "u2" });
  secrets.push(b.sessionToken);
  await server.gql(COMPLETE, { input: { credentials: [{ key: "username", value: `AC${"0".repeat(32)}` }, { key: "password", value: TWILIO_TOKEN }] } }, { token: b.sessionToken });
  // A rejected submission must not log what was submitted either.
  const c = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "u3" });
  await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: `bad ${OPENAI_KEY}` }] } }, { token: c.sessionToken });

  await server.gql(`mutation($s: String!) { configureIntegration(input: { integrationSlug: "mock-provider", oauthClientId: "cid", oauthClientSecret: $s }) { id } }`, { s: CLIENT_SECRET }, { token: org.apiKey });
  const d = await server.createSession(org.apiKey, { integrationSlug: "mock-provider", endUserId: "u4" });
  const start = await server.gql(`mutation { startHostedConnectionAuthorization(input: {}) { authorizationUrl } }`, {}, { token: d.sessionToken });
  const authorizationUrl: string = start.data.startHostedConnectionAuthorization.authorizationUrl;
  secrets.push(new URL(authorizationUrl).searchParams.get("state")!);
  await followAuthorization(authorizationUrl);
  const connectionId = (await server.gql(`{ hostedConnectionSession { connectionId } }`, {}, { token: d.sessionToken })).data.hostedConnectionSession.connectionId;
  const creds = await server.gql(`query($id: ID!) { connection(id: $id) { credentials { accessToken } } }`, { id: connectionId }, { token: org.apiKey });
  secrets.push(creds.data.connection.credentials.accessToken);
  const verifier = provider.tokenRequests.find((r) => r.grant_type === "authorization_code")?.code_verifier;
  if (verifier) secrets.push(verifier);
});
afterAll(async () => {
  await server?.stop();
  await provider?.stop();
});

describe("secrets at rest and in logs", () => {
  it("the flows above really ran (so the searches below mean something)", async () => {
    expect(await server.services.prisma.connection.count()).toBe(3);
    expect(secrets.length).toBeGreaterThanOrEqual(9);
  });

  it("no table row holds a submitted secret, a key, a token, a state or a verifier", async () => {
    const tables = ["Organization", "ApiKey", "Integration", "IntegrationConfig", "HostedConnectionSession", "Connection"];
    const dump = (
      await Promise.all(tables.map((t) => server.services.prisma.$queryRawUnsafe<{ rows: string | null }[]>(`SELECT json_agg(t)::text AS rows FROM "${t}" t`)))
    )
      .map((r) => r[0]?.rows ?? "")
      .join("\n");
    expect(dump.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(dump, "a secret is stored in clear").not.toContain(secret);
  });

  it("no log line holds one either, at debug level", () => {
    const logs = server.logs.join("");
    expect(logs).toContain("connection created");
    for (const secret of secrets) expect(logs, "a secret was logged").not.toContain(secret);
  });
});
