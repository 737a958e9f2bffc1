// Two One Runtime PROCESSES on one PostgreSQL database deliver webhooks from one shared queue:
// every event reaches a counting receiver exactly once, whichever instance made it and whichever
// delivers it; and the events subscription on one instance hears events made on the other (no
// Redis: the database's NOTIFY carries them). Only meaningful on PostgreSQL, so the pglite project
// skips it.
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { testStore } from "../support/server.js";
import { createTestDatabase } from "../support/postgres.js";
import { COMPLETE_SESSION, createOrganizationIn, createSession, gql, newEncryptionKey, spawnInstance, type Instance } from "../support/instances.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const EVENTS = 200;

describe.skipIf(testStore !== "postgres")("webhooks from two instances on one PostgreSQL database", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let instances: Instance[] = [];
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    db = await createTestDatabase();
    // A receiver slow enough that both instances have deliveries in flight at once.
    receiver = await startWebhookReceiver((_, res) => setTimeout(() => res.writeHead(204).end(), 5));
    const env = {
      DATABASE_URL: db.url,
      ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey(),
      ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true",
      ONE_RUNTIME_WEBHOOK_POLL_MS: "200",
      ONE_RUNTIME_LOG_LEVEL: "debug",
    };
    instances = await Promise.all(["A", "B"].map((name) => spawnInstance(name, env)));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    await receiver?.close();
    await db?.drop();
  });

  it(`delivers each of ${EVENTS} events exactly once to a receiver that counts`, async () => {
    const org = await createOrganizationIn(db.url);
    const created = await gql(instances[0]!.url, `mutation($url: String!) { createWebhookEndpoint(url: $url) { endpoint { id } } }`, { url: receiver.url }, org.apiKey);
    expect(created.errors).toBeUndefined();
    const connectionIds: string[] = [];
    // Events made through both instances, a few at a time.
    for (let i = 0; i < EVENTS; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, async (_, j) => {
          const via = instances[(i + j) % 2]!.url;
          const { sessionToken } = await createSession(via, org.apiKey, { integrationSlug: "hacker-news", endUserId: `u${i + j}` });
          const r = await gql(via, COMPLETE_SESSION, { input: {} }, sessionToken);
          return r.data.completeHostedConnectionSession.connectionId as string;
        }),
      );
      connectionIds.push(...batch);
    }
    await receiver.waitFor(EVENTS, 120_000);
    await new Promise((r) => setTimeout(r, 1_500)); // room for a duplicate to show up
    const ids = receiver.received.map((h) => String(h.headers["webhook-id"]));
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    const delivered = new Set(receiver.received.map((h) => JSON.parse(h.body).data.connectionId));
    expect([...delivered].sort()).toEqual([...connectionIds].sort());
    const attemptsBy = instances.map((i) => i.logs().filter((l) => l.msg === "webhook attempt").length);
    console.log(`attempts per instance: ${attemptsBy.join(" / ")}`);
    expect(attemptsBy.reduce((a, b) => a + b, 0)).toBe(EVENTS);
  }, 240_000);

  it("streams to a subscriber on one instance the events made through the other", async () => {
    const org = await createOrganizationIn(db.url, "Feed org");
    const [a, b] = instances as [Instance, Instance];
    const client = createClient({ url: `${a.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${org.apiKey}` } });
    try {
      const received: { type: string; connectionId: string }[] = [];
      const started = new Promise<void>((resolve) => client.on("connected", () => setTimeout(resolve, 300)));
      const done = new Promise<void>((resolve, reject) => {
        client.subscribe(
          { query: `subscription { events { type connectionId } }` },
          { next: (v) => (v.errors ? reject(new Error(JSON.stringify(v.errors))) : (received.push(v.data!.events as never), resolve())), error: reject, complete: () => {} },
        );
      });
      await started;
      const { sessionToken } = await createSession(b.url, org.apiKey, { integrationSlug: "hacker-news", endUserId: "feed" });
      const r = await gql(b.url, COMPLETE_SESSION, { input: {} }, sessionToken);
      await done;
      expect(received).toEqual([{ type: "CONNECTION_CREATED", connectionId: r.data.completeHostedConnectionSession.connectionId }]);
    } finally {
      await client.dispose();
    }
  });
});
