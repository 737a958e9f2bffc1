// `npm run bench`: every benchmark, one table. Builds what production runs (`npm run build`),
// starts the servers under test as child processes (embedded PGlite, PostgreSQL, two PostgreSQL
// instances sharing events through Redis) and the two ceilings, measures, and prints the table
// (Markdown, as the README carries it); writes the same as JSON to bench/results/.
//   npm run bench              the full run (about three minutes on two idle cores)
//   npm run bench -- --quick   seconds per scenario, for CI: exits non-zero on any error or failed
//                              request, never on speed
//   npm run bench -- --only=hot,flows   only the scenarios whose key is listed (hot, proxy,
//                              growth, flows, redis, idle, webhooks, round-trips, catalog-growth, sdk), for a quick
//                              before/after while working on one path
//   npm run bench -- --cpu-prof   each server under test writes a V8 CPU profile into
//                              bench/results/profiles/ when it stops (open it in Chrome's DevTools
//                              or speedscope for the flame graph)
// Needs PostgreSQL and Redis as the tests do (ONE_RUNTIME_TEST_PG_URL, ONE_RUNTIME_TEST_REDIS_URL).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureServerBuild } from "../test/support/server-build.js";
import { measureCatalogGrowth } from "./catalog-growth.js";
import { measureCredentialsGrowth } from "./credentials-growth.js";
import { apiKeyConnection, CATALOG_SEARCH, CREDENTIALS, measureHotPaths, type HotPathTimes } from "./hot-paths.js";
import { graphqlRequest, sendOnce, type LoadLength } from "./http-load.js";
import { measureIdleSubscriptions, type IdlePlan } from "./idle-subscriptions.js";
import { measureProxyOverhead } from "./proxy-overhead.js";
import { describeMachine, renderReport, wasShared, writeReport, type Report, type Row } from "./report.js";
import { measureRoundTrips } from "./round-trips.js";
import { measureSdkSize } from "./sdk-size.js";
import { startPgliteServer, startPostgresServers, type ServerUnderTest } from "./servers-under-test.js";
import { measureDeliveryAcrossInstances, measureDeliveryOnOneInstance, type FlowPlan } from "./subscriptions.js";
import { measureWebhookDelivery, WEBHOOK_BENCH_ENV, type WebhookPlan } from "./webhook-delivery.js";

type Plan = {
  hot: HotPathTimes;
  flows: FlowPlan;
  idle: IdlePlan;
  credentialsGrowth: { sizes: number[]; length: LoadLength };
  catalogGrowth: number[];
  webhooks: WebhookPlan;
};

const PLANS: Record<Report["mode"], Plan> = {
  full: {
    hot: { throughput: { seconds: 2.5 }, latency: { seconds: 1.5 }, warmupSeconds: 0.5 },
    flows: { sequential: 30, concurrent: 200, concurrency: 20, acrossSequential: 30, acrossConcurrent: 100 },
    idle: { count: 10_000, openSeconds: 30, inFlight: 200, catalog: { minSeconds: 2, minRequests: 50, maxSeconds: 15 }, cpuSeconds: 2 },
    credentialsGrowth: { sizes: [10, 1_000, 100_000], length: { seconds: 2 } },
    catalogGrowth: [91, 1_000, 10_000],
    webhooks: { events: 500, concurrency: 10, deadlineMs: 120_000 },
  },
  quick: {
    // A number of requests, not a time: every path exercised however busy the machine is.
    hot: { throughput: { requests: 100 }, latency: { requests: 30 }, warmupSeconds: 0 },
    flows: { sequential: 5, concurrent: 20, concurrency: 5, acrossSequential: 5, acrossConcurrent: 10 },
    idle: { count: 200, openSeconds: 60, inFlight: 50, catalog: { minSeconds: 0, minRequests: 20, maxSeconds: 60 }, cpuSeconds: 1 },
    credentialsGrowth: { sizes: [10, 100, 1_000], length: { requests: 30 } },
    catalogGrowth: [91, 300, 1_000],
    webhooks: { events: 20, concurrency: 5, deadlineMs: 60_000 },
  },
};

const NOTES = [
  "Ratios: the figure divided by the ceiling measured in this run for the same request and the same answer bytes — node:http: a bare server writing the stored bytes; yoga: bare graphql-yoga on schema.graphql, no plugins, resolvers answering from memory. Load: autocannon, keep-alive, every answer checked byte for byte.",
  "Event delivery: answered → event is when the SDK's subscriber got CONNECTED minus when the popup's submission was answered (negative: the event came first); send → event counts from the submission's sending. On one instance a watcher has no timer, so every sample is the broadcast; through Redis a watcher's one look ~1 s after it subscribes could only explain samples at ≥ 0.8 s.",
  "Idle subscriptions on PostgreSQL (one instance, no Redis): an idle watcher has no timer and reads nothing, on either store; the embedded store would show the same, and the run stays short.",
];

/** The table's order: the rows first, then flows, resources, growth. */
const ROW_ORDER = [
  "typename-anonymous",
  "typename-key-",
  "catalog-pglite",
  "catalog-postgres",
  "catalog-p99-",
  "credentials-pglite",
  "credentials-postgres",
  "credentials-p99-",
  "healthz",
  "proxy-",
  "delivery-sequential-",
  "delivery-concurrent-",
  "delivery-redis-",
  "flows-per-second-",
  "round-trips-",
  "idle-subscriptions-",
  "webhooks-",
  "sdk-size",
  "catalog-growth",
  "credentials-growth",
];
const rank = (r: Row) => {
  const i = ROW_ORDER.findIndex((prefix) => r.id.startsWith(prefix));
  return i < 0 ? ROW_ORDER.length : i;
};

const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
const say = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
  const mode: Report["mode"] = process.argv.includes("--quick") ? "quick" : "full";
  // Read by the spawning helper (test/support/server-build.ts nodeArgs) for every server started.
  if (process.argv.includes("--cpu-prof")) process.env.CPU_PROFILE_DIR = join(resultsDir, "profiles");
  const plan = PLANS[mode];
  const machine = describeMachine();
  const started = performance.now();
  const rows: Row[] = [];
  const errors: Report["errors"] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((e) => say(`cleanup failed: ${(e as Error).message}`));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the servers`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
  const scenario = async (key: string, name: string, fn: () => Promise<Row | Row[]>) => {
    if (only && !only.includes(key)) return;
    const t = performance.now();
    say(`${name}…`);
    try {
      rows.push(...[await fn()].flat());
      say(`${name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    } catch (e) {
      errors.push({ scenario: name, message: (e as Error).message.split("\n").slice(0, 6).join(" ") });
      say(`${name} FAILED: ${(e as Error).stack ?? e}`);
    }
  };
  const need = <T>(what: string, v: T | undefined): T => {
    if (v === undefined) throw new Error(`${what} did not start`);
    return v;
  };

  const tmp = await mkdtemp(join(tmpdir(), "one-runtime-bench-"));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  try {
    await scenario("sdk", "connect.js size (npm run build:popup)", measureSdkSize);
    say("building dist/ if stale (npm run build)…");
    await ensureServerBuild();

    say("starting the servers under test…");
    // All at once: a start is mostly waiting (migrations on a fresh store), and an idle server costs nothing.
    const [pgliteStart, postgresStart, redisStart, idleStart] = await Promise.allSettled([
      startPgliteServer(),
      startPostgresServers("postgres", 1),
      startPostgresServers("redis", 2, { redis: true }),
      startPostgresServers("idle", 1),
    ]);
    const pglite = pgliteStart.status === "fulfilled" ? pgliteStart.value : undefined;
    const postgres = postgresStart.status === "fulfilled" ? postgresStart.value : undefined;
    const redis = redisStart.status === "fulfilled" ? redisStart.value : undefined;
    const idle = idleStart.status === "fulfilled" ? idleStart.value : undefined;
    for (const s of [pglite, postgres, redis, idle]) if (s) cleanups.push(() => s.stop());
    const starts = [["PGlite server", pgliteStart], ["PostgreSQL server", postgresStart], ["two instances through Redis", redisStart], ["idle-subscriptions server", idleStart]] as const;
    for (const [name, s] of starts) {
      if (s.status === "rejected") errors.push({ scenario: `starting the ${name}`, message: String((s.reason as Error).message).split("\n").slice(0, 6).join(" ") });
    }
    say("servers up");
    const pg: ServerUnderTest | undefined = postgres?.servers[0];

    let pgliteConnection: string | undefined;
    let postgresConnection: string | undefined;
    await scenario("hot", "hot paths over HTTP, with the ceilings", async () => {
      pgliteConnection = await apiKeyConnection(need("the PGlite server", pglite));
      postgresConnection = await apiKeyConnection(need("the PostgreSQL server", pg));
      return measureHotPaths({ server: pglite!, connectionId: pgliteConnection }, { server: pg!, connectionId: postgresConnection }, plan.hot, tmp);
    });
    await scenario("proxy", "proxy overhead against the stand-in API called directly", () => measureProxyOverhead(plan.hot, tmp));
    await scenario("growth", "credentials reads as connections grow", async () => {
      const server = need("the PostgreSQL server", pg);
      const request = graphqlRequest(CREDENTIALS, server.apiKey, { id: need("the PostgreSQL connection", postgresConnection) });
      const expectBody = (await sendOnce(server.url, request)).body;
      return measureCredentialsGrowth(server, { connectionId: postgresConnection!, request, expectBody }, plan.credentialsGrowth);
    });
    await scenario("flows", "event delivery and flows/s, PGlite", () => measureDeliveryOnOneInstance(need("the PGlite server", pglite), plan.flows));
    await scenario("flows", "event delivery and flows/s, PostgreSQL", () => measureDeliveryOnOneInstance(need("the PostgreSQL server", pg), plan.flows));
    await scenario("redis", "event delivery across two instances through Redis", () => {
      const [a, b] = need("the instances sharing Redis", redis).servers;
      return measureDeliveryAcrossInstances(a!, b!, plan.flows);
    });
    await redis?.stop();
    await pglite?.stop();
    await postgres?.stop();
    await scenario("idle", `${plan.idle.count.toLocaleString("en-US")} idle subscriptions, PostgreSQL`, async () => {
      const server = need("the idle-subscriptions server", idle?.servers[0]);
      const request = graphqlRequest(CATALOG_SEARCH, server.apiKey);
      return measureIdleSubscriptions(server, { request, expectBody: (await sendOnce(server.url, request)).body }, plan.idle);
    });
    for (const count of [1, 2]) {
      await scenario("webhooks", `webhook delivery, ${count} PostgreSQL instance${count > 1 ? "s" : ""}`, async () => {
        const started = await startPostgresServers(`webhooks-${count}`, count, { env: WEBHOOK_BENCH_ENV });
        try {
          return await measureWebhookDelivery(started.servers, plan.webhooks);
        } finally {
          await started.stop();
        }
      });
    }
    await cleanup(); // the child servers: what follows runs in this process
    await scenario("round-trips", "database round trips per flow, PGlite", () => measureRoundTrips("pglite"));
    await scenario("round-trips", "database round trips per flow, PostgreSQL", () => measureRoundTrips("postgres"));
    await scenario("catalog-growth", "catalog search as the catalog grows", () => measureCatalogGrowth(plan.catalogGrowth));
  } finally {
    await cleanup();
  }

  // --quick counts requests instead of timing them: its rates and ratios mean nothing, and it judges no goal.
  const judged = mode === "full" ? rows : rows.map((r) => ({ ...r, ratio: undefined, met: undefined }));
  const report: Report = {
    date: new Date().toISOString(),
    mode,
    wallSeconds: (performance.now() - started) / 1000,
    machine,
    shared: wasShared(machine),
    rows: judged.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map(({ r }) => r),
    errors,
    notes: mode === "full" ? NOTES : ["--quick: a fixed number of requests and flows per scenario, to find errors and failed requests; no speed is judged.", ...NOTES],
  };
  const file = join(resultsDir, mode === "full" ? "latest.json" : "latest-quick.json");
  await writeReport(file, report);
  process.stdout.write(`\n${renderReport(report)}\n\n(JSON: ${file})\n`);
  const failures = rows.reduce((n, r) => n + r.failures, 0);
  if (failures || errors.length) {
    say(`${failures} failed requests, flows or subscriptions; ${errors.length} scenarios failed`);
    return 1;
  }
  return 0;
}

process.exit(await main());
