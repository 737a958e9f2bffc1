// Several One Runtime PROCESSES behind one PostgreSQL database and one Redis, no sticky sessions:
// a subscription on one instance hears a flow finished on another; a client whose instance is
// killed reconnects through the balancer and still resolves; hundreds of flows spread over the
// instances each resolve exactly once. Only meaningful on PostgreSQL (an embedded store belongs
// to one process), so the pglite project skips it.
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { readMigrationList } from "../../server/db/migrations.js";
import { testStore } from "../support/server.js";
import { createTestDatabase } from "../support/postgres.js";
import { listenOnRedisChannel } from "../support/redis.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import {
  COMPLETE_SESSION,
  createOrganizationIn,
  createSession,
  gql,
  newEncryptionKey,
  REDIS_URL,
  spawnInstance,
  WATCH_SESSION,
  type Instance,
} from "../support/instances.js";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const FLOWS = 200;
/** Several processes on a shared CI machine: generous, so only a real hang fails. */
const SLOW_TEST_MS = 240_000;
const FLOW_DEADLINE_MS = 120_000;

type Watch = { events: { status: string; connectionId: string | null }[]; done: Promise<void>; error: unknown };

/** Subscribes to one session and records every event until the subscription completes. */
function watch(client: Client, sessionToken: string): Watch {
  const w: Watch = { events: [], done: Promise.resolve(), error: undefined };
  w.done = new Promise<void>((resolve) => {
    client.subscribe(
      { query: WATCH_SESSION, variables: { t: sessionToken } },
      {
        next: (v) => {
          if (v.errors) w.error = v.errors;
          else w.events.push(v.data!.hostedConnectionSession as never);
        },
        error: (e) => {
          w.error = e;
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return w;
}

const wsUrl = (base: string) => `${base.replace(/^http/, "ws")}/graphql`;

describe.skipIf(testStore !== "postgres")("three instances on one PostgreSQL database and Redis", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let instances: Instance[] = [];
  const extra: Instance[] = [];
  const clients: Client[] = [];
  const proxies: TcpProxy[] = [];
  let org: { apiKey: string };

  const client = (url: string, opts: Partial<Parameters<typeof createClient>[0]> = {}) => {
    const c = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey() };
    // All three start at once on a fresh database: they race to apply the migrations.
    const started = Date.now();
    instances = await Promise.all(["A", "B", "C"].map((name) => spawnInstance(name, env)));
    console.log(`3 instances started concurrently on a fresh database in ${Date.now() - started} ms`);
    org = await createOrganizationIn(db.url);
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    for (const p of proxies) await p.close();
    await Promise.all([...instances, ...extra].map((i) => i.stop("SIGKILL")));
    await db?.drop();
  });

  it("three instances starting together apply each migration exactly once, and all are ready", async () => {
    const expected = (await readMigrationList()).migrationDirectories.map((m) => m.path);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name`);
      expect(rows.map((r) => r.migration_name)).toEqual(expected);
      for (const r of rows) expect(r.finished_at).not.toBeNull();
    } finally {
      await c.end();
    }
    for (const i of instances) {
      const r = await fetch(`${i.url}/readyz`);
      expect(await r.json()).toEqual({ status: "ready", checked: ["database", "redis"] });
      expect(i.lines.join("\n")).not.toMatch(/advisory lock|failed to start/i);
    }
  });

  it("a subscription on instance A resolves when credentials are submitted through instance B", async () => {
    const [a, b] = instances as [Instance, Instance];
    const { sessionToken, sessionId } = await createSession(a.url, org.apiKey, { integrationSlug: "openai", endUserId: "cross-1" });
    // The session's channel (server/pubsub.ts names it), watched from outside: the change must
    // travel through Redis, not reach A by its safety-net resync timer. Seen on the wire rather
    // than guessed from a latency, which a busy machine stretches.
    const channel = await listenOnRedisChannel(REDIS_URL, `session:${sessionId}`);
    try {
      const w = watch(client(wsUrl(a.url)), sessionToken);
      await expect.poll(() => w.events.length).toBe(1);
      expect(w.events[0]!.status).toBe("PENDING");
      // A's watcher is subscribed in Redis (only A watches this session) before anything happens.
      await expect.poll(() => channel.otherSubscribers()).toBe(1);
      const published = channel.messages.length;
      const started = Date.now();
      const r = await gql(b.url, COMPLETE_SESSION, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, sessionToken);
      expect(r.errors).toBeUndefined();
      await w.done;
      const latency = Date.now() - started;
      expect(w.error).toBeUndefined();
      expect(w.events.map((e) => e.status)).toEqual(["PENDING", "CONNECTED"]);
      expect(w.events[1]!.connectionId).toBe(r.data.completeHostedConnectionSession.connectionId);
      // B published the change on the channel A listens on: Redis delivered it to A.
      await expect.poll(() => channel.messages.length).toBeGreaterThan(published);
      console.log(`cross-instance CONNECTED reached the subscriber ${latency} ms after the submission, through Redis`);
    } finally {
      await channel.close();
    }
  });

  it("a client whose instance is killed mid-flow reconnects through the balancer and resolves", async () => {
    const victim = await spawnInstance("victim", env);
    extra.push(victim);
    const [b, c] = instances as [Instance, Instance, Instance];
    const balancer = await startTcpProxy({ port: victim.port });
    proxies.push(balancer);
    const { sessionToken } = await createSession(balancer.url(), org.apiKey, { integrationSlug: "openai", endUserId: "killed-mid-flow" });
    let connects = 0;
    const sdkLike = client(wsUrl(balancer.url()), {
      retryAttempts: 30,
      shouldRetry: () => true,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 200)),
      on: { connected: () => void connects++ },
    });
    const w = watch(sdkLike, sessionToken);
    await expect.poll(() => w.events.length).toBe(1);

    victim.proc.kill("SIGKILL");
    const { signal } = await victim.exited;
    expect(signal).toBe("SIGKILL");
    balancer.setTarget(b.port); // the balancer's health check takes the dead backend out

    // The end user finishes in the popup meanwhile, on yet another instance.
    const r = await gql(c.url, COMPLETE_SESSION, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, sessionToken);
    expect(r.errors).toBeUndefined();
    await w.done;
    expect(w.error).toBeUndefined();
    expect(connects).toBeGreaterThanOrEqual(2);
    expect(balancer.accepted.get(b.port)).toBeGreaterThanOrEqual(1);
    const statuses = w.events.map((e) => e.status);
    expect(statuses.at(-1)).toBe("CONNECTED");
    expect(statuses.filter((s) => s === "CONNECTED")).toHaveLength(1);
    expect(w.events.at(-1)!.connectionId).toBe(r.data.completeHostedConnectionSession.connectionId);
  }, SLOW_TEST_MS);

  it(`${FLOWS} concurrent flows across instances: ${FLOWS} connections, no duplicates, no lost results`, async () => {
    const started = Date.now();
    const flows = await Promise.all(
      Array.from({ length: FLOWS }, async (_, i) => {
        const created = instances[i % 3]!;
        const watched = instances[(i + 1) % 3]!;
        const { sessionToken, sessionId } = await createSession(created.url, org.apiKey, { integrationSlug: "openai", endUserId: `bulk-${i}` });
        const w = watch(client(wsUrl(watched.url)), sessionToken);
        await expect.poll(() => w.events.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
        // The same submission lands on two other instances at once (a double click through a
        // balancer): exactly one may win.
        const input = { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } };
        const attempts = await Promise.all([
          gql(instances[(i + 2) % 3]!.url, COMPLETE_SESSION, input, sessionToken),
          gql(created.url, COMPLETE_SESSION, input, sessionToken),
        ]);
        // A lost result shows as a failed assertion below, not as a hang until the session expires.
        await Promise.race([w.done, new Promise((resolve) => setTimeout(resolve, FLOW_DEADLINE_MS))]);
        return { i, sessionId, w, attempts };
      }),
    );
    const elapsed = Date.now() - started;

    let lost = 0;
    const connectionIds = new Set<string>();
    for (const f of flows) {
      const winners = f.attempts.filter((a) => !a.errors);
      expect(winners, `flow ${f.i}`).toHaveLength(1);
      for (const loser of f.attempts.filter((a) => a.errors)) expect(loser.errors![0].extensions.code).toBe("SESSION_COMPLETED");
      const statuses = f.w.events.map((e) => e.status);
      if (statuses.at(-1) !== "CONNECTED") lost++;
      expect(f.w.error, `flow ${f.i}`).toBeUndefined();
      expect(statuses.filter((s) => s === "CONNECTED"), `flow ${f.i}`).toHaveLength(1);
      expect(f.w.events.at(-1)!.connectionId).toBe(winners[0]!.data.completeHostedConnectionSession.connectionId);
      connectionIds.add(f.w.events.at(-1)!.connectionId!);
    }
    const pgc = new pg.Client({ connectionString: db.url });
    await pgc.connect();
    const { rows } = await pgc.query(`SELECT count(*)::int AS n, count(DISTINCT "endUserId")::int AS users FROM "Connection" WHERE "endUserId" LIKE 'bulk-%'`);
    await pgc.end();
    console.log(`${FLOWS} flows across 3 instances: ${connectionIds.size} connected, ${lost} lost, ${rows[0].n} connection rows, ${elapsed} ms (${((FLOWS / elapsed) * 1000).toFixed(1)} flows/s)`);
    expect(lost).toBe(0);
    expect(connectionIds.size).toBe(FLOWS);
    expect(rows[0]).toEqual({ n: FLOWS, users: FLOWS });
  }, SLOW_TEST_MS);
});
