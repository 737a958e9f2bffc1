// Security matrix — tenancy, generated from the schema. Every field (of any type, roots included)
// with an argument that carries an id (ID-typed, named `id` or `…Id`, or an input object holding
// one) is called with ANOTHER organization's real id: the answer is exactly the one an unknown
// id gets, and the other organization's rows do not move. A new field taking an id fails this
// file until a case for it is written below.
import { getNamedType, isInputObjectType, isObjectType, type GraphQLInputType } from "graphql";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { schema } from "../../server/schema/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import {
  codeOf,
  errorLogLines,
  organizationWithObjects,
  post,
  snapshot,
  UNKNOWN_UUID,
  unchangedBy,
  type Answer,
  type Organization,
  type Snapshot,
} from "./fixtures.js";

const ID_NAME = /^id$|Id$/;
const VICTIM_CLIENT_ID = "victim-client";

/** The argument paths of one field that carry an id (`id`, `input.connectionId`, ...). */
function idPaths(name: string, type: GraphQLInputType, seen = new Set<string>()): string[] {
  const named = getNamedType(type);
  if (named.name === "ID" || ID_NAME.test(name)) return [name];
  if (!isInputObjectType(named) || seen.has(named.name)) return [];
  seen.add(named.name);
  return Object.values(named.getFields()).flatMap((f) => idPaths(f.name, f.type, seen).map((p) => `${name}.${p}`));
}

/** `Type.field(path)` for every argument path carrying an id, over the whole schema. */
function fieldsTakingIds(): string[] {
  const found: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      for (const arg of field.args) for (const path of idPaths(arg.name, arg.type)) found.push(`${type.name}.${field.name}(${path})`);
    }
  }
  return found.sort();
}

type Case = {
  query: string;
  variables: (id: string) => Record<string, unknown>;
  /** The victim's real id for this argument. */
  victimId: (victim: Organization) => string;
  unknownId: string;
  /** What the attacker's API key gets, for the victim's id and the unknown one alike. */
  expected: (a: Answer) => void;
  /**
   * The call changes the CALLER's own rows whatever the id (a session for an end user id, its own
   * OAuth app): then the victim's rows must stay as they were, and this checks the caller's change
   * (the same for both ids) between two snapshots.
   */
  ownChange?: (from: Snapshot, to: Snapshot, id: string) => void;
  /** How the call is made: a POST by default; subscriptions go over graphql-ws. */
  send?: typeof post;
};

/**
 * A subscription over graphql-ws, authenticated with `token`: what it yields within `ms` (or the
 * error it ends with), shaped like a POST's answer.
 */
function subscribeFor(ms: number): typeof post {
  return async (srv, query, variables = {}, token) => {
    const client = createClient({ url: `${srv.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: token ? { authorization: `Bearer ${token}` } : {} });
    const body: Answer["body"] = { data: null };
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        client.subscribe(
          { query, variables },
          {
            next: (v) => {
              if (v.errors) body.errors = v.errors as never;
              else body.data = v.data;
            },
            error: (e) => {
              body.errors = (Array.isArray(e) ? e : [{ message: String((e as Error).message ?? e) }]) as never;
              clearTimeout(timer);
              resolve();
            },
            complete: () => {},
          },
        );
      });
    } finally {
      await client.dispose();
    }
    return { status: 200, headers: new Headers(), body };
  };
}

const addedSessions = (from: Snapshot, to: Snapshot) => to.sessions.filter((s) => !from.sessions.some((b) => b.id === s.id));

const CONNECTION_FIELDS = `id name status endUser { id name email } integrationSlug metadata`;
const ENDPOINT_FIELDS = `id url eventTypes enabled consecutiveFailures`;
const EMPTY_PAGE = { totalCount: 0, nodes: [] };

/** One case per id-carrying argument the schema has; the list must match the schema exactly. */
const CASES: Record<string, Case> = {
  "Query.connection(id)": {
    query: `query($id: ID!) { connection(id: $id) { ${CONNECTION_FIELDS} credentials { apiKey values { key value } } } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.connectionId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(a).toMatchObject({ status: 200, body: { data: { connection: null } } }),
  },
  "Query.connections(endUserId)": {
    query: `query($id: String) { connections(endUserId: $id) { totalCount nodes { ${CONNECTION_FIELDS} } } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.endUserId,
    unknownId: "nobody-ever",
    expected: (a) => expect(a.body).toEqual({ data: { connections: { totalCount: 0, nodes: [] } } }),
  },
  "Mutation.deleteConnection(id)": {
    query: `mutation($id: ID!) { deleteConnection(id: $id) { id revocation { attempted succeeded } } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.connectionId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Mutation.createHostedConnectionSession(input.connectionId)": {
    query: `mutation($id: ID) { createHostedConnectionSession(input: { integrationSlug: "openai", endUserId: "attacker-user", connectionId: $id }) { sessionToken session { id connectionId } } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.connectionId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Mutation.createHostedConnectionSession(input.endUserId)": {
    query: `mutation($id: String!) { createHostedConnectionSession(input: { integrationSlug: "openai", endUserId: $id }) { session { status connectionId endUser { id name email } } } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.endUserId,
    unknownId: "nobody-ever",
    // A session of the caller's own for that end user id: nothing of the victim's end user comes with it.
    expected: (a) => expect(a.body.data.createHostedConnectionSession.session).toMatchObject({ status: "PENDING", connectionId: null, endUser: { name: null, email: null } }),
    ownChange: (from, to, id) => {
      expect(addedSessions(from, to)).toEqual([expect.objectContaining({ organizationId: attacker.organizationId, endUserId: id, connectionId: null, endUserName: null, endUserEmail: null })]);
      expect(to.connections).toEqual(from.connections);
    },
  },
  "Mutation.checkConnection(id)": {
    query: `mutation($id: ID!) { checkConnection(id: $id) { ${CONNECTION_FIELDS} lastHealthCheck { outcome } } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.connectionId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Query.event(id)": {
    query: `query($id: ID!) { event(id: $id) { id type connectionId data } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEventId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(a.body).toEqual({ data: { event: null } }),
  },
  "Query.events(connectionId)": {
    query: `query($id: ID) { events(connectionId: $id) { totalCount nodes { id type connectionId } } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.connectionId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(a.body).toEqual({ data: { events: EMPTY_PAGE } }),
  },
  // Accepted, and silent: it streams the caller's own events only (test/events.test.ts checks
  // that another organization's events on that connection never reach it).
  "Subscription.events(connectionId)": {
    query: `subscription($id: ID) { events(connectionId: $id) { id type connectionId } }`,
    variables: (id) => ({ id }),
    victimId: (v) => v.connectionId,
    unknownId: UNKNOWN_UUID,
    send: subscribeFor(300),
    expected: (a) => expect(a.body).toEqual({ data: null }),
  },
  "Query.webhookEndpoint(id)": {
    query: `query($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEndpointId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(a.body).toEqual({ data: { webhookEndpoint: null } }),
  },
  "Query.webhookDeliveries(endpointId)": {
    query: `query($id: ID) { webhookDeliveries(endpointId: $id) { totalCount nodes { id status } } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEndpointId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(a.body).toEqual({ data: { webhookDeliveries: EMPTY_PAGE } }),
  },
  "Query.webhookDeliveries(eventId)": {
    query: `query($id: ID) { webhookDeliveries(eventId: $id) { totalCount nodes { id status } } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEventId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(a.body).toEqual({ data: { webhookDeliveries: EMPTY_PAGE } }),
  },
  "Mutation.updateWebhookEndpoint(id)": {
    query: `mutation($id: ID!) { updateWebhookEndpoint(id: $id, url: "https://attacker.example.com/", enabled: true) { ${ENDPOINT_FIELDS} } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEndpointId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Mutation.disableWebhookEndpoint(id)": {
    query: `mutation($id: ID!) { disableWebhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEndpointId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Mutation.rotateWebhookSecret(id)": {
    query: `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEndpointId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Mutation.deleteWebhookEndpoint(id)": {
    query: `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEndpointId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Mutation.replayWebhookEvents(eventId)": {
    query: `mutation($id: ID) { replayWebhookEvents(eventId: $id) { queued } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEventId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  "Mutation.replayWebhookEvents(endpointId)": {
    query: `mutation($id: ID) { replayWebhookEvents(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z", endpointId: $id) { queued } }`,
    variables: (id) => ({ id }),
    victimId: () => victimEndpointId,
    unknownId: UNKNOWN_UUID,
    expected: (a) => expect(codeOf(a)).toBe("NOT_FOUND"),
  },
  // Not our id but the provider's (an OAuth app's client id): naming another organization's
  // configures the caller's own app with it, as any other value would.
  "Mutation.configureIntegration(input.oauthClientId)": {
    query: `mutation($id: String!) { configureIntegration(input: { integrationSlug: "asana", oauthClientId: $id, oauthClientSecret: "attacker-secret-value" }) { integrationSlug oauthClientId hasClientSecret } }`,
    variables: (id) => ({ id }),
    victimId: () => VICTIM_CLIENT_ID,
    unknownId: "unknown-client",
    expected: (a) => expect(a.body.data.configureIntegration).toMatchObject({ integrationSlug: "asana", hasClientSecret: true }),
    ownChange: (from, to, id) => {
      const changed = to.configs.filter((c) => !from.configs.some((b) => JSON.stringify(b) === JSON.stringify(c)));
      expect(changed).toEqual([expect.objectContaining({ organizationId: attacker.organizationId, integrationSlug: "asana", oauthClientId: id })]);
      expect(to.sessions).toEqual(from.sessions);
      expect(to.connections).toEqual(from.connections);
    },
  },
};

/** An answer with the id under test and every volatile value (ids, tokens, times) named by kind. */
function normalized(a: Answer, id: string): string {
  return JSON.stringify({ status: a.status, body: a.body })
    .replaceAll(JSON.stringify(id).slice(1, -1), "<ID UNDER TEST>")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/ort_sess_[A-Za-z0-9_-]{43}/g, "<session token>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>");
}

/** The rows of one organization, out of a snapshot. */
const rowsOf = (s: Snapshot, organizationId: string) => ({
  organizations: s.organizations.filter((o) => o.id === organizationId),
  apiKeys: s.apiKeys.filter((r) => r.organizationId === organizationId),
  configs: s.configs.filter((r) => r.organizationId === organizationId),
  sessions: s.sessions.filter((r) => r.organizationId === organizationId),
  connections: s.connections.filter((r) => r.organizationId === organizationId),
  events: s.events.filter((r) => r.organizationId === organizationId),
  webhookEndpoints: s.webhookEndpoints.filter((r) => r.organizationId === organizationId),
  webhookDeliveries: s.webhookDeliveries.filter((r) => r.organizationId === organizationId),
});

let server: TestServer;
let victim: Organization;
let attacker: Organization;
let victimEventId: string;
let victimEndpointId: string;

beforeAll(async () => {
  server = await startTestServer();
  victim = await organizationWithObjects(server, "Victim");
  attacker = await organizationWithObjects(server, "Attacker");
  const configured = await post(
    server,
    `mutation { configureIntegration(input: { integrationSlug: "hubspot", oauthClientId: "${VICTIM_CLIENT_ID}", oauthClientSecret: "victim-secret-value" }) { id } }`,
    {},
    victim.apiKey,
  );
  expect(configured.body.errors).toBeUndefined();
  // An endpoint for a type no case makes happen, so no delivery moves under the snapshots.
  const endpoint = await post(server, `mutation { createWebhookEndpoint(url: "https://hooks.example.com/victim", eventTypes: [SESSION_EXPIRED]) { endpoint { id } } }`, {}, victim.apiKey);
  victimEndpointId = endpoint.body.data.createWebhookEndpoint.endpoint.id;
  victimEventId = (await server.services.prisma.event.findFirstOrThrow({ where: { organizationId: victim.organizationId } })).id;
});
afterAll(() => server?.stop());

describe("tenancy: fields taking an id, generated from the schema", () => {
  it("every field taking an id has a case here (a new one fails until it gets one)", () => {
    expect(fieldsTakingIds()).toEqual(Object.keys(CASES).sort());
  });

  describe.each(Object.entries(CASES))("%s", (_name, c) => {
    it("with another organization's API key: the victim's real id is answered exactly like an unknown id, and nothing of the victim's changes", async () => {
      const victimId = c.victimId(victim);
      const before = await snapshot(server);
      const send = c.send ?? post;
      const withVictimId = await send(server, c.query, c.variables(victimId), attacker.apiKey);
      const afterVictimId = await snapshot(server);
      const withUnknownId = await send(server, c.query, c.variables(c.unknownId), attacker.apiKey);
      const afterUnknownId = await snapshot(server);

      c.expected(withVictimId);
      c.expected(withUnknownId);
      expect(normalized(withVictimId, victimId)).toBe(normalized(withUnknownId, c.unknownId));
      expect(rowsOf(afterVictimId, victim.organizationId)).toEqual(rowsOf(before, victim.organizationId));
      expect(rowsOf(afterUnknownId, victim.organizationId)).toEqual(rowsOf(before, victim.organizationId));
      if (!c.ownChange) {
        expect(afterVictimId).toEqual(before);
        expect(afterUnknownId).toEqual(before);
      } else {
        c.ownChange(before, afterVictimId, victimId);
        c.ownChange(afterVictimId, afterUnknownId, c.unknownId);
      }
    });

    it("with another organization's session token: refused exactly like an unknown id, and nothing changes", async () => {
      const victimId = c.victimId(victim);
      const [withVictimId, withUnknownId] = await unchangedBy(server, async () => [
        await (c.send ?? post)(server, c.query, c.variables(victimId), attacker.pending.sessionToken),
        await (c.send ?? post)(server, c.query, c.variables(c.unknownId), attacker.pending.sessionToken),
      ]);
      expect(codeOf(withVictimId)).toBe("FORBIDDEN");
      expect(normalized(withVictimId, victimId)).toBe(normalized(withUnknownId, c.unknownId));
    });
  });
});

describe("tenancy: what a caller lists is its own", () => {
  it("viewer, connections and integrationConfigs show only the caller's organization", async () => {
    const r = await unchangedBy(server, () =>
      post(server, `{ viewer { organization { id } } connections { totalCount nodes { id endUser { id } } } integrationConfigs { id oauthClientId } }`, {}, attacker.apiKey),
    );
    expect(r.body.data.viewer.organization.id).toBe(attacker.organizationId);
    expect(r.body.data.connections).toEqual({ totalCount: 1, nodes: [{ id: attacker.connectionId, endUser: { id: attacker.endUserId } }] });
    const own = await server.services.prisma.integrationConfig.findMany({ where: { organizationId: attacker.organizationId }, select: { id: true } });
    expect(r.body.data.integrationConfigs.map((c: { id: string }) => c.id).sort()).toEqual(own.map((c) => c.id).sort());
    expect(JSON.stringify(r.body)).not.toContain(VICTIM_CLIENT_ID);
  });

  it("an integration another organization configured shows no configuration to the caller", async () => {
    const r = await unchangedBy(server, () => post(server, `{ integration(slug: "hubspot") { configuration { id oauthClientId } } }`, {}, attacker.apiKey));
    expect(r.body).toEqual({ data: { integration: { configuration: null } } });
  });

  it("configuring an integration another organization configured changes only the caller's configuration", async () => {
    const before = await snapshot(server);
    const r = await post(
      server,
      `mutation { configureIntegration(input: { integrationSlug: "hubspot", oauthClientId: "attacker-client", oauthClientSecret: "attacker-secret-value" }) { oauthClientId } }`,
      {},
      attacker.apiKey,
    );
    expect(r.body.data.configureIntegration.oauthClientId).toBe("attacker-client");
    const after = await snapshot(server);
    expect(rowsOf(after, victim.organizationId)).toEqual(rowsOf(before, victim.organizationId));
    const victimView = await post(server, `{ integration(slug: "hubspot") { configuration { oauthClientId } } }`, {}, victim.apiKey);
    expect(victimView.body.data.integration.configuration.oauthClientId).toBe(VICTIM_CLIENT_ID);
  });

  it("no refusal above was logged as an error", () => {
    expect(errorLogLines(server)).toEqual([]);
  });
});
