// Shared ground for the security matrix (test/security/*.test.ts): two organizations with real
// objects built through the public API, raw HTTP calls that keep status and headers, and the
// "nothing changed" check every case makes: every row a caller could change, before and after.
import { expect } from "vitest";
import type { TestServer } from "../support/server.js";

export type Answer = {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[] };
};

/** POSTs one GraphQL operation as a client would; the answer keeps its status and headers. */
export async function post(server: TestServer, query: string, variables: Record<string, unknown> = {}, token?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return postBody(server, JSON.stringify({ query, variables }), token, headers);
}

/** POSTs a request body exactly as given (JSON a client's serializer could not produce, for instance). */
export async function postBody(server: TestServer, requestBody: string, token?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: requestBody,
  });
  const text = await res.text();
  let body: Answer["body"];
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${res.status} answered with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, body };
}

export const codeOf = (a: Answer) => a.body.errors?.[0]?.extensions?.code;

/**
 * Every row a caller could create, change or delete, in a stable order. API keys leave out
 * `lastUsedAt`: using a key stamps it (throttled), which is bookkeeping, not a change by the caller.
 */
export async function snapshot(server: TestServer) {
  const p = server.services.prisma;
  const byId = { orderBy: { id: "asc" as const } };
  const [organizations, apiKeys, configs, sessions, connections, events, webhookEndpoints, webhookDeliveries] = await Promise.all([
    p.organization.findMany(byId),
    p.apiKey.findMany({ ...byId, omit: { lastUsedAt: true } }),
    p.integrationConfig.findMany(byId),
    p.hostedConnectionSession.findMany(byId),
    p.connection.findMany(byId),
    p.event.findMany(byId),
    p.webhookEndpoint.findMany(byId),
    p.webhookDelivery.findMany(byId),
  ]);
  return { organizations, apiKeys, configs, sessions, connections, events, webhookEndpoints, webhookDeliveries };
}
export type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** The matrix's second assertion, after the refusal itself: nothing any caller can see moved. */
export async function expectUnchanged(server: TestServer, before: Snapshot) {
  expect(await snapshot(server)).toEqual(before);
}

/** Runs `attack` between two snapshots and asserts they are equal; returns what the attack returned. */
export async function unchangedBy<T>(server: TestServer, attack: () => Promise<T>): Promise<T> {
  const before = await snapshot(server);
  const result = await attack();
  await expectUnchanged(server, before);
  return result;
}

export const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
export const UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000";

const CREATE = `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken session { id } } }`;
const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`;

export type Organization = {
  organizationId: string;
  apiKey: string;
  endUserId: string;
  /** An API key connection (openai), made through a session and the popup's mutation. */
  connectionId: string;
  /** A session still PENDING, for an API key integration (openai). */
  pending: { sessionToken: string; sessionId: string };
};

export async function createSession(server: TestServer, apiKey: string, input: Record<string, unknown>): Promise<{ sessionToken: string; sessionId: string }> {
  const r = await post(server, CREATE, { input }, apiKey);
  if (r.body.errors) throw new Error(`createHostedConnectionSession failed: ${JSON.stringify(r.body.errors)}`);
  return { sessionToken: r.body.data.createHostedConnectionSession.sessionToken, sessionId: r.body.data.createHostedConnectionSession.session.id };
}

export async function complete(server: TestServer, sessionToken: string, input: Record<string, unknown>): Promise<Answer> {
  return post(server, COMPLETE, { input }, sessionToken);
}

/** An organization with a key, an end user with a connection, and a pending session: real ids to attack with. */
export async function organizationWithObjects(server: TestServer, name: string): Promise<Organization> {
  const { organizationId, apiKey } = await server.createOrganization(name);
  const endUserId = `${name.toLowerCase().replace(/\W+/g, "-")}-user`;
  const s = await createSession(server, apiKey, { integrationSlug: "openai", endUserId, endUserName: `${name} user`, endUserEmail: "user@example.com" });
  const done = await complete(server, s.sessionToken, { credentials: [{ key: "apiKey", value: OPENAI_KEY }] });
  if (done.body.errors) throw new Error(`completeHostedConnectionSession failed: ${JSON.stringify(done.body.errors)}`);
  const pending = await createSession(server, apiKey, { integrationSlug: "openai", endUserId });
  return { organizationId, apiKey, endUserId, connectionId: done.body.data.completeHostedConnectionSession.connectionId, pending };
}

/** Error-level (50) and fatal (60) log lines: a refusal is never one. */
export const errorLogLines = (server: TestServer) => server.logs.filter((l) => /"level":(50|60|"error"|"fatal")[,}]/.test(l));
