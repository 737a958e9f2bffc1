// Benchmark: N hosted connection flows spread over several One Runtime processes sharing one
// PostgreSQL database and Redis. Each flow (test/support/flows.ts): create a session (instance i),
// subscribe to it as the SDK does (instance i+1), the popup reads and submits (instance i+2), wait
// for CONNECTED. Prints flows/s and latency percentiles; it asserts nothing. `npm run bench` runs
// the same flows on one instance of each store and across two instances, in its table.
//   npm run bench:flows -- [flows=500] [concurrency=50] [instances=3]
// Needs PostgreSQL (ONE_RUNTIME_TEST_PG_URL or 127.0.0.1:5432) and Redis (ONE_RUNTIME_TEST_REDIS_URL or 127.0.0.1:6379).
import type { FlowOptions } from "../test/support/flows.js";
import { summarize } from "./report.js";
import { startPostgresServers } from "./servers-under-test.js";
import { runFlows } from "./subscriptions.js";

const [flows = 500, concurrency = 50, instanceCount = 3] = process.argv.slice(2).map(Number);

async function main() {
  const bootStarted = Date.now();
  const { servers, stop } = await startPostgresServers("bench", instanceCount, { redis: true });
  try {
    console.log(`${instanceCount} instances up in ${Date.now() - bootStarted} ms (concurrent start on a fresh database)`);
    const at = (i: number, k: number) => servers[(((i + k) % servers.length) + servers.length) % servers.length]!.url;
    const flow = (offset: number) => (i: number): FlowOptions => ({
      apiKey: servers[0]!.apiKey,
      endUserId: `bench-${offset + i}`,
      createOn: at(offset + i, 0),
      watchOn: at(offset + i, 1),
      submitOn: at(offset + i, 2),
    });
    // Warm-up: first-use costs (connection pools, JIT, the API key's lastUsedAt stamp) out of the figures.
    await runFlows(Math.min(concurrency, 20), concurrency, flow(-1000));
    const run = await runFlows(flows, concurrency, flow(0));
    for (const e of run.errors) console.error(`a flow failed: ${e}`);
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    const toConnected = summarize(run.results.map((r) => r.sendToEventMs));
    const answered = summarize(run.results.map((r) => r.answerToEventMs));
    const totals = summarize(run.results.map((r) => r.totalMs));
    console.log(`flows: ${flows} over ${instanceCount} instances, ${concurrency} at a time`);
    console.log(`completed: ${run.results.length}, failed: ${run.failed}, in ${run.seconds.toFixed(2)} s = ${(run.results.length / run.seconds).toFixed(1)} flows/s`);
    console.log(`submission sent → CONNECTED at the subscriber (another instance): p50 ${ms(toConnected.p50)}, p99 ${ms(toConnected.p99)}, max ${ms(toConnected.max)}`);
    console.log(`submission answered → CONNECTED at the subscriber: p50 ${ms(answered.p50)}, p99 ${ms(answered.p99)}, max ${ms(answered.max)}`);
    console.log(`whole flow (create, read, subscribe, submit, CONNECTED): p50 ${ms(totals.p50)}, p99 ${ms(totals.p99)}, max ${ms(totals.max)}`);
    if (run.failed) process.exitCode = 1;
  } finally {
    await stop();
  }
}

await main();
