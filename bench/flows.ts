// Benchmark: N hosted connection flows spread over several One Runtime processes sharing one
// PostgreSQL database and Redis. Each flow: create a session (instance i), subscribe to it over
// graphql-ws (instance i+1), submit credentials (instance i+2), wait for CONNECTED. Prints
// flows/s and latency percentiles; it asserts nothing.
//   npm run bench:flows -- [flows=500] [concurrency=50] [instances=3]
// Needs PostgreSQL (ONE_RUNTIME_TEST_PG_URL or 127.0.0.1:5432) and Redis (ONE_RUNTIME_TEST_REDIS_URL or 127.0.0.1:6379).
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createTestDatabase } from "../test/support/postgres.js";
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
} from "../test/support/instances.js";

const [flows = 500, concurrency = 50, instanceCount = 3] = process.argv.slice(2).map(Number);
const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function oneFlow(i: number, instances: Instance[], apiKey: string): Promise<{ total: number; toConnected: number; submitRoundTrip: number }> {
  const at = (k: number) => instances[(((i + k) % instances.length) + instances.length) % instances.length]!;
  const started = performance.now();
  const { sessionToken } = await createSession(at(0).url, apiKey, { integrationSlug: "openai", endUserId: `bench-${i}` });
  const client = createClient({ url: `${at(1).url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    let submitted = 0;
    let connected = 0;
    let answered = 0;
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: WATCH_SESSION, variables: { t: sessionToken } },
        {
          next: (v) => {
            const status = (v.data as any)?.hostedConnectionSession?.status;
            if (status === "PENDING" && !submitted) {
              submitted = performance.now();
              gql(at(2).url, COMPLETE_SESSION, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, sessionToken)
                .then((r) => {
                  answered = performance.now();
                  if (r.errors) reject(new Error(JSON.stringify(r.errors)));
                })
                .catch(reject);
            }
            if (status === "CONNECTED") connected = performance.now();
          },
          error: reject,
          complete: () => (connected ? resolve() : reject(new Error("completed without CONNECTED"))),
        },
      );
    });
    return { total: connected - started, toConnected: connected - submitted, submitRoundTrip: (answered || connected) - submitted };
  } finally {
    await client.dispose();
  }
}

async function main() {
  const db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey(), ONE_RUNTIME_LOG_LEVEL: "warn" };
  const instances: Instance[] = [];
  try {
    const bootStarted = Date.now();
    instances.push(...(await Promise.all(Array.from({ length: instanceCount }, (_, k) => spawnInstance(`bench-${k}`, env)))));
    console.log(`${instanceCount} instances up in ${Date.now() - bootStarted} ms (concurrent start on a fresh database)`);
    const { apiKey } = await createOrganizationIn(db.url, "Bench org");

    // Warm-up: first-use costs (connection pools, JIT, the API key's lastUsedAt stamp) out of the figures.
    await Promise.all(Array.from({ length: Math.min(concurrency, 20) }, (_, i) => oneFlow(-1 - i, instances, apiKey)));

    const totals: number[] = [];
    const toConnected: number[] = [];
    const roundTrips: number[] = [];
    let failures = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < flows) {
          const i = next++;
          try {
            const r = await oneFlow(i, instances, apiKey);
            totals.push(r.total);
            toConnected.push(r.toConnected);
            roundTrips.push(r.submitRoundTrip);
          } catch (e) {
            failures++;
            if (failures <= 5) console.error(`flow ${i} failed: ${(e as Error).message}`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    totals.sort((a, b) => a - b);
    toConnected.sort((a, b) => a - b);
    roundTrips.sort((a, b) => a - b);
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    console.log(`flows: ${flows} over ${instanceCount} instances, ${concurrency} at a time`);
    console.log(`completed: ${totals.length}, failed: ${failures}, in ${seconds.toFixed(2)} s = ${(totals.length / seconds).toFixed(1)} flows/s`);
    console.log(`submission → CONNECTED at the subscriber (another instance): p50 ${ms(percentile(toConnected, 50))}, p95 ${ms(percentile(toConnected, 95))}, max ${ms(toConnected.at(-1) ?? NaN)}`);
    console.log(`the submission's own HTTP round trip: p50 ${ms(percentile(roundTrips, 50))}, p95 ${ms(percentile(roundTrips, 95))}`);
    console.log(`whole flow (create, subscribe, submit, CONNECTED): p50 ${ms(percentile(totals, 50))}, p95 ${ms(percentile(totals, 95))}, max ${ms(totals.at(-1) ?? NaN)}`);
  } finally {
    await Promise.all(instances.map((i) => i.stop("SIGTERM")));
    await db.drop();
  }
}

await main();
