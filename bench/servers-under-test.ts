// The servers under test: the production build (`node dist/server/main.js`, as `npm run
// start:prod` runs it) as child processes on port 0 — on the embedded PGlite store (a fresh data
// folder; the development organization's API key comes from its banner) and on PostgreSQL (a fresh
// database per run, dropped afterwards; an organization made with the admin commands). Also how to
// read a server's memory and CPU while it runs.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOrganizationIn, newEncryptionKey, REDIS_URL, spawnInstance, type Instance } from "../test/support/instances.js";
import { createTestDatabase } from "../test/support/postgres.js";

/**
 * Configuration that keeps the servers' own protections from deciding the figures: the bench
 * sends thousands of requests a second on one key (and from one address), and every refused
 * request fails `--quick`. The budgets are raised, not switched off, so their cost is measured.
 */
const UNREACHABLE_BUDGET = "9999999/1s";
export const RATE_LIMIT_OVERRIDES: Record<string, string> = {
  ONE_RUNTIME_RATE_LIMIT_API_KEY: UNREACHABLE_BUDGET,
  ONE_RUNTIME_RATE_LIMIT_SESSION: UNREACHABLE_BUDGET,
  ONE_RUNTIME_RATE_LIMIT_ANONYMOUS: UNREACHABLE_BUDGET,
};

/** What every server under test runs with: production defaults (info logs included) otherwise. */
const BENCH_ENV = { ONE_RUNTIME_LOG_LEVEL: "info", ...RATE_LIMIT_OVERRIDES };

export type ServerUnderTest = {
  store: "pglite" | "postgres";
  name: string;
  url: string;
  apiKey: string;
  instance: Instance;
  /** PostgreSQL only: the database the server uses (the bench writes filler rows there). */
  databaseUrl: string | undefined;
  stop(): Promise<void>;
};

/** `env` adds to the bench's (the proxy benchmark's catalog folder, ...). */
export async function startPgliteServer(name = "pglite", env: Record<string, string> = {}): Promise<ServerUnderTest> {
  const dataDir = await mkdtemp(join(tmpdir(), "one-runtime-bench-"));
  try {
    const instance = await spawnInstance(name, { ...BENCH_ENV, ONE_RUNTIME_DATA_DIR: dataDir, ONE_RUNTIME_DEV_ORG: "true", ...env });
    const apiKey = instance.lines.map((l) => /API key:\s+(ort_\S+)/.exec(l)?.[1]).find(Boolean);
    if (!apiKey) {
      await instance.stop("SIGKILL");
      throw new Error(`${name} printed no development API key:\n${instance.lines.join("\n")}`);
    }
    return {
      store: "pglite",
      name,
      url: instance.url,
      apiKey,
      instance,
      databaseUrl: undefined,
      async stop() {
        await instance.stop("SIGTERM");
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * `count` instances on one fresh PostgreSQL database; with `redis`, sharing session events
 * through Redis (REDIS_URL, ONE_RUNTIME_TEST_REDIS_URL to point elsewhere) as a deployment does.
 */
export async function startPostgresServers(
  name: string,
  count: number,
  opts: { redis?: boolean; env?: Record<string, string> } = {},
): Promise<{ servers: ServerUnderTest[]; stop(): Promise<void> }> {
  const db = await createTestDatabase();
  const env = { ...BENCH_ENV, DATABASE_URL: db.url, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey(), ...(opts.redis ? { REDIS_URL } : {}), ...opts.env };
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => spawnInstance(count > 1 ? `${name}-${i + 1}` : name, env)));
  const instances = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const stop = async () => {
    await Promise.all(instances.map((i) => i.stop("SIGTERM")));
    await db.drop();
  };
  try {
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const { apiKey } = await createOrganizationIn(db.url, "Bench org");
    const servers = instances.map((instance) => ({
      store: "postgres" as const,
      name: instance.name,
      url: instance.url,
      apiKey,
      instance,
      databaseUrl: db.url,
      stop: () => instance.stop("SIGTERM").then(() => {}),
    }));
    return { servers, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export type ProcessFigures = { rssBytes: number; cpuSeconds: number; heapUsedBytes: number; source: "metrics" | "proc" };

const METRICS_WAIT_MS = 10_000;

/**
 * The server's resident memory and CPU time so far, as its /metrics reports them
 * (process_resident_memory_bytes, process_cpu_seconds_total). A server too busy to answer within
 * 10 s is read from /proc instead (Linux; the same figures prom-client reports).
 */
export async function processFigures(server: ServerUnderTest): Promise<ProcessFigures> {
  try {
    const res = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(METRICS_WAIT_MS) });
    const text = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1]);
    const figures = {
      rssBytes: value("process_resident_memory_bytes"),
      cpuSeconds: value("process_cpu_seconds_total"),
      heapUsedBytes: value("nodejs_heap_size_used_bytes"),
      source: "metrics" as const,
    };
    if (Number.isFinite(figures.rssBytes) && Number.isFinite(figures.cpuSeconds)) return figures;
  } catch {
    // fall through to /proc
  }
  const pid = server.instance.proc.pid!;
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 a second on Linux).
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssBytes: Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024, cpuSeconds: ticks / 100, heapUsedBytes: NaN, source: "proc" };
}
