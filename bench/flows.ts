// Benchmark: N hosted connection flows spread over several One Runtime processes sharing one
// PostgreSQL database and Redis. Each flow (test/support/flows.ts): create a session (instance
// i), subscribe to it as the SDK does (instance i+1), the popup reads and submits (instance i+2),
// wait for CONNECTED. Prints
// flows/s and latency percentiles; it asserts nothing.
//   npm run bench:flows -- [flows=500] [concurrency=50] [instances=3]
// Needs PostgreSQL (ONE_RUNTIME_TEST_PG_URL or 127.0.0.1:5432) and Redis (ONE_RUNTIME_TEST_REDIS_URL or 127.0.0.1:6379).
import { connectFlow, type FlowResult } from "../test/support/flows.js";
import { createTestDatabase } from "../test/support/postgres.js";
import { createOrganizationIn, newEncryptionKey, REDIS_URL, spawnInstance, type Instance } from "../test/support/instances.js";

const [flows = 500, concurrency = 50, instanceCount = 3] = process.argv.slice(2).map(Number);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Flow i: created on instance i, watched on i+1, read and submitted on i+2. */
function oneFlow(i: number, instances: Instance[], apiKey: string): Promise<FlowResult> {
  const at = (k: number) => instances[(((i + k) % instances.length) + instances.length) % instances.length]!.url;
  return connectFlow({ apiKey, endUserId: `bench-${i}`, createOn: at(0), watchOn: at(1), submitOn: at(2) });
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
            totals.push(r.totalMs);
            toConnected.push(r.sendToEventMs);
            roundTrips.push(r.sendToEventMs - r.answerToEventMs);
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
