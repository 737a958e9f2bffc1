// Subscription event delivery and flow throughput: whole hosted connection flows as a customer's
// page runs them (test/support/flows.ts: create → popup reads → SDK subscribes → popup submits →
// SDK gets CONNECTED), on one instance of each store (one after another, then 20 at a time:
// flows/s), and across two PostgreSQL instances sharing events through Redis (watched on one,
// submitted on the other).
//
// Delivery is timed from the popup's submission being answered to the SDK's subscriber getting
// CONNECTED (negative when the event came first), with send → event beside it. On one instance a
// watcher has no timer at all (server/pubsub.ts): every sample is the broadcast. Through Redis a
// watcher looks once ~1 s after it starts listening, and the submission goes right after its
// first event: an event that look delivered instead of the broadcast arrives ≥ ~0.8 s after the
// submission, so samples at ≥ 0.8 s are the only ones it could explain, and are counted.
import { connectFlow, type FlowOptions, type FlowResult } from "../test/support/flows.js";
import { ms, num, summarize, type Row } from "./report.js";
import type { ServerUnderTest } from "./servers-under-test.js";

/** bench:flows in the "today": 52.8 flows/s. The goal is at least three times that. */
export const FLOWS_PER_SECOND_TODAY = 52.8;
const RESYNC_SUSPECT_MS = 800;

export type FlowPlan = { sequential: number; concurrent: number; concurrency: number; acrossSequential: number; acrossConcurrent: number };

type FlowRun = { results: FlowResult[]; failed: number; errors: string[]; seconds: number };

export async function runFlows(count: number, concurrency: number, flow: (i: number) => FlowOptions): Promise<FlowRun> {
  const results: FlowResult[] = [];
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        try {
          results.push(await connectFlow(flow(i)));
        } catch (e) {
          failed++;
          if (errors.length < 3) errors.push((e as Error).message);
        }
      }
    }),
  );
  return { results, failed, errors, seconds: (performance.now() - started) / 1000 };
}

function deliveryRow(id: string, what: string, run: FlowRun, goal: { text: string; p50?: number; p99: number }): Row {
  const answered = summarize(run.results.map((r) => r.answerToEventMs));
  const sent = summarize(run.results.map((r) => r.sendToEventMs));
  const suspects = run.results.filter((r) => r.sendToEventMs >= RESYNC_SUSPECT_MS).length;
  return {
    id,
    what,
    figure:
      `answered → event p50 ${ms(answered.p50)}, p99 ${ms(answered.p99)}; send → event p50 ${ms(sent.p50)}, p99 ${ms(sent.p99)}; ` +
      `${run.results.length} flows, ${run.failed} failed; ${suspects} at ≥ ${RESYNC_SUSPECT_MS / 1000} s (what a watcher's own look could explain)`,
    goal: goal.text,
    met: run.failed === 0 && run.results.length > 0 && (goal.p50 === undefined || answered.p50 <= goal.p50) && answered.p99 <= goal.p99,
    failures: run.failed,
    values: {
      flows: run.results.length,
      failed: run.failed,
      answeredToEventP50Ms: answered.p50,
      answeredToEventP99Ms: answered.p99,
      answeredToEventMaxMs: answered.max,
      sendToEventP50Ms: sent.p50,
      sendToEventP99Ms: sent.p99,
      sendToEventMaxMs: sent.max,
      resyncSuspects: suspects,
      firstError: run.errors[0] ?? null,
    },
  };
}

const storeName = (s: ServerUnderTest) => (s.store === "pglite" ? "PGlite" : "PostgreSQL");

export async function measureDeliveryOnOneInstance(server: ServerUnderTest, plan: FlowPlan): Promise<Row[]> {
  const store = storeName(server);
  const flow = (tag: string) => (i: number): FlowOptions => ({ apiKey: server.apiKey, endUserId: `bench-${tag}-${i}`, createOn: server.url });
  // Warm-up: first-use costs (pools, JIT, the key's lastUsedAt stamp) out of the figures.
  await runFlows(Math.min(plan.concurrency, 10), plan.concurrency, flow("warm"));
  const sequential = await runFlows(plan.sequential, 1, flow("seq"));
  const concurrent = await runFlows(plan.concurrent, plan.concurrency, flow("conc"));
  const rate = concurrent.results.length / concurrent.seconds;
  const totals = summarize(concurrent.results.map((r) => r.totalMs));
  const needed = 3 * FLOWS_PER_SECOND_TODAY;
  return [
    deliveryRow(`delivery-sequential-${server.store}`, `event delivery, one instance, one flow at a time, ${store}`, sequential, { text: "p50 ≤ 2 ms, p99 ≤ 5 ms", p50: 2, p99: 5 }),
    deliveryRow(`delivery-concurrent-${server.store}`, `event delivery, one instance, ${plan.concurrency} flows at a time, ${store}`, concurrent, { text: "p50 ≤ 2 ms, p99 ≤ 5 ms", p50: 2, p99: 5 }),
    {
      id: `flows-per-second-${server.store}`,
      what: `flows/s (create → popup reads → subscribe → submit → CONNECTED), ${plan.concurrent} flows, ${plan.concurrency} at a time, ${store}`,
      figure: `${num(rate)} flows/s; whole flow p50 ${ms(totals.p50)}, p99 ${ms(totals.p99)}; ${concurrent.failed} failed`,
      ceiling: `today (issue): ${FLOWS_PER_SECOND_TODAY} flows/s`,
      ratio: `${(rate / FLOWS_PER_SECOND_TODAY).toFixed(2)}× today`,
      goal: `≥ 3× today (${num(needed)} flows/s)`,
      met: rate >= needed && concurrent.failed === 0,
      failures: concurrent.failed,
      values: { flowsPerSecond: rate, flows: concurrent.results.length, failed: concurrent.failed, seconds: concurrent.seconds, totalP50Ms: totals.p50, totalP99Ms: totals.p99, firstError: concurrent.errors[0] ?? null },
    },
  ];
}

/** Watched on the first instance, created and submitted on the second: the event must cross through Redis. */
export async function measureDeliveryAcrossInstances(watching: ServerUnderTest, submitting: ServerUnderTest, plan: FlowPlan): Promise<Row[]> {
  const flow = (tag: string) => (i: number): FlowOptions => ({
    apiKey: submitting.apiKey,
    endUserId: `bench-${tag}-${i}`,
    createOn: submitting.url,
    submitOn: submitting.url,
    watchOn: watching.url,
  });
  await runFlows(Math.min(plan.concurrency, 10), plan.concurrency, flow("across-warm"));
  const sequential = await runFlows(plan.acrossSequential, 1, flow("across-seq"));
  const concurrent = await runFlows(plan.acrossConcurrent, plan.concurrency, flow("across-conc"));
  return [
    deliveryRow("delivery-redis-sequential", "event delivery across two instances through Redis, one flow at a time, PostgreSQL", sequential, { text: "p99 ≤ 15 ms", p99: 15 }),
    deliveryRow("delivery-redis-concurrent", `event delivery across two instances through Redis, ${plan.concurrency} flows at a time, PostgreSQL`, concurrent, { text: "p99 ≤ 15 ms", p99: 15 }),
  ];
}
