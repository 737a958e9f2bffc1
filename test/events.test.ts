// The event log: each state change a backend cares about leaves exactly one event, written with
// the change, readable through `events` (filtered, paged) and streamed by the `events` subscription.
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { deleteExpiredEvents } from "../server/events/retention.js";
import { expireDueSessions } from "../server/sessions/lifecycle.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let org: { apiKey: string; organizationId: string };
let other: { apiKey: string };
const clients: Client[] = [];

const EVENTS = `query($first: Int, $after: String, $type: EventType, $connectionId: ID) {
  events(first: $first, after: $after, type: $type, connectionId: $connectionId) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id type createdAt endUserId integrationSlug connectionId sessionId data }
  }
}`;

async function connect(apiKey: string, endUserId: string, extra: Record<string, unknown> = {}) {
  const { sessionToken, sessionId } = await server.createSession(apiKey, { integrationSlug: "hacker-news", endUserId, ...extra });
  const r = await server.gql(`mutation { completeHostedConnectionSession(input: {}) { connectionId } }`, {}, { token: sessionToken });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return { connectionId: r.data.completeHostedConnectionSession.connectionId as string, sessionId };
}

const events = async (variables: Record<string, unknown> = {}, apiKey = org.apiKey) => {
  const r = await server.gql(EVENTS, variables, { token: apiKey });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.events as { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: any[] };
};

beforeAll(async () => {
  server = await startTestServer();
  org = await server.createOrganization("Events org");
  other = await server.createOrganization("Other events org");
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await server?.stop();
});

describe("the event log", () => {
  it("records connection.created, connection.reconnected and connection.deleted with the connection, end user and integration", async () => {
    const { connectionId, sessionId } = await connect(org.apiKey, "alice");
    const created = (await events({ connectionId })).nodes;
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ type: "CONNECTION_CREATED", endUserId: "alice", integrationSlug: "hacker-news", connectionId, sessionId });

    const again = await connect(org.apiKey, "alice", { connectionId });
    expect(again.connectionId).toBe(connectionId);
    const del = await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id } }`, { id: connectionId }, { token: org.apiKey });
    expect(del.errors).toBeUndefined();
    const all = (await events({ connectionId })).nodes.map((e) => e.type);
    expect(all).toEqual(["CONNECTION_DELETED", "CONNECTION_RECONNECTED", "CONNECTION_CREATED"]);
  });

  it("records session.cancelled and session.expired once each, whoever ends the session", async () => {
    const cancelled = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "bob" });
    await Promise.all([1, 2, 3].map(() => server.gql(`mutation { cancelHostedConnectionSession { status } }`, {}, { token: cancelled.sessionToken })));
    const expiring = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "bob" });
    await server.services.prisma.hostedConnectionSession.update({ where: { id: expiring.sessionId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await Promise.all([expireDueSessions(server.services), expireDueSessions(server.services)]);

    const cancels = (await events({ type: "SESSION_CANCELLED" })).nodes;
    expect(cancels.map((e) => e.sessionId)).toEqual([cancelled.sessionId]);
    expect(cancels[0]).toMatchObject({ endUserId: "bob", integrationSlug: "hacker-news", data: { errorCode: "cancelled" } });
    const expiries = (await events({ type: "SESSION_EXPIRED" })).nodes;
    expect(expiries.map((e) => e.sessionId)).toEqual([expiring.sessionId]);
  });

  it("writes no event when the change does not happen (a cancel after the session ended)", async () => {
    const { sessionToken, sessionId } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "carol" });
    await server.gql(`mutation { completeHostedConnectionSession(input: {}) { status } }`, {}, { token: sessionToken });
    const late = await server.gql(`mutation { cancelHostedConnectionSession { status } }`, {}, { token: sessionToken });
    expect(late.errors?.[0]?.extensions?.code).toBe("SESSION_COMPLETED");
    const mine = (await events({ first: 100 })).nodes.filter((e) => e.sessionId === sessionId);
    expect(mine.map((e) => e.type)).toEqual(["CONNECTION_CREATED"]);
  });

  it("pages newest first without repeats, and keeps each organization's events to itself", async () => {
    for (let i = 0; i < 4; i++) await connect(org.apiKey, `pager-${i}`);
    const total = (await events()).totalCount;
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof events>> = await events({ first: 3, after });
      seen.push(...page.nodes.map((e) => e.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect((await events({}, other.apiKey)).totalCount).toBe(0);
    const peek = await server.gql(`query($id: ID!) { event(id: $id) { id } }`, { id: seen[0] }, { token: other.apiKey });
    expect(peek.data.event).toBeNull();
  });

  it("refuses a forged cursor and a session token", async () => {
    const forged = await server.gql(EVENTS, { after: "bm90LWEtY3Vyc29y" }, { token: org.apiKey });
    expect(forged.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "dave" });
    const asPopup = await server.gql(EVENTS, {}, { token: sessionToken });
    expect(asPopup.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("the events subscription", () => {
  it("streams each new event of the caller's organization once, in order, and nothing of another organization", async () => {
    const client = createClient({
      url: `${server.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${org.apiKey}` },
    });
    clients.push(client);
    const received: { type: string; connectionId: string }[] = [];
    let subscribed!: () => void;
    const ready = new Promise<void>((r) => (subscribed = r));
    const done = new Promise<void>((resolve, reject) => {
      const stop = client.subscribe(
        { query: `subscription { events { id type connectionId } }` },
        {
          next: (v) => {
            if (v.errors) return reject(new Error(JSON.stringify(v.errors)));
            received.push(v.data!.events as never);
            if (received.length === 3) {
              stop();
              resolve();
            }
          },
          error: reject,
          complete: () => {},
        },
      );
      client.on("connected", () => setTimeout(subscribed, 200));
    });
    await ready;
    await connect(other.apiKey, "elsewhere");
    const a = await connect(org.apiKey, "sub-a");
    const b = await connect(org.apiKey, "sub-b");
    await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id } }`, { id: a.connectionId }, { token: org.apiKey });
    await done;
    expect(received.map((e) => [e.type, e.connectionId])).toEqual([
      ["CONNECTION_CREATED", a.connectionId],
      ["CONNECTION_CREATED", b.connectionId],
      ["CONNECTION_DELETED", a.connectionId],
    ]);
  });
});

describe("the events subscription, across organizations", () => {
  it("never yields another organization's event, even filtered on that organization's connection", async () => {
    const { connectionId } = await connect(org.apiKey, "watched");
    const client = createClient({
      url: `${server.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${other.apiKey}` },
    });
    clients.push(client);
    const received: unknown[] = [];
    client.subscribe({ query: `subscription($id: ID) { events(connectionId: $id) { id } }`, variables: { id: connectionId } }, { next: (v) => received.push(v), error: () => {}, complete: () => {} });
    await new Promise((r) => setTimeout(r, 300));
    await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id } }`, { id: connectionId }, { token: org.apiKey });
    // Longer than the feed's resync: an event it could see would have arrived by now.
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await events({ connectionId })).nodes.map((e) => e.type)).toEqual(["CONNECTION_DELETED", "CONNECTION_CREATED"]);
    expect(received).toEqual([]);
  });
});

describe("event retention", () => {
  it("deletes events older than the retention, with their deliveries, and keeps newer ones", async () => {
    const retention = await startTestServer({ env: { ONE_RUNTIME_EVENT_RETENTION_DAYS: "1", ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true" } });
    try {
      const o = await retention.createOrganization("Retention org");
      await retention.gql(`mutation { createWebhookEndpoint(url: "https://hooks.example.com/r") { secret } }`, {}, { token: o.apiKey });
      for (const endUserId of ["old", "new"]) {
        const { sessionToken } = await retention.createSession(o.apiKey, { integrationSlug: "hacker-news", endUserId });
        await retention.gql(`mutation { completeHostedConnectionSession(input: {}) { status } }`, {}, { token: sessionToken });
      }
      const prisma = retention.services.prisma;
      await prisma.event.updateMany({ where: { organizationId: o.organizationId, endUserId: "old" }, data: { createdAt: new Date(Date.now() - 25 * 3600_000) } });
      expect(await deleteExpiredEvents(retention.services)).toBe(1);
      expect((await prisma.event.findMany({ where: { organizationId: o.organizationId } })).map((e) => e.endUserId)).toEqual(["new"]);
      expect(await prisma.webhookDelivery.count({ where: { organizationId: o.organizationId } })).toBe(1);
    } finally {
      await retention.stop();
    }
  });
});
