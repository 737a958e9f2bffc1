// Two One Runtime PROCESSES on one PostgreSQL database and one Redis spend ONE budget per API key:
// requests spread over both are counted together. While Redis is gone each instance counts on
// its own and keeps serving (never a 5xx, never a hang). Uses a throwaway redis-server, never the
// machine's shared one. PostgreSQL only: the instances are separate processes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/postgres.js";
import { testStore } from "../support/server.js";
import { createOrganizationIn, gql, newEncryptionKey, spawnInstance, startThrowawayRedis, type Instance, type ThrowawayRedis } from "../support/instances.js";

const BUDGET = 6;
const VIEWER = `{ viewer { organization { id } } }`;
/** A request held this long is one the server hangs on (e.g. waiting for a Redis that is gone). */
const HUNG_REQUEST_MS = 30_000;

async function call(url: string, apiKey: string): Promise<{ status: number; retryAfter: string | null; code?: string }> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query: VIEWER }),
    signal: AbortSignal.timeout(HUNG_REQUEST_MS),
  });
  const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
  return { status: res.status, retryAfter: res.headers.get("retry-after"), code: body.errors?.[0]?.extensions?.code };
}

describe.skipIf(testStore !== "postgres")("rate limits across two instances on one Redis", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: ThrowawayRedis;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startThrowawayRedis();
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey(), ONE_RUNTIME_RATE_LIMIT_API_KEY: `${BUDGET}/600s` };
    [a, b] = await Promise.all([spawnInstance("rate-a", env), spawnInstance("rate-b", env)]);
  });
  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map((i) => i.stop("SIGKILL")));
    await redis?.stop();
    await db?.drop();
  });

  it("requests spread over both instances spend one budget: the budget runs, then both answer 429 with Retry-After", async () => {
    const { apiKey } = await createOrganizationIn(db.url, "Shared budget Co");
    const answers = [];
    for (let i = 0; i < BUDGET + 4; i++) answers.push(await call((i % 2 ? b : a).url, apiKey));
    expect(answers.slice(0, BUDGET).map((r) => r.status)).toEqual(Array(BUDGET).fill(200));
    for (const r of answers.slice(BUDGET)) {
      expect(r).toMatchObject({ status: 429, code: "RATE_LIMITED" });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Each instance alone has served only half the budget: only a shared count refuses here.
    expect(answers.slice(BUDGET).map((r) => r.status)).toEqual([429, 429, 429, 429]);
  });

  it("without Redis each instance counts on its own and keeps serving", async () => {
    await redis.stop();
    const { apiKey } = await createOrganizationIn(db.url, "Redis gone Co");
    for (const instance of [a, b]) {
      const statuses: number[] = [];
      for (let i = 0; i < BUDGET + 2; i++) statuses.push((await call(instance.url, apiKey)).status);
      expect(statuses, instance.name).toEqual([...Array(BUDGET).fill(200), 429, 429]);
    }
    for (const instance of [a, b]) expect(instance.proc.exitCode).toBeNull();
    await redis.start();
  });
});
