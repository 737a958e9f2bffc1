// Security matrix — session tokens: replayed after the flow ended, expired, tampered (one
// character changed), another organization's, another integration's, and API keys and session
// tokens on each other's operations. Each case asserts the refusal AND that no row changed.
// (test/sessions.test.ts covers the same ground as behaviour; this is the attacker's checklist.)
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "../support/server.js";
import { codeOf, complete, createSession, errorLogLines, OPENAI_KEY, organizationWithObjects, post, snapshot, unchangedBy, type Organization } from "./fixtures.js";

const READ = `{ hostedConnectionSession { id status connectionId } }`;
const COMPLETE_WITH = (credentials: { key: string; value: string }[]) => [
  `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`,
  { input: { credentials } },
] as const;
const CANCEL = `mutation { cancelHostedConnectionSession { status } }`;
const START = `mutation { startHostedConnectionAuthorization(input: {}) { authorizationUrl } }`;
const OPENAI_CREDENTIALS = [{ key: "apiKey", value: OPENAI_KEY }];

let server: TestServer;
let a: Organization;
let b: Organization;
const sockets: Client[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { ONE_RUNTIME_SANDBOX: "true" } });
  a = await organizationWithObjects(server, "Org A");
  b = await organizationWithObjects(server, "Org B");
});
afterAll(async () => {
  for (const c of sockets) await c.dispose();
  await server?.stop();
});

const session = (input: Record<string, unknown>) => createSession(server, a.apiKey, { endUserId: "token-user", ...input });
const status = async (sessionId: string) => (await server.services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: sessionId } })).status;

/** Every popup operation a token could be replayed on, with what would change if it worked. */
const POPUP_WRITES: [string, string, Record<string, unknown>][] = [
  ["completeHostedConnectionSession", ...COMPLETE_WITH(OPENAI_CREDENTIALS)],
  ["cancelHostedConnectionSession", CANCEL, {}],
  ["startHostedConnectionAuthorization", START, {}],
];

describe("replayed after the flow ended", () => {
  let connected: { sessionToken: string; sessionId: string };
  let cancelledOAuth: { sessionToken: string; sessionId: string };
  beforeAll(async () => {
    connected = await session({ integrationSlug: "openai" });
    expect((await complete(server, connected.sessionToken, { credentials: OPENAI_CREDENTIALS })).body.errors).toBeUndefined();
    cancelledOAuth = await session({ integrationSlug: "oauth2-sandbox" });
    expect((await post(server, CANCEL, {}, cancelledOAuth.sessionToken)).body.errors).toBeUndefined();
  });

  it.each(POPUP_WRITES)("a CONNECTED session's token on %s: SESSION_COMPLETED, nothing changed", async (_op, query, variables) => {
    const r = await unchangedBy(server, () => post(server, query, variables, connected.sessionToken));
    expect(codeOf(r)).toBe("SESSION_COMPLETED");
  });

  it.each(POPUP_WRITES)("a CANCELLED OAuth2 session's token on %s: SESSION_COMPLETED, nothing changed", async (_op, query, variables) => {
    const r = await unchangedBy(server, () => post(server, query, variables, cancelledOAuth.sessionToken));
    expect(codeOf(r)).toBe("SESSION_COMPLETED");
  });

  it("the close beacon with a finished session's token: 204, nothing changed", async () => {
    const res = await unchangedBy(server, () => fetch(`${server.url}/connect/closed`, { method: "POST", body: connected.sessionToken, headers: { "content-type": "text/plain" } }));
    expect(res.status).toBe(204);
  });
});

describe("expired", () => {
  let expired: { sessionToken: string; sessionId: string };
  let expiredOAuth: { sessionToken: string; sessionId: string };
  beforeAll(async () => {
    expired = await session({ integrationSlug: "openai" });
    expiredOAuth = await session({ integrationSlug: "oauth2-sandbox" });
    await server.services.prisma.hostedConnectionSession.updateMany({ where: { id: { in: [expired.sessionId, expiredOAuth.sessionId] } }, data: { expiresAt: new Date(Date.now() - 1_000) } });
  });

  it("the first use after expiry records the expiry and nothing else: no connection, no credentials", async () => {
    const before = await snapshot(server);
    const r = await post(server, ...COMPLETE_WITH(OPENAI_CREDENTIALS), expired.sessionToken);
    expect(codeOf(r)).toBe("SESSION_EXPIRED");
    const after = await snapshot(server);
    expect(after.connections).toEqual(before.connections);
    expect(after.sessions.find((s) => s.id === expired.sessionId)).toMatchObject({ status: "EXPIRED", connectionId: null, errorCode: "session_expired" });
    expect(after.sessions.filter((s) => s.id !== expired.sessionId)).toEqual(before.sessions.filter((s) => s.id !== expired.sessionId));
    await post(server, READ, {}, expiredOAuth.sessionToken); // settles the other one too (the sweep would)
  });

  it.each(POPUP_WRITES)("an expired token on %s: SESSION_EXPIRED, nothing changed", async (_op, query, variables) => {
    const r = await unchangedBy(server, () => post(server, query, variables, query === START ? expiredOAuth.sessionToken : expired.sessionToken));
    expect(codeOf(r)).toBe("SESSION_EXPIRED");
  });
});

describe("tampered: one character changed", () => {
  const flip = (c: string) => (c === "A" ? "B" : c === "a" ? "b" : "A");
  it.each([
    ["the last character", (t: string) => t.slice(0, -1) + flip(t.at(-1)!)],
    ["the first random character", (t: string) => t.slice(0, 9) + flip(t[9]!) + t.slice(10)],
    ["a middle character", (t: string) => t.slice(0, 30) + flip(t[30]!) + t.slice(31)],
    ["one letter's case", (t: string) => {
      const i = [...t].findIndex((c, k) => k > 9 && /[a-zA-Z]/.test(c));
      return t.slice(0, i) + (t[i] === t[i]!.toLowerCase() ? t[i]!.toUpperCase() : t[i]!.toLowerCase()) + t.slice(i + 1);
    }],
    ["the prefix", (t: string) => `ort_sesz_${t.slice(9)}`],
  ])("%s: 401 UNAUTHENTICATED on every popup operation, nothing changed, the real session still PENDING", async (_name, tamper) => {
    const real = await session({ integrationSlug: "openai" });
    const forged = tamper(real.sessionToken);
    expect(forged).not.toBe(real.sessionToken);
    expect(forged).toHaveLength(real.sessionToken.length);
    for (const [, query, variables] of POPUP_WRITES) {
      const r = await unchangedBy(server, () => post(server, query, variables, forged));
      expect(r.status).toBe(401);
      expect(codeOf(r)).toBe("UNAUTHENTICATED");
    }
    expect(await status(real.sessionId)).toBe("PENDING");
  });
});

describe("another organization's", () => {
  it.each([
    ["read B's connection", `query($id: ID!) { connection(id: $id) { id credentials { apiKey } } }`],
    ["delete B's connection", `mutation($id: ID!) { deleteConnection(id: $id) { id } }`],
  ])("A's session token cannot %s: FORBIDDEN, nothing changed", async (_name, query) => {
    const r = await unchangedBy(server, () => post(server, query, { id: b.connectionId }, a.pending.sessionToken));
    expect(codeOf(r)).toBe("FORBIDDEN");
  });

  it("A's session token cannot watch B's session (the subscription's token argument): FORBIDDEN, nothing changed", async () => {
    const c = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${a.pending.sessionToken}` } });
    sockets.push(c);
    const first = await unchangedBy(server, () =>
      new Promise<any>((resolve) => {
        c.subscribe(
          { query: `subscription($t: String) { hostedConnectionSession(sessionToken: $t) { id endUser { id } } }`, variables: { t: b.pending.sessionToken } },
          { next: (v) => resolve(v.errors?.[0] ?? v.data), error: (e: any) => resolve(e?.[0] ?? e), complete: () => resolve(undefined) },
        );
      }),
    );
    expect(first?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("another integration's", () => {
  it.each([
    ["an API key integration's token with another integration's fields (twilio's)", "openai", [{ key: "username", value: "AC123" }, { key: "password", value: "secret-password" }]],
    ["an API key integration's token with no credentials (a no-credential flow's)", "openai", []],
    ["a no-credential integration's token with an API key integration's fields", "hacker-news", OPENAI_CREDENTIALS],
    ["an OAuth2 integration's token finishing with credentials instead of authorizing", "oauth2-sandbox", OPENAI_CREDENTIALS],
  ])("%s: BAD_USER_INPUT, nothing changed, the session still PENDING", async (_name, integrationSlug, credentials) => {
    const s = await session({ integrationSlug });
    const r = await unchangedBy(server, () => post(server, ...COMPLETE_WITH(credentials), s.sessionToken));
    expect(codeOf(r)).toBe("BAD_USER_INPUT");
    expect(await status(s.sessionId)).toBe("PENDING");
  });

  it("an API key integration's token starting an OAuth2 authorization: BAD_USER_INPUT, nothing changed", async () => {
    const s = await session({ integrationSlug: "openai" });
    const r = await unchangedBy(server, () => post(server, START, {}, s.sessionToken));
    expect(codeOf(r)).toBe("BAD_USER_INPUT");
  });
});

describe("API keys and session tokens stay in their lanes", () => {
  it.each([
    ["read the popup's session", READ, {}],
    ["complete a session", ...COMPLETE_WITH(OPENAI_CREDENTIALS)],
    ["cancel a session", CANCEL, {}],
    ["start an authorization", START, {}],
  ] as [string, string, Record<string, unknown>][])("an API key cannot %s: FORBIDDEN, nothing changed", async (_name, query, variables) => {
    const r = await unchangedBy(server, () => post(server, query, variables, a.apiKey));
    expect(codeOf(r)).toBe("FORBIDDEN");
  });

  it.each([
    ["create a session", `mutation { createHostedConnectionSession(input: { integrationSlug: "openai", endUserId: "x" }) { sessionToken } }`],
    ["configure an OAuth app", `mutation { configureIntegration(input: { integrationSlug: "asana", oauthClientId: "c", oauthClientSecret: "s" }) { id } }`],
    ["delete its own organization's connection", `mutation { deleteConnection(id: "CONNECTION") { id } }`],
    ["list connections", `{ connections { totalCount } }`],
    ["read credentials", `{ connection(id: "CONNECTION") { credentials { apiKey } } }`],
    ["list OAuth apps", `{ integrationConfigs { id } }`],
    ["read the organization", `{ viewer { organization { id } } }`],
  ])("a session token cannot %s: FORBIDDEN, nothing changed", async (_name, query) => {
    const r = await unchangedBy(server, () => post(server, query.replaceAll("CONNECTION", a.connectionId), {}, a.pending.sessionToken));
    expect(codeOf(r)).toBe("FORBIDDEN");
    expect(JSON.stringify(r.body.data ?? null)).not.toContain(OPENAI_KEY);
  });
});

it("no refusal in this file was logged as an error", () => {
  expect(errorLogLines(server)).toEqual([]);
});
