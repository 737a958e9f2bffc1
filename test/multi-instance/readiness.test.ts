// /readyz follows the instance's dependencies: unready (503, naming what failed, answered rather
// than hung even when a dependency never answers) while PostgreSQL or Redis is gone, ready again
// once it is back — and the process never dies of it. Uses a throwaway redis-server and a TCP
// stand-in in front of PostgreSQL, never the machine's shared services. PostgreSQL only: the
// instances are separate processes.
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabase } from "../support/postgres.js";
import { testStore } from "../support/server.js";
import { listenOnRedisChannel } from "../support/redis.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import {
  createOrganizationIn,
  createSession,
  gql,
  newEncryptionKey,
  REDIS_URL,
  spawnInstance,
  startThrowawayRedis,
  WATCH_SESSION,
  type Instance,
  type ThrowawayRedis,
} from "../support/instances.js";

const COMPLETE = `mutation { completeHostedConnectionSession(input: {}) { status } }`;
/**
 * The readiness checks' own bound is 1.5 s (READINESS_TIMEOUT_MS). A probe held twenty times
 * that is one the server hangs on (a check without its bound waits on a black-holed database
 * for ever), not one a busy machine slowed down.
 */
const HUNG_PROBE_MS = 30_000;

async function readyz(url: string): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(HUNG_PROBE_MS) }).catch((e: Error) => {
    throw new Error(`/readyz did not answer within ${HUNG_PROBE_MS} ms: the probe hangs (${e.message})`);
  });
  return { status: r.status, body: await r.json(), ms: Date.now() - started };
}

/** Polls /readyz until it answers `status`; every probe on the way must be answered. */
async function untilReadyz(url: string, status: number, timeoutMs = 60_000) {
  const started = Date.now();
  for (;;) {
    const r = await readyz(url);
    if (r.status === status) return { ...r, after: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`/readyz still ${r.status} ${JSON.stringify(r.body)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * One flow: watched on `watchOn`, finished on `finishOn`; resolves with the time from submission
 * to CONNECTED. With `throughRedis`, it also checks on the wire that the change travelled through
 * that Redis: the watcher's instance was subscribed to the session's channel (server/pubsub.ts
 * names it) before the submission, and the finishing instance published on it.
 */
async function crossInstanceFlow(watchOn: Instance, finishOn: Instance, apiKey: string, endUserId: string, throughRedis?: string): Promise<number> {
  const { sessionToken, sessionId } = await createSession(finishOn.url, apiKey, { integrationSlug: "hacker-news", endUserId });
  const channel = throughRedis ? await listenOnRedisChannel(throughRedis, `session:${sessionId}`) : undefined;
  const client = createClient({ url: `${watchOn.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    const statuses: string[] = [];
    let submitted = 0;
    let published = 0;
    const submit = async () => {
      // Only watchOn watches this session: one subscriber besides ours is its watcher.
      if (channel) await expect.poll(() => channel.otherSubscribers()).toBe(1);
      published = channel?.messages.length ?? 0;
      submitted = Date.now();
      await gql(finishOn.url, COMPLETE, {}, sessionToken);
    };
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: WATCH_SESSION, variables: { t: sessionToken } },
        {
          next: (v) => {
            const status = (v.data as any)?.hostedConnectionSession?.status;
            statuses.push(status);
            if (status === "PENDING" && statuses.length === 1) submit().catch(reject);
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    const ms = Date.now() - submitted;
    expect(statuses).toEqual(["PENDING", "CONNECTED"]);
    if (channel) await expect.poll(() => channel.messages.length).toBeGreaterThan(published);
    return ms;
  } finally {
    await client.dispose();
    await channel?.close();
  }
}

describe.skipIf(testStore !== "postgres")("readiness follows PostgreSQL and Redis", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let key: string;
  let apiKey: string;
  const instances: Instance[] = [];
  let redis: ThrowawayRedis | undefined;
  let dbProxy: TcpProxy | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    key = newEncryptionKey();
    apiKey = (await createOrganizationIn(db.url)).apiKey;
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    await redis?.stop();
    await dbProxy?.close();
    await db?.drop();
  });

  it("is unready while Redis is down (events fall back to the resync timer), ready again when it returns", async () => {
    redis = await startThrowawayRedis();
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, ONE_RUNTIME_ENCRYPTION_KEY: key };
    const [a, b] = await Promise.all([spawnInstance("redis-a", env), spawnInstance("redis-b", env)]);
    instances.push(a, b);
    expect((await untilReadyz(a.url, 200)).body).toEqual({ status: "ready", checked: ["database", "redis"] });
    const before = await crossInstanceFlow(a, b, apiKey, "redis-before");

    await redis.stop();
    const down = await untilReadyz(a.url, 503);
    expect(down.body).toEqual({ status: "unready", failed: ["redis"] });
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    // Without Redis a watcher on A still learns of B's change: only its resync timer (2 s) can
    // tell it now, so the flow finishing at all shows the fallback works.
    const during = await crossInstanceFlow(a, b, apiKey, "redis-down");

    await redis.start();
    const up = await untilReadyz(a.url, 200);
    await untilReadyz(b.url, 200);
    // Subscriptions through Redis again, seen on the wire (not guessed from a latency).
    const after = await crossInstanceFlow(a, b, apiKey, "redis-after", redis.url);
    console.log(
      `Redis outage: unready after ${down.after} ms (answer in ${down.ms} ms), ready ${up.after} ms after Redis returned; ` +
        `cross-instance CONNECTED in ${before} ms before, ${during} ms during (resync), ${after} ms after`,
    );
    expect(a.proc.exitCode).toBeNull();
    expect(b.proc.exitCode).toBeNull();
    expect(a.logs().some((l) => l.msg === "Redis connection failed; reconnecting")).toBe(true);
  }, 180_000);

  it("is unready while PostgreSQL refuses or never answers, ready again when it returns", async () => {
    dbProxy = await startTcpProxy({ port: Number(new URL(db.url).port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.port = String(dbProxy.port);
    const inst = await spawnInstance("pg-cut", { DATABASE_URL: viaProxy.toString(), REDIS_URL, ONE_RUNTIME_ENCRYPTION_KEY: key });
    instances.push(inst);
    await untilReadyz(inst.url, 200);

    dbProxy.setMode("refuse");
    dbProxy.cutAll();
    const refused = await untilReadyz(inst.url, 503);
    expect(refused.body).toEqual({ status: "unready", failed: ["database"] });

    dbProxy.setMode("forward");
    const back = await untilReadyz(inst.url, 200);

    // A database that accepts connections and never answers: the check's own timeout decides.
    dbProxy.setMode("blackhole");
    dbProxy.cutAll();
    const hung = await untilReadyz(inst.url, 503);
    expect(hung.body).toEqual({ status: "unready", failed: ["database"] });
    expect((await fetch(`${inst.url}/healthz`)).status).toBe(200);

    dbProxy.setMode("forward");
    dbProxy.cutAll();
    const again = await untilReadyz(inst.url, 200);
    console.log(
      `PostgreSQL cut: unready after ${refused.after} ms (refused, answer in ${refused.ms} ms), ready ${back.after} ms after it returned; ` +
        `black hole: unready after ${hung.after} ms (answer in ${hung.ms} ms), ready ${again.after} ms after`,
    );
    expect(inst.proc.exitCode).toBeNull();
    // The instance serves again, not just its probe.
    const created = await gql(inst.url, `mutation { createHostedConnectionSession(input: { integrationSlug: "hacker-news", endUserId: "after-cut" }) { sessionToken } }`, {}, apiKey);
    expect(created.errors).toBeUndefined();
  }, 180_000);
});
