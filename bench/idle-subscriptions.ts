// Many popups open at once, each with its SDK subscription and nothing happening: what they cost
// the server. Sessions are written straight into the database (known tokens, stored as SHA-256
// hex as server/sessions/tokens.ts does); each subscription is a raw `ws` socket speaking
// graphql-transport-ws (lighter than a graphql-ws client object each), authenticated with its
// session token in connection_init and running the SDK's own watchSession operation. Measured on
// a server of its own that served nothing before (so its memory is not last scenario's garbage):
// the resident memory per subscription (from its /metrics; the V8 heap in use beside it), its CPU
// while nothing happens, and a catalog query's latency meanwhile against the same before.
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import WebSocket from "ws";
import { WatchSessionDocument } from "../popup/generated/operations.js";
import { wsUrl } from "../test/support/flows.js";
import { sequentialLatency, type HttpRequest, type SequentialLatency } from "./http-load.js";
import { ms, num, ratio, times, type Row } from "./report.js";
import { processFigures, type ServerUnderTest } from "./servers-under-test.js";

export type IdlePlan = { count: number; openSeconds: number; inFlight: number; catalog: { minSeconds: number; minRequests: number; maxSeconds: number }; cpuSeconds: number };

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** `count` PENDING sessions for the database's one organization; returns their tokens. */
async function insertSessions(databaseUrl: string, count: number): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => `ort_sess_${randomBytes(32).toString("base64url")}`);
  const hashes = tokens.map((t) => createHash("sha256").update(t).digest("hex"));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ organizationId: string }>(`SELECT "organizationId" FROM "ApiKey" LIMIT 1`);
    await client.query(
      `INSERT INTO "HostedConnectionSession" (id, "organizationId", "integrationSlug", "tokenHash", "endUserId", "expiresAt", "updatedAt")
       SELECT gen_random_uuid(), $1, 'openai', h, 'bench-idle-' || n, now() + interval '1 hour', now() FROM unnest($2::text[]) WITH ORDINALITY AS t(h, n)`,
      [rows[0]!.organizationId, hashes],
    );
  } finally {
    await client.end();
  }
  return tokens;
}

type Opened = {
  held: number;
  /** Refused or closed by the server before their first event: failures. */
  refused: number;
  /** Still waiting for their first event when the time was up, or never tried: slowness, not failure. */
  late: number;
  firstRefusal: string | undefined;
  seconds: number;
  /** Held subscriptions the server ended or dropped since. */
  dropped(): number;
  closeAll(): void;
};

/** Opens one subscription per token, `inFlight` at a time, until all are held or the time is up. */
async function openSubscriptions(url: string, tokens: string[], plan: IdlePlan): Promise<Opened> {
  const sockets: WebSocket[] = [];
  let held = 0;
  let refused = 0;
  let late = 0;
  let dropped = 0;
  let closing = false;
  let firstRefusal: string | undefined;
  const deadline = performance.now() + plan.openSeconds * 1000;
  const started = performance.now();
  const subscribe = { id: "1", type: "subscribe", payload: { query: WatchSessionDocument } };
  const openOne = (token: string) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
      sockets.push(ws);
      let established = false;
      let settled = false;
      const settle = (outcome: "held" | "refused" | "late", why?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome === "held") {
          established = true;
          held++;
        } else {
          if (outcome === "refused") {
            refused++;
            firstRefusal ??= why;
          } else late++;
          ws.terminate();
        }
        resolve();
      };
      const refuse = (why: string) => settle("refused", why);
      const timer = setTimeout(() => settle("late"), Math.max(0, deadline - performance.now()) + 5_000);
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
      ws.on("message", (data) => {
        const msg = JSON.parse(data.toString()) as { type: string; payload?: unknown };
        if (msg.type === "connection_ack") ws.send(JSON.stringify(subscribe));
        else if (msg.type === "next" && !established) {
          const status = (msg.payload as { data?: { hostedConnectionSession?: { status?: string } } }).data?.hostedConnectionSession?.status;
          if (status !== "PENDING") return refuse(`first event: ${JSON.stringify(msg.payload).slice(0, 200)}`);
          settle("held");
        } else if (msg.type === "error" || msg.type === "complete") {
          if (established) dropped++;
          else refuse(`${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 200)}`);
        }
      });
      ws.on("error", (e) => refuse(`socket error: ${e.message}`));
      ws.on("close", (code) => {
        if (established && !closing) dropped++;
        else refuse(`closed with ${code}`);
      });
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: plan.inFlight }, async () => {
      while (next < tokens.length && performance.now() < deadline) await openOne(tokens[next++]!);
    }),
  );
  late += tokens.length - next; // never tried: the time was up
  return {
    held,
    refused,
    late,
    firstRefusal,
    seconds: (performance.now() - started) / 1000,
    dropped: () => dropped,
    closeAll() {
      closing = true;
      for (const ws of sockets) ws.terminate();
    },
  };
}

export async function measureIdleSubscriptions(server: ServerUnderTest, catalog: { request: HttpRequest; expectBody: string }, plan: IdlePlan): Promise<Row[]> {
  const label = `${plan.count.toLocaleString("en-US")} idle popup subscriptions, one instance, PostgreSQL`;
  const catalogLatency = () => sequentialLatency(server.url, catalog.request, { ...plan.catalog, expectBody: catalog.expectBody });
  const cpuShare = async () => {
    const a = await processFigures(server);
    const t0 = performance.now();
    await sleep(plan.cpuSeconds * 1000);
    const b = await processFigures(server);
    return (b.cpuSeconds - a.cpuSeconds) / ((performance.now() - t0) / 1000);
  };

  const tokens = await insertSessions(server.databaseUrl!, plan.count);
  await sequentialLatency(server.url, catalog.request, { minSeconds: 0, minRequests: 20, maxSeconds: 60, expectBody: catalog.expectBody });
  const before: SequentialLatency = await catalogLatency();
  const cpuBefore = await cpuShare();
  const memoryBefore = await processFigures(server);

  const opened = await openSubscriptions(wsUrl(server.url), tokens, plan);
  let during: SequentialLatency;
  let cpuDuring: number;
  let memoryDuring: Awaited<ReturnType<typeof processFigures>>;
  let dropped: number;
  try {
    await sleep(1_000);
    memoryDuring = await processFigures(server);
    cpuDuring = await cpuShare();
    during = await catalogLatency();
    dropped = opened.dropped();
  } finally {
    opened.closeAll();
  }
  const perSubscriptionKb = opened.held ? (memoryDuring.rssBytes - memoryBefore.rssBytes) / opened.held / 1024 : NaN;
  const heapPerSubscriptionKb = opened.held ? (memoryDuring.heapUsedBytes - memoryBefore.heapUsedBytes) / opened.held / 1024 : NaN;
  const failures = opened.refused + dropped;
  const heldText =
    `${opened.held.toLocaleString("en-US")} of ${plan.count.toLocaleString("en-US")} held (${num(opened.seconds)} s to open), ` +
    `${opened.late} not open in ${plan.openSeconds} s, ${opened.refused} refused, ${dropped} dropped`;
  const mb = (b: number) => `${num(b / 2 ** 20)} MB`;
  return [
    {
      id: "idle-subscriptions-memory",
      what: `${label}: server memory`,
      figure: `${num(perSubscriptionKb)} KB per subscription (RSS ${mb(memoryBefore.rssBytes)} → ${mb(memoryDuring.rssBytes)}; V8 heap in use ${num(heapPerSubscriptionKb)} KB each); ${heldText}${opened.firstRefusal ? `; first refusal: ${opened.firstRefusal}` : ""}`,
      goal: "≤ 20 KB each",
      met: opened.held === plan.count && perSubscriptionKb <= 20,
      failures,
      values: {
        subscriptions: plan.count,
        held: opened.held,
        refused: opened.refused,
        late: opened.late,
        dropped,
        openSeconds: opened.seconds,
        rssBeforeBytes: memoryBefore.rssBytes,
        rssDuringBytes: memoryDuring.rssBytes,
        perSubscriptionKb,
        heapUsedBeforeBytes: memoryBefore.heapUsedBytes,
        heapUsedDuringBytes: memoryDuring.heapUsedBytes,
        heapPerSubscriptionKb,
        figuresFrom: memoryDuring.source,
        firstRefusal: opened.firstRefusal ?? null,
      },
    },
    {
      id: "idle-subscriptions-catalog-latency",
      what: `${label}: a catalog search meanwhile, one at a time`,
      figure: during.requests
        ? `p50 ${ms(during.p50Ms)}, p99 ${ms(during.p99Ms)}, max ${ms(during.maxMs)} (${during.requests} requests in ${num(during.seconds)} s); ${during.failures} failed`
        : `no answer in ${num(during.seconds)} s; ${during.failures} failed`,
      ceiling: `before the subscriptions: p50 ${ms(before.p50Ms)}, p99 ${ms(before.p99Ms)}`,
      ratio: `${times(ratio(during.p99Ms, before.p99Ms))} before (p99)`,
      goal: "answered in ≤ 10 ms (p99)",
      met: during.requests > 0 && during.p99Ms <= 10 && during.failures === 0 && opened.held === plan.count,
      failures: during.failures + before.failures,
      values: { p50Ms: during.p50Ms, p99Ms: during.p99Ms, maxMs: during.maxMs, requests: during.requests, seconds: during.seconds, failed: during.failures, beforeP50Ms: before.p50Ms, beforeP99Ms: before.p99Ms },
    },
    {
      id: "idle-subscriptions-cpu",
      what: `${label}: server CPU with nothing happening`,
      figure: `${num(cpuDuring * 100)}% of one core over ${plan.cpuSeconds} s`,
      ceiling: `before the subscriptions: ${num(cpuBefore * 100)}%`,
      failures: 0,
      values: { cpuShare: cpuDuring, cpuShareBefore: cpuBefore, seconds: plan.cpuSeconds },
    },
  ];
}
