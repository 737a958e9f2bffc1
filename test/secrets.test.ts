// Nothing secret in a row or a log line: full flows with every kind of secret, then every table
// dumped raw and every log line the server wrote, searched for each secret. And the logger's one
// redaction, on its own.
import { Writable } from "node:stream";
import { GraphQLError } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../server/logger.js";
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

describe("the logger's one redaction", () => {
  const capture = () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    return { logger: createLogger("debug", sink), text: () => lines.join("") };
  };
  const SHAPES = [
    "sk-proj-AbCdEf0123456789abcdefGHIJ",
    "sk_live_51HabcdefGHIJKLmnop",
    "ort_live_AAAAbbbbCCCCddddEEEEffff0000111122223333444",
    "ort_sess_AAAAbbbbCCCCddddEEEEffff0000111122223333444",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-1234567890-abcdefghij",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "hunter2-db-password",
    "Zq3vT8yKp2LmN5rXw7Bc9Df4Gh6Jk1Ls",
  ];
  const message = `failed with sk-proj-AbCdEf0123456789abcdefGHIJ, sk_live_51HabcdefGHIJKLmnop, token ort_live_AAAAbbbbCCCCddddEEEEffff0000111122223333444, Bearer ort_sess_AAAAbbbbCCCCddddEEEEffff0000111122223333444, jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U, ghp_abcdefghijklmnopqrstuvwxyz0123456789, xoxb-1234567890-abcdefghij, -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----, postgresql://app:hunter2-db-password@db:5432/x, opaque Zq3vT8yKp2LmN5rXw7Bc9Df4Gh6Jk1Ls`;

  it("scrubs secret shapes from an error's message and stack, and from every string", () => {
    const { logger, text } = capture();
    logger.error(new Error(message));
    logger.error({ err: new GraphQLError(message, { originalError: new TypeError(message) }) }, message);
    logger.warn({ detail: message, list: [message], deep: { a: { b: { c: message } } } }, "with %s", message);
    const out = text();
    expect(out).toContain("[redacted");
    for (const shape of SHAPES) expect(out, shape).not.toContain(shape);
  });

  it("censors what secret-named keys hold, at any depth: variables, bodies, headers, credentials", () => {
    const { logger, text } = capture();
    const v = "value-of-a-secret-field";
    logger.info({ variables: { input: v }, body: v, headers: { authorization: v }, a: { b: { c: { d: { clientSecret: v, refresh_token: v, password: v, userInputs: [v], credentials: v, value: v } } } } }, "x");
    expect(text()).not.toContain(v);
    expect(text()).toContain("[redacted]");
  });

  it("keeps a database error's code, never its message (it quotes the values it was given)", () => {
    const { logger, text } = capture();
    const prisma = Object.assign(new Error(`Invalid \`prisma.connection.findMany()\` invocation: where: { endUserId: "db-value-1" }`), {
      name: "PrismaClientKnownRequestError",
      code: "P2010",
      clientVersion: "7.10.0",
      meta: { driverAdapterError: { cause: { kind: "postgres", originalCode: "22021", originalMessage: 'invalid byte sequence "db-value-2"' } } },
    });
    const pg = Object.assign(new Error('invalid input syntax for type uuid: "db-value-3"'), { severity: "ERROR", code: "22P02", routine: "string_to_uuid" });
    logger.error({ err: prisma, requestId: "r1" }, "unexpected error");
    logger.error({ err: pg }, "unexpected error");
    const out = text();
    expect(out).not.toMatch(/db-value/);
    expect(out).toContain('"code":"P2010"');
    expect(out).toContain('"code":"22021"');
    expect(out).toContain('"code":"22P02"');
  });
});
