// Instances cache API key verifications; a revocation still reaches all of them: at once through
// Redis, and within the cache time on an instance without it. Three in-process servers on one
// PostgreSQL database (PostgreSQL only: an embedded store belongs to one process).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/postgres.js";
import { newEncryptionKey, REDIS_URL } from "../support/instances.js";
import { startTestServer, testStore, type TestServer } from "../support/server.js";

const VIEWER = `{ viewer { organization { id } } }`;
const CACHE_MS_WITHOUT_REDIS = 4_000;

/** Polls until `server` refuses `key`; resolves with how long that took. */
async function refusedAfter(server: TestServer, key: string, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await server.gql(VIEWER, {}, { token: key });
    if (r.status === 401) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`still accepted after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(testStore !== "postgres")("API key revocation across instances", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: TestServer;
  let b: TestServer;
  let alone: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    const shared = { ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey() };
    [a, b, alone] = await Promise.all([
      startTestServer({ databaseUrl: db.url, env: { ...shared, REDIS_URL } }),
      startTestServer({ databaseUrl: db.url, env: { ...shared, REDIS_URL } }),
      startTestServer({ databaseUrl: db.url, env: { ...shared, ONE_RUNTIME_API_KEY_CACHE_MS: String(CACHE_MS_WITHOUT_REDIS) } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a, b, alone].map((s) => s?.stop()));
    await db?.drop();
  });

  it("a key revoked on one instance is refused at once by another that had it cached", async () => {
    const org = await a.createOrganization("Revoked across Redis");
    expect((await b.gql(VIEWER, {}, { token: org.apiKey })).data.viewer.organization.id).toBe(org.organizationId);
    await a.admin({ command: "revoke-api-key", id: org.apiKeyId });
    expect((await a.gql(VIEWER, {}, { token: org.apiKey })).status).toBe(401);
    // Redis' delivery, not the cache time: well under it.
    expect(await refusedAfter(b, org.apiKey, 2_000)).toBeLessThan(2_000);
  });

  it("an instance without Redis serves a revoked key from its cache only until the cache time has passed", async () => {
    const org = await a.createOrganization("Revoked without Redis");
    expect((await alone.gql(VIEWER, {}, { token: org.apiKey })).status).toBe(200);
    const revokedAt = Date.now();
    await a.admin({ command: "revoke-api-key", id: org.apiKeyId });
    // Still trusted from the cache: the bounded window the README states.
    expect((await alone.gql(VIEWER, {}, { token: org.apiKey })).status).toBe(200);
    await refusedAfter(alone, org.apiKey, CACHE_MS_WITHOUT_REDIS + 5_000);
    expect(Date.now() - revokedAt).toBeGreaterThanOrEqual(CACHE_MS_WITHOUT_REDIS - 1_000);
  });

  it("a key created after an unknown-key refusal works at once (refusals are not cached)", async () => {
    const org = await a.createOrganization("Fresh key");
    const made = (await a.admin({ command: "create-api-key", organizationId: org.organizationId, name: "second" })) as { apiKey: { key: string } };
    expect((await b.gql(VIEWER, {}, { token: made.apiKey.key })).status).toBe(200);
    const unknown = `${made.apiKey.key.slice(0, -1)}${made.apiKey.key.endsWith("A") ? "B" : "A"}`;
    expect((await b.gql(VIEWER, {}, { token: unknown })).status).toBe(401);
  });
});
