// Nothing secret in a row or a log line: full flows with every kind of secret, then every table
// dumped raw and every log line the server wrote, searched for each secret. Then a canary in every
// input that takes a secret, sent well-formed and malformed in every way, over HTTP and WebSocket:
// no log line, at any level, holds it. And the logger's one redaction, on its own.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { GraphQLError } from "graphql";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ADMIN_PATH } from "../server/http/routes.js";
import { createLogger, scrubSecrets } from "../server/logger.js";
import { followAuthorization, startMockProvider, type MockProvider } from "./support/oauth-provider.js";
import { startTestServer, testStore, type TestServer } from "./support/server.js";

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

// ---------------------------------------------------------------------------------------------
// Canaries: lowercase letters and digits, a shape the logger's scrubbing does not touch, so a
// canary in a log line means a value was logged, not that a scrub pattern missed.

const canaries: string[] = [];
const canary = (tag: string) => {
  const c = `cnry-${tag}-${randomBytes(6).toString("hex")}`;
  canaries.push(c);
  return c;
};

type Call = { query: string; variables?: unknown; operationName?: unknown; extensions?: unknown };
/** One way of sending: a GraphQL payload (sent over HTTP and over WebSocket) or a raw HTTP body. */
type Variant = { name: string; token: () => string; call?: Call; raw?: string; headers?: Record<string, string> };

const wsClients: Client[] = [];
afterAll(async () => {
  for (const c of wsClients) await c.dispose();
});

/** Sends a variant over HTTP and waits for its request line: every log line it causes is written. */
async function overHttp(v: Variant) {
  const res = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${v.token()}`, ...v.headers },
    body: v.raw ?? JSON.stringify(v.call),
  });
  const text = await res.text();
  const requestId = res.headers.get("x-request-id")!;
  await expect.poll(() => server.logs.some((l) => l.includes(requestId) && l.includes('"msg":"request"'))).toBe(true);
  return { status: res.status, text };
}

/** Sends a variant's payload as one graphql-ws operation and waits for its end. */
function overWebSocket(v: Variant, connectionParams?: Record<string, unknown>) {
  const c = createClient({
    url: `${server.url.replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: connectionParams ?? { authorization: `Bearer ${v.token()}` },
  });
  wsClients.push(c);
  return new Promise<unknown>((resolve) => {
    c.subscribe(v.call as never, { next: (r) => resolve(r), error: (e) => resolve(e), complete: () => resolve(undefined) });
  });
}

const notLogged = (...values: string[]) => {
  const logs = server.logs.join("\n");
  for (const value of values) expect(logs, `${value} reached a log line`).not.toContain(value);
};

describe("a canary in every input that takes a secret never reaches a log line", () => {
  let org: { apiKey: string };
  beforeAll(async () => {
    org = await server.createOrganization("Canary org");
  });
  const CREATE = `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken } }`;
  const sessionFor = async (integrationSlug: string) => (await server.createSession(org.apiKey, { integrationSlug, endUserId: `canary-${randomBytes(4).toString("hex")}` })).sessionToken;

  /** Sends every variant over HTTP, and those with a payload over WebSocket too. */
  async function sendAll(variants: Variant[]) {
    const answers: string[] = [];
    for (const v of variants) answers.push((await overHttp(v)).text);
    for (const v of variants.filter((x) => x.call)) answers.push(JSON.stringify(await overWebSocket(v)));
    return answers;
  }

  it("completeHostedConnectionSession's credentials", async () => {
    const COMPLETE_AS = (t: string) => `mutation Complete($input: ${t}) { completeHostedConnectionSession(input: $input) { status } }`;
    const tokens = { lemlist: await sessionFor("lemlist"), openai: await sessionFor("openai") };
    const c = (tag: string) => canary(`cred-${tag}`);
    const variants: Variant[] = [
      // well-formed: accepted (lemlist takes any key) or refused by the integration's pattern (openai)
      { name: "accepted", token: () => tokens.lemlist, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: c("ok") }] } } } },
      { name: "refused by the field's pattern", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: c("pattern") }] } } } },
      { name: "an unknown key", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKee", value: c("key") }] } } } },
      // malformed in every way the input can be
      { name: "an extra field", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: c("extra1"), extra: c("extra2") }] } } } },
      { name: "an extra top-level field", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: c("top1") }], [c("top2")]: c("top3") } } } },
      { name: "a wrong type beside it", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { connectionName: 42, credentials: [{ key: "apiKey", value: c("type") }] } } } },
      { name: "the value as a list", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: [c("list")] }] } } } },
      { name: "the value nested in an object", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: { deep: [{ deeper: c("nested") }] } }] } } } },
      { name: "the item as a string", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [c("item")] } } } },
      { name: "the input as a string", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: c("input") } } },
      { name: "a NUL in the value", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: `${c("nul")}\u0000` }] } } } },
      { name: "a wrong variable type", token: () => tokens.openai, call: { query: COMPLETE_AS("String!"), variables: { input: c("vartype") } } },
      { name: "an unused variable", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: {}, unused: c("unused") } } },
      { name: "an unknown operation name", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: c("opname1") }] } }, operationName: c("opname2") } },
      { name: "extensions", token: () => tokens.openai, call: { query: COMPLETE, variables: { input: {} }, extensions: { secret: c("ext") } } },
      { name: "a literal with an extra field", token: () => tokens.openai, call: { query: `mutation { completeHostedConnectionSession(input: { credentials: [{ key: "apiKey", value: "${c("literal")}", extra: 1 }] }) { status } }` } },
      { name: "a literal of the wrong type", token: () => tokens.openai, call: { query: `mutation { completeHostedConnectionSession(input: { connectionName: ["${c("literal-type")}"] }) { status } }` } },
      { name: "a document that does not parse", token: () => tokens.openai, call: { query: `mutation { completeHostedConnectionSession(input: { credentials: [{ key: "apiKey", value: "${c("parse")}" }` } },
      { name: "a body that is not JSON", token: () => tokens.openai, raw: `{"query": "${COMPLETE}", "variables": {"input": {"credentials": [{"key": "apiKey", "value": "${c("json")}"` },
      { name: "variables that are not an object", token: () => tokens.openai, raw: JSON.stringify({ query: COMPLETE, variables: [c("vars")] }) },
      { name: "a form POST", token: () => tokens.openai, raw: `query=${encodeURIComponent(COMPLETE)}&variables=${c("form")}`, headers: { "content-type": "application/x-www-form-urlencoded" } },
    ];
    await sendAll(variants);
    // The session accepted one value, the others refused theirs.
    expect((await server.gql(`{ hostedConnectionSession { status } }`, {}, { token: tokens.lemlist })).data.hostedConnectionSession.status).toBe("CONNECTED");
    notLogged(...canaries.filter((x) => x.startsWith("cnry-cred-")));
  });

  it("configureIntegration's oauthClientSecret", async () => {
    const CONFIGURE = `mutation($input: ConfigureIntegrationInput!) { configureIntegration(input: $input) { hasClientSecret } }`;
    const c = (tag: string) => canary(`oauth-${tag}`);
    const input = (secret: string, more: Record<string, unknown> = {}) => ({ input: { integrationSlug: "mock-provider", oauthClientId: "cid", oauthClientSecret: secret, ...more } });
    const key = () => org.apiKey;
    const session = await sessionFor("openai");
    await sendAll([
      { name: "accepted", token: key, call: { query: CONFIGURE, variables: input(c("ok")) } },
      { name: "an unknown integration", token: key, call: { query: CONFIGURE, variables: { input: { ...input(c("slug")).input, integrationSlug: "no-such-integration" } } } },
      { name: "too long", token: key, call: { query: CONFIGURE, variables: input(`${c("long")}${"x".repeat(5000)}`) } },
      { name: "an extra field", token: key, call: { query: CONFIGURE, variables: input(c("extra1"), { oauthClientSecrett: c("extra2") }) } },
      { name: "a wrong type beside it", token: key, call: { query: CONFIGURE, variables: input(c("type"), { enabled: "yes" }) } },
      { name: "a bad list item beside it", token: key, call: { query: CONFIGURE, variables: input(c("scopes1"), { scopes: [{ scope: c("scopes2") }] }) } },
      { name: "the secret as a number's place", token: key, call: { query: CONFIGURE, variables: { input: { integrationSlug: "mock-provider", oauthClientId: c("id"), oauthClientSecret: 7 } } } },
      { name: "the secret as an object", token: key, call: { query: CONFIGURE, variables: input({ nested: c("object") } as never) } },
      { name: "a NUL in the secret", token: key, call: { query: CONFIGURE, variables: input(`${c("nul")}\u0000`) } },
      { name: "no API key (a session token)", token: () => session, call: { query: CONFIGURE, variables: input(c("forbidden")) } },
      { name: "a literal", token: key, call: { query: `mutation { configureIntegration(input: { integrationSlug: "mock-provider", oauthClientId: "cid", oauthClientSecret: "${c("literal")}", enabled: "no" }) { id } }` } },
    ]);
    notLogged(...canaries.filter((x) => x.startsWith("cnry-oauth-")));
  });

  it("startHostedConnectionAuthorization's userInputs", async () => {
    await server.gql(
      `mutation { configureIntegration(input: { integrationSlug: "tenant-provider", oauthClientId: "cid", oauthClientSecret: "s" }) { id } }`,
      {},
      { token: org.apiKey },
    );
    const START = `mutation($input: StartHostedConnectionAuthorizationInput!) { startHostedConnectionAuthorization(input: $input) { authorizationUrl } }`;
    const c = (tag: string) => canary(`ui-${tag}`);
    const [accepted, refused] = [await sessionFor("tenant-provider"), await sessionFor("tenant-provider")];
    const ui = (value: unknown, more: Record<string, unknown> = {}) => ({ input: { userInputs: [{ key: "tenant", value, ...more }] } });
    const answers = await sendAll([
      { name: "accepted", token: () => accepted, call: { query: START, variables: ui(c("ok")) } },
      { name: "refused by the pattern", token: () => refused, call: { query: START, variables: ui(`${c("pattern")}!`) } },
      { name: "an unknown key", token: () => refused, call: { query: START, variables: { input: { userInputs: [{ key: c("key"), value: c("value") }] } } } },
      { name: "an extra field", token: () => refused, call: { query: START, variables: ui(c("extra1"), { secret: c("extra2") }) } },
      { name: "a wrong type", token: () => refused, call: { query: START, variables: ui({ v: c("type") }) } },
      { name: "nested lists", token: () => refused, call: { query: START, variables: { input: { userInputs: [[[{ key: "tenant", value: c("deep") }]]] } } } },
      { name: "a NUL", token: () => refused, call: { query: START, variables: ui(`${c("nul")}\u0000`) } },
    ]);
    expect(answers[0]).toContain("authorizationUrl");
    notLogged(...canaries.filter((x) => x.startsWith("cnry-ui-")));
  });

  it("createHostedConnectionSession's fields", async () => {
    const c = (tag: string) => canary(`sess-${tag}`);
    const key = () => org.apiKey;
    const input = (more: Record<string, unknown>) => ({ input: { integrationSlug: "openai", endUserId: "canary-user", ...more } });
    await sendAll([
      { name: "accepted", token: key, call: { query: CREATE, variables: input({ endUserId: c("id"), endUserName: c("name"), endUserEmail: `${c("email")}@example.com`, suggestedConnectionName: c("conn") }) } },
      { name: "a bad email", token: key, call: { query: CREATE, variables: input({ endUserEmail: c("bad-email") }) } },
      { name: "an unknown connection", token: key, call: { query: CREATE, variables: input({ connectionId: c("connection") }) } },
      { name: "a wrong type", token: key, call: { query: CREATE, variables: input({ expiresInSeconds: c("expires"), endUserName: c("name2") }) } },
      { name: "out of range", token: key, call: { query: CREATE, variables: input({ expiresInSeconds: 5, endUserName: c("name3") }) } },
      { name: "an extra field", token: key, call: { query: CREATE, variables: input({ endUserPassword: c("extra") }) } },
      { name: "a bad enum-like slug", token: key, call: { query: CREATE, variables: input({ integrationSlug: c("slug") }) } },
      { name: "a NUL", token: key, call: { query: CREATE, variables: input({ endUserName: `${c("nul")}\u0000` }) } },
      { name: "anonymous", token: () => c("not-a-key"), call: { query: CREATE, variables: input({ endUserName: c("anon") }) } },
    ]);
    notLogged(...canaries.filter((x) => x.startsWith("cnry-sess-")));
  });
  it("a credential in the connection_init payload or the Authorization header", async () => {
    const c = (tag: string) => canary(`auth-${tag}`);
    const call = { query: `{ viewer { organization { id } } }` };
    for (const authorization of [c("raw"), `Bearer ${c("bearer")}`, `Bearer ort_live_${c("live")}`, `Bearer ort_sess_${c("sess")}`]) {
      await overHttp({ name: "header", token: () => "", call, headers: { authorization } });
      await overWebSocket({ name: "init", token: () => "", call }, { authorization });
    }
    await overWebSocket({ name: "init", token: () => "", call }, { authorization: { nested: c("nested") }, [c("param")]: c("value") });
    notLogged(...canaries.filter((x) => x.startsWith("cnry-auth-")));
  });

  it.skipIf(testStore !== "pglite")("admin channel commands", async () => {
    const lock = JSON.parse(await readFile(join(server.dataDir, "server.lock"), "utf8")) as { adminToken: string };
    const c = (tag: string) => canary(`admin-${tag}`);
    const post = async (body: string, token = lock.adminToken) => {
      const res = await fetch(`${server.url}${ADMIN_PATH}`, { method: "POST", headers: { "content-type": "application/json", "x-one-runtime-admin-token": token }, body });
      const requestId = res.headers.get("x-request-id")!;
      await expect.poll(() => server.logs.some((l) => l.includes(requestId) && l.includes('"msg":"request"'))).toBe(true);
      return res.status;
    };
    expect(await post(JSON.stringify({ command: "create-org", name: c("name") }))).toBe(200);
    expect(await post(JSON.stringify({ command: "create-org", name: { nested: c("nested") } }))).toBe(400);
    expect(await post(JSON.stringify({ command: c("command"), name: c("name2") }))).toBe(400);
    expect(await post(JSON.stringify({ command: "create-api-key", organizationId: c("org") }))).toBe(400);
    expect(await post(JSON.stringify({ command: "revoke-api-key", id: "00000000-0000-4000-8000-000000000000", organizationId: c("org2") }))).toBe(400);
    expect(await post(`{"command": "create-org", "name": "${c("json")}"`)).toBe(400);
    expect(await post(JSON.stringify({ command: "list-orgs" }), c("token"))).toBe(404);
    notLogged(...canaries.filter((x) => x.startsWith("cnry-admin-")));
  });

  it("no canary anywhere in the whole log, at any level; the refusals were logged (without them)", () => {
    expect(canaries.length).toBeGreaterThan(60);
    expect(canaries.every((x) => scrubSecrets(x) === x), "a canary has a shape the logger scrubs").toBe(true);
    notLogged(...canaries);
    expect(server.logs.some((l) => l.includes('"msg":"variables refused"'))).toBe(true);
    expect(server.logs.some((l) => l.includes('"level":20'))).toBe(true);
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
