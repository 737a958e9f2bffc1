// Webhook delivery: events made by real flows (an API-key session completed through the public
// API), delivered to a receiver on 127.0.0.1 that answers 204 at once, on one PostgreSQL instance
// and on two sharing the database (both make events, both deliver).
//
// Latency runs from the state change (the event's own timestamp, written in the transaction that
// makes the change, on this machine's clock) to the receiver having the whole request. Rate is a
// backlog drained: every event of the run replayed at once (`replayWebhookEvents`), from that call
// to the last delivery in, so the rate at which flows can be made does not cap it.
import { createSession, gql } from "../test/support/instances.js";
import { startWebhookReceiver, type WebhookReceiver } from "../test/support/webhook-receiver.js";
import { ms, num, summarize, type Row } from "./report.js";
import type { ServerUnderTest } from "./servers-under-test.js";

export type WebhookPlan = { events: number; concurrency: number; deadlineMs: number };

/** The servers under test must allow loopback destinations: the receiver is on this machine. */
export const WEBHOOK_BENCH_ENV = { ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true" };

const COMPLETE = `mutation { completeHostedConnectionSession(input: {}) { status } }`;

async function makeEvents(servers: ServerUnderTest[], plan: WebhookPlan, tag: string): Promise<{ made: number; errors: string[] }> {
  let next = 0;
  let made = 0;
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: Math.min(plan.concurrency, plan.events) }, async () => {
      while (next < plan.events) {
        const i = next++;
        const via = servers[i % servers.length]!;
        try {
          const { sessionToken } = await createSession(via.url, via.apiKey, { integrationSlug: "hacker-news", endUserId: `bench-${tag}-${i}` });
          const r = await gql(via.url, COMPLETE, {}, sessionToken);
          if (r.errors) throw new Error(JSON.stringify(r.errors).slice(0, 200));
          made++;
        } catch (e) {
          if (errors.length < 3) errors.push((e as Error).message);
        }
      }
    }),
  );
  return { made, errors };
}

async function waitForDeliveries(receiver: WebhookReceiver, ids: () => Set<string>, count: number, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (ids().size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

export async function measureWebhookDelivery(servers: ServerUnderTest[], plan: WebhookPlan): Promise<Row[]> {
  const label = servers.length === 1 ? "one PostgreSQL instance" : `${servers.length} PostgreSQL instances, one database`;
  const receiver = await startWebhookReceiver();
  try {
    const first = servers[0]!;
    const created = await gql(first.url, `mutation($url: String!) { createWebhookEndpoint(url: $url) { endpoint { id } } }`, { url: receiver.url }, first.apiKey);
    if (created.errors) throw new Error(`createWebhookEndpoint: ${JSON.stringify(created.errors)}`);
    const tag = `${servers.length}-${Date.now()}`;

    // Live: each event as flows make it.
    const liveStart = receiver.received.length;
    const from = new Date(Date.now() - 1_000);
    const { made, errors } = await makeEvents(servers, plan, tag);
    const liveIds = () => new Set(receiver.received.slice(liveStart).map((h) => String(h.headers["webhook-id"])));
    await waitForDeliveries(receiver, liveIds, made, plan.deadlineMs);
    const live = receiver.received.slice(liveStart);
    const latencies = live.map((h) => h.at - Date.parse(JSON.parse(h.body).timestamp));
    const lat = summarize(latencies);
    const liveDuplicates = live.length - liveIds().size;
    const liveMissing = made - liveIds().size;

    // Backlog: every event of the run queued again at once, drained by the instances together.
    const backlogStart = receiver.received.length;
    const started = Date.now();
    const replay = await gql(first.url, `mutation($from: DateTime!, $to: DateTime!) { replayWebhookEvents(from: $from, to: $to) { queued } }`, { from: from.toISOString(), to: new Date(Date.now() + 1_000).toISOString() }, first.apiKey);
    if (replay.errors) throw new Error(`replayWebhookEvents: ${JSON.stringify(replay.errors)}`);
    const queued = replay.data.replayWebhookEvents.queued as number;
    const backlogIds = () => new Set(receiver.received.slice(backlogStart).map((h) => String(h.headers["webhook-id"])));
    await waitForDeliveries(receiver, backlogIds, queued, plan.deadlineMs);
    const backlog = receiver.received.slice(backlogStart);
    const drainedSeconds = ((backlog.at(-1)?.at ?? Date.now()) - started) / 1000;
    const rate = backlogIds().size / drainedSeconds;
    const backlogMissing = queued - backlogIds().size;

    const id = `webhooks-${servers.length}`;
    return [
      {
        id: `${id}-latency`,
        what: `Webhook latency, state change → receiver, ${label}`,
        figure: `p50 ${ms(lat.p50)}, p99 ${ms(lat.p99)}, max ${ms(lat.max)}; ${live.length} deliveries of ${made} events, ${liveDuplicates} repeated, ${liveMissing} missing`,
        failures: liveMissing + (plan.events - made),
        values: { events: made, deliveries: live.length, duplicates: liveDuplicates, missing: liveMissing, p50Ms: lat.p50, p99Ms: lat.p99, maxMs: lat.max, firstError: errors[0] ?? null },
      },
      {
        id: `${id}-rate`,
        what: `Webhooks delivered per second (a backlog drained), ${label}`,
        figure: `${num(rate)}/s: ${backlogIds().size} of ${queued} in ${num(drainedSeconds)} s`,
        failures: backlogMissing,
        values: { queued, delivered: backlogIds().size, seconds: drainedSeconds, perSecond: rate, missing: backlogMissing },
      },
    ];
  } finally {
    await receiver.close();
  }
}
