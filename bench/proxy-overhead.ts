// What the proxy adds to a provider call, in one run: the same GET answered by a stand-in
// provider API (the bare node:http ceiling, a child process, serving a fixed JSON body) called
// directly, and through One Runtime's proxy on the embedded store (API key and its budget, the
// connection's credentials opened, the credential added, the egress guard, the answer streamed
// back). Requests/s at 50 connections and p50/p99 at 10, each as a ratio to the direct call;
// every answer checked byte for byte.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../test/support/server-build.js";
import type { Answers } from "./ceiling-server.js";
import { spawnCeiling } from "./ceilings.js";
import { flat, type HotPathTimes } from "./hot-paths.js";
import { describeLoad, LATENCY_CONNECTIONS, latencyMs, runLoad, THROUGHPUT_CONNECTIONS, type HttpRequest } from "./http-load.js";
import { num, ratio, times, type Row } from "./report.js";
import { startPgliteServer, type ServerUnderTest } from "./servers-under-test.js";

const SLUG = "bench-provider";
const PROVIDER_KEY = "bench-provider-key-0123456789";
const ANSWER = JSON.stringify({ items: Array.from({ length: 10 }, (_, i) => ({ id: `item_${i}`, name: `Item ${i}`, updatedAt: "2026-11-27T00:00:00Z" })), next: null });

/** A catalog folder with one API-key integration whose API is the stand-in. */
async function writeCatalog(dir: string, apiUrl: string) {
  await mkdir(join(dir, "integrations"), { recursive: true });
  const entry = {
    slug: SLUG,
    name: "Bench provider",
    description: "A provider API stand-in for the proxy benchmark.",
    categories: ["developer-tools"],
    authType: "API_KEY",
    docsUrl: "https://example.com/docs",
    credentialFields: [{ key: "apiKey", label: "API key", secret: true }],
    api: { baseUrl: `${apiUrl}/v1`, auth: { type: "header", name: "X-Api-Key", value: "{apiKey}" } },
  };
  await writeFile(join(dir, "integrations", `${SLUG}.json`), JSON.stringify(entry));
}

async function gql(server: ServerUnderTest, query: string, variables: Record<string, unknown>, token: string) {
  const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return body.data;
}

/** A connection to the stand-in made through the public API (a session, the popup's submission). */
async function connect(server: ServerUnderTest): Promise<string> {
  const created = await gql(server, `mutation($i: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $i) { sessionToken } }`, { i: { integrationSlug: SLUG, endUserId: "bench-proxy" } }, server.apiKey);
  const done = await gql(
    server,
    `mutation($i: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $i) { connectionId } }`,
    { i: { credentials: [{ key: "apiKey", value: PROVIDER_KEY }] } },
    created.createHostedConnectionSession.sessionToken,
  );
  return done.completeHostedConnectionSession.connectionId;
}

export async function measureProxyOverhead(t: HotPathTimes, tmpDir: string): Promise<Row[]> {
  const answersFile = join(tmpDir, "proxy-stand-in.json");
  await writeFile(answersFile, JSON.stringify({ graphql: [], get: { "/v1/items": { status: 200, contentType: "application/json", body: ANSWER } }, schemaFile: join(repoRoot, "schema.graphql") } satisfies Answers));
  const provider = await spawnCeiling("node-http", answersFile);
  let server: ServerUnderTest | undefined;
  try {
    const catalogDir = join(tmpDir, "proxy-catalog");
    await writeCatalog(catalogDir, provider.url);
    server = await startPgliteServer("proxy", { ONE_RUNTIME_CATALOG_DIR: catalogDir, ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true" });
    const connectionId = await connect(server);
    const direct: HttpRequest = { method: "GET", path: "/v1/items", headers: { "x-api-key": PROVIDER_KEY } };
    const proxied: HttpRequest = { method: "GET", path: `/proxy/${connectionId}/items`, headers: { authorization: `Bearer ${server.apiKey}` } };
    const load = (url: string, req: HttpRequest, connections: number) =>
      runLoad(url, req, { connections, length: connections === THROUGHPUT_CONNECTIONS ? t.throughput : t.latency, warmupSeconds: t.warmupSeconds, expectBody: ANSWER });

    // Direct, then proxied, back to back, so a machine whose load changes moves both.
    const directRate = await load(provider.url, direct, THROUGHPUT_CONNECTIONS);
    const proxiedRate = await load(server.url, proxied, THROUGHPUT_CONNECTIONS);
    const directLatency = await load(provider.url, direct, LATENCY_CONNECTIONS);
    const proxiedLatency = await load(server.url, proxied, LATENCY_CONNECTIONS);

    const what = "GET through the proxy (key, credentials opened, header added, egress guard), PGlite, vs the stand-in API directly";
    const rateRatio = ratio(proxiedRate.requestsPerSecond, directRate.requestsPerSecond);
    return [
      {
        id: "proxy-throughput",
        what: `${what} · ${THROUGHPUT_CONNECTIONS} connections`,
        figure: describeLoad(proxiedRate),
        ...(proxiedRate.timed ? { ceiling: `direct ${Math.round(directRate.requestsPerSecond).toLocaleString("en-US")} req/s, p50 ${latencyMs(directRate.p50Ms)}, p99 ${latencyMs(directRate.p99Ms)}`, ratio: `${num(rateRatio)}× direct` } : {}),
        failures: proxiedRate.failures + directRate.failures,
        values: { ...flat(proxiedRate), directRps: directRate.requestsPerSecond, directP50Ms: directRate.p50Ms, directP99Ms: directRate.p99Ms, vsDirect: rateRatio },
      },
      {
        id: "proxy-latency",
        what: `${what} · ${LATENCY_CONNECTIONS} connections`,
        figure: describeLoad(proxiedLatency),
        ...(proxiedLatency.timed
          ? {
              ceiling: `direct p50 ${latencyMs(directLatency.p50Ms)}, p99 ${latencyMs(directLatency.p99Ms)}`,
              // autocannon's whole milliseconds: a direct p99 under 1 ms has no ratio, only a difference.
              ratio: `p50 +${proxiedLatency.p50Ms - directLatency.p50Ms} ms, p99 +${proxiedLatency.p99Ms - directLatency.p99Ms} ms` + (directLatency.p99Ms > 0 ? ` (${times(ratio(proxiedLatency.p99Ms, directLatency.p99Ms))} direct p99)` : ""),
            }
          : {}),
        failures: proxiedLatency.failures + directLatency.failures,
        values: { ...flat(proxiedLatency), directP50Ms: directLatency.p50Ms, directP99Ms: directLatency.p99Ms },
      },
    ];
  } finally {
    await server?.stop();
    await provider.stop();
  }
}
