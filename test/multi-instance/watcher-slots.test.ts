// The cap on subscriptions per session holds across instances: the slots live in Redis, a slot
// comes back when its socket closes (on whichever instance), and a slot of an instance that died
// frees itself once its lease runs out. Two real processes on one PostgreSQL database and Redis
// (PostgreSQL only: an embedded store belongs to one process); the slot store itself against the
// real Redis, in process.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createLogger } from "../../server/logger.js";
import { MAX_WATCHERS_PER_SESSION } from "../../server/sessions/watch.js";
import { createRedisWatcherSlots, slotKey, type WatcherSlot, type WatcherSlots } from "../../server/watcher-slots.js";
import { createTestDatabase } from "../support/postgres.js";
import { testStore } from "../support/server.js";
import { createOrganizationIn, createSession, freePort, newEncryptionKey, REDIS_URL, spawnInstance, type Instance } from "../support/instances.js";

const SUB = `subscription { hostedConnectionSession { id status } }`;

type Watcher = { first: Promise<string>; close(): Promise<void> };

/** One socket watching the session it authenticates with; `first` is the first answer's status or error code. */
function watchOn(instance: Instance, token: string): Watcher {
  const ws = new WebSocket(`${instance.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
  const first = new Promise<string>((resolve, reject) => {
    ws.once("error", reject);
    ws.on("message", (data) => {
      const m = JSON.parse(String(data));
      if (m.type === "connection_ack") ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: SUB } }));
      else if (m.type === "next") resolve(m.payload.errors?.[0]?.extensions?.code ?? m.payload.data.hostedConnectionSession.status);
      else if (m.type === "error") resolve(m.payload?.[0]?.extensions?.code);
    });
    ws.once("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
  });
  return {
    first,
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      const gone = new Promise<void>((resolve) => ws.once("close", () => resolve()));
      ws.close();
      await gone;
    },
  };
}

describe.skipIf(testStore !== "postgres")("watcher slots across two instances", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let instances: Instance[] = [];
  let org: { apiKey: string };
  const open: Watcher[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey() };
    org = await createOrganizationIn(db.url);
    instances = await Promise.all(["A", "B"].map((name) => spawnInstance(name, env)));
  });
  afterAll(async () => {
    for (const w of open) await w.close().catch(() => {});
    await Promise.all(instances.map((i) => i.stop()));
    await db?.drop();
  });

  it("refuses the 6th watcher on either instance, and accepts one again once any is closed", async () => {
    const [a, b] = instances as [Instance, Instance];
    const { sessionToken } = await createSession(a.url, org.apiKey, { integrationSlug: "hacker-news", endUserId: "slots" });
    for (let i = 0; i < MAX_WATCHERS_PER_SESSION; i++) {
      const w = watchOn(i % 2 === 0 ? a : b, sessionToken);
      open.push(w);
      expect(await w.first).toBe("PENDING");
    }
    for (const instance of [a, b]) {
      const refused = watchOn(instance, sessionToken);
      expect(await refused.first).toBe("RATE_LIMITED");
      await refused.close();
    }
    // Closing one on A frees a slot for B (once A has seen the socket go).
    await open.shift()!.close();
    await expect
      .poll(async () => {
        const w = watchOn(b, sessionToken);
        const answer = await w.first;
        if (answer === "PENDING") open.push(w);
        else await w.close();
        return answer;
      })
      .toBe("PENDING");
    const refused = watchOn(a, sessionToken);
    expect(await refused.first).toBe("RATE_LIMITED");
    await refused.close();
  });
});

describe("the Redis slot store", () => {
  const logger = createLogger("silent");
  const clients: Redis[] = [];
  const stores: WatcherSlots[] = [];
  const redis = () => {
    const c = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    clients.push(c);
    return c;
  };
  const ready = (c: Redis) => (c.status === "ready" ? Promise.resolve() : new Promise<void>((resolve) => c.once("ready", () => resolve())));
  const store = async (leaseMs: number, client = redis()) => {
    await ready(client);
    const s = createRedisWatcherSlots(client, logger, { leaseMs });
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => {});
    for (const c of clients) c.disconnect();
  });

  it("keeps a live instance's slots past their lease, and frees a dead instance's once it runs out", async () => {
    const key = randomUUID();
    const dyingClient = redis();
    const dying = await store(2_000, dyingClient);
    const other = await store(2_000);
    for (let i = 0; i < MAX_WATCHERS_PER_SESSION; i++) expect(await dying.acquire(key, MAX_WATCHERS_PER_SESSION)).toBeDefined();
    expect(await other.acquire(key, MAX_WATCHERS_PER_SESSION)).toBeUndefined();
    // Leases later, the heartbeat has kept them.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(await other.acquire(key, MAX_WATCHERS_PER_SESSION)).toBeUndefined();
    // The instance dies: no release, no more renewals.
    dyingClient.disconnect();
    let slot: WatcherSlot | undefined;
    await expect.poll(async () => (slot = await other.acquire(key, MAX_WATCHERS_PER_SESSION))).toBeDefined();
    await slot!.release();
    const check = redis();
    await ready(check);
    expect(await check.zcard(slotKey(key))).toBe(0); // the dead instance's members were pruned, ours removed
  });

  it("releases once per slot and counts what it holds", async () => {
    const key = randomUUID();
    const s = await store(30_000);
    const held = await Promise.all(Array.from({ length: 3 }, () => s.acquire(key, 3)));
    expect(s.held()).toBe(3);
    expect(await s.acquire(key, 3)).toBeUndefined();
    await held[0]!.release();
    await held[0]!.release(); // a second release frees nothing more
    expect(s.held()).toBe(2);
    expect(await s.acquire(key, 3)).toBeDefined();
    expect(await s.acquire(key, 3)).toBeUndefined();
  });

  it("caps per instance while Redis is unreachable", async () => {
    const unreachable = new Redis(`redis://127.0.0.1:${await freePort()}`, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 1_000 });
    unreachable.on("error", () => {});
    clients.push(unreachable);
    const s = createRedisWatcherSlots(unreachable, logger, { leaseMs: 30_000 });
    stores.push(s);
    const key = randomUUID();
    const slots = await Promise.all(Array.from({ length: MAX_WATCHERS_PER_SESSION }, () => s.acquire(key, MAX_WATCHERS_PER_SESSION)));
    expect(slots.every(Boolean)).toBe(true);
    expect(await s.acquire(key, MAX_WATCHERS_PER_SESSION)).toBeUndefined();
    await slots[0]!.release();
    expect(await s.acquire(key, MAX_WATCHERS_PER_SESSION)).toBeDefined();
  });
});
