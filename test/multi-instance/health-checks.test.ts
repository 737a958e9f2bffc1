// Scheduled health checks on two PROCESSES sharing one PostgreSQL database: each connection is
// checked by one instance at a time, about once per interval, never twice at once, whichever
// instance gets it. Only meaningful on PostgreSQL, so the pglite project skips it.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testStore } from "../support/server.js";
import { createTestDatabase } from "../support/postgres.js";
import { COMPLETE_SESSION, createOrganizationIn, createSession, gql, newEncryptionKey, spawnInstance, type Instance } from "../support/instances.js";
import { startProviderApi, type ProviderApi } from "../support/provider-api.js";

const INTERVAL_MS = 1_000;
const CONNECTIONS = 4;
const WATCH_MS = 5_000;

describe.skipIf(testStore !== "postgres")("health checks from two instances on one PostgreSQL database", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let instances: Instance[] = [];
  let api: ProviderApi;
  let catalogDir: string;
  const inFlight = new Map<string, number>();
  let mostAtOnce = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startProviderApi();
    catalogDir = await mkdtemp(join(tmpdir(), "one-runtime-health-catalog-"));
    await mkdir(join(catalogDir, "integrations"));
    await writeFile(
      join(catalogDir, "integrations", "health-stand-in.json"),
      JSON.stringify({
        slug: "health-stand-in",
        name: "Health stand-in",
        categories: ["developer-tools"],
        docsUrl: "https://example.com/docs",
        description: "A provider API stand-in with a health check.",
        authType: "API_KEY",
        credentialFields: [{ key: "apiKey", label: "API key", secret: true }],
        api: { baseUrl: `${api.url}/v1`, healthCheck: { path: "/me" } },
      }),
    );
    const env = {
      DATABASE_URL: db.url,
      ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey(),
      ONE_RUNTIME_CATALOG_DIR: catalogDir,
      ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true",
      ONE_RUNTIME_HEALTH_CHECK_INTERVAL_MS: String(INTERVAL_MS),
      ONE_RUNTIME_HEALTH_CHECK_POLL_MS: "100",
    };
    instances = await Promise.all(["A", "B"].map((name) => spawnInstance(name, env)));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    await api?.stop();
    await db?.drop();
    if (catalogDir) await rm(catalogDir, { recursive: true, force: true });
  });

  it("checks each connection about once per interval, never twice at once", async () => {
    const org = await createOrganizationIn(db.url);
    const keys: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const key = `stand-in-key-${i}-0123456789`;
      const { sessionToken } = await createSession(instances[i % 2]!.url, org.apiKey, { integrationSlug: "health-stand-in", endUserId: `u${i}` });
      const r = await gql(instances[i % 2]!.url, COMPLETE_SESSION, { input: { credentials: [{ key: "apiKey", value: key }] } }, sessionToken);
      expect(r.errors).toBeUndefined();
      keys.push(key);
    }
    // A slow provider: a second check of a connection while one is in flight would show here.
    const slowOk = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
      const key = String(req.headers.authorization).replace("Bearer ", "");
      const now = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, now);
      mostAtOnce = Math.max(mostAtOnce, now);
      setTimeout(() => {
        inFlight.set(key, inFlight.get(key)! - 1);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      }, 300);
    };
    api.seen.length = 0;
    api.queue(...Array.from({ length: 200 }, () => slowOk));
    await new Promise((r) => setTimeout(r, WATCH_MS));
    const perKey = keys.map((k) => api.seen.filter((s) => s.headers.authorization === `Bearer ${k}`).length);
    console.log(`checks per connection in ${WATCH_MS / 1000} s: ${perKey.join(", ")}`);
    expect(mostAtOnce).toBe(1);
    // One check per ~interval (±10 %) each, plus the first, due at once.
    for (const n of perKey) {
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(Math.ceil(WATCH_MS / (0.9 * INTERVAL_MS)) + 1);
    }
  }, 240_000);
});
