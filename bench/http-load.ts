// HTTP load with autocannon (keep-alive connections, a fixed request, as many as the server
// answers): requests/s at 50 connections, p99 latency at 10. Every answer is checked against the
// exact bytes expected, so a GraphQL error inside a 200 (or a rate limiter's 429) counts as a
// failure, not as speed.
import autocannon from "autocannon";

export const THROUGHPUT_CONNECTIONS = 50;
export const LATENCY_CONNECTIONS = 10;

export type HttpRequest = { method: "GET" | "POST"; path: string; headers: Record<string, string>; body?: string };

export const graphqlRequest = (query: string, token?: string, variables?: Record<string, unknown>): HttpRequest => ({
  method: "POST",
  path: "/graphql",
  headers: {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  },
  body: JSON.stringify(variables ? { query, variables } : { query }),
});

export const getRequest = (path: string): HttpRequest => ({ method: "GET", path, headers: {} });

/** One request as a plain client sends it: status and body bytes, to learn what the load must see. */
export async function sendOnce(baseUrl: string, req: HttpRequest): Promise<{ status: number; body: string; contentType: string }> {
  const res = await fetch(`${baseUrl}${req.path}`, { method: req.method, headers: req.headers, ...(req.body ? { body: req.body } : {}) });
  return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") ?? "" };
}

/** How long a load runs: for a time (figures), or for a number of requests (CI: every path exercised, whatever the machine's speed). */
export type LoadLength = { seconds: number } | { requests: number };

/** A request slower than this is a hang, not slowness: only then does it count as an error. */
const REQUEST_TIMEOUT_S = 120;

export type LoadResult = {
  /** Whether the run was timed (a rate means something) or a fixed number of requests. */
  timed: boolean;
  connections: number;
  seconds: number;
  completed: number;
  requestsPerSecond: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** 2xx answers whose body differed from the expected bytes. */
  wrongBodies: number;
  failures: number;
};

export async function runLoad(
  baseUrl: string,
  req: HttpRequest,
  opts: { connections: number; length: LoadLength; warmupSeconds: number; expectBody?: string },
): Promise<LoadResult> {
  const options = {
    url: `${baseUrl}${req.path}`,
    method: req.method,
    headers: req.headers,
    ...(req.body ? { body: req.body } : {}),
    connections: opts.connections,
    timeout: REQUEST_TIMEOUT_S,
    ...(opts.expectBody !== undefined ? { expectBody: opts.expectBody } : {}),
  };
  // First use (JIT, pools, caches) is not what a running service pays: a short unmeasured run first.
  if (opts.warmupSeconds > 0) await autocannon({ ...options, duration: opts.warmupSeconds });
  const r = await autocannon({ ...options, ...("requests" in opts.length ? { amount: opts.length.requests } : { duration: opts.length.seconds }) });
  const seconds = (r.finish.getTime() - r.start.getTime()) / 1000;
  const completed = r["1xx"] + r["2xx"] + r["3xx"] + r["4xx"] + r["5xx"];
  return {
    timed: !("requests" in opts.length),
    connections: opts.connections,
    seconds,
    completed,
    requestsPerSecond: completed / seconds,
    meanMs: r.latency.mean,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    // autocannon counts a non-2xx answer as a mismatch too (its body is not the expected one).
    wrongBodies: Math.max(0, r.mismatches - r.non2xx),
    failures: r.errors + Math.max(r.non2xx, r.mismatches),
  };
}

export const describeLoad = (r: LoadResult) =>
  r.completed === 0
    ? `no request completed in ${r.seconds.toFixed(1)} s; ${r.errors} errors`
    : `${r.timed ? `${Math.round(r.requestsPerSecond).toLocaleString("en-US")} req/s` : `${r.completed} requests`}, p50 ${latencyMs(r.p50Ms)}, p99 ${latencyMs(r.p99Ms)}; ${r.non2xx} non-2xx, ${r.errors + r.wrongBodies} errors`;

/** autocannon times in whole milliseconds: 0 means under one. */
export const latencyMs = (n: number) => (n === 0 ? "< 1 ms" : `${n} ms`);

export type SequentialLatency = { requests: number; failures: number; seconds: number; p50Ms: number; p99Ms: number; maxMs: number };

/**
 * One request at a time on one keep-alive connection, timed each (sub-millisecond): for "how
 * long does one query take meanwhile" on a server that may be too busy to answer many. Runs at
 * least `minSeconds` and `minRequests`, but stops at `maxSeconds` whatever it has.
 */
export async function sequentialLatency(
  baseUrl: string,
  req: HttpRequest,
  opts: { minSeconds: number; minRequests: number; maxSeconds: number; expectBody: string },
): Promise<SequentialLatency> {
  const samples: number[] = [];
  let failures = 0;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  while ((elapsed() < opts.minSeconds || samples.length + failures < opts.minRequests) && elapsed() < opts.maxSeconds) {
    const t = performance.now();
    try {
      const a = await sendOnce(baseUrl, req);
      if (a.status !== 200 || a.body !== opts.expectBody) failures++;
      else samples.push(performance.now() - t);
    } catch {
      failures++;
    }
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) => (samples.length ? samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)]! : NaN);
  return { requests: samples.length, failures, seconds: elapsed(), p50Ms: at(50), p99Ms: at(99), maxMs: samples.at(-1) ?? NaN };
}
