// Customers' hot paths over HTTP, each against both ceilings answering the same bytes:
// `{__typename}` (no key, then with an API key), the catalog search as users type, a connection's
// credentials read before every provider call, and /healthz. Requests/s at 50 connections, p99 at
// 10, failures counted from the exact bytes expected.
import { connectFlow } from "../test/support/flows.js";
import type { Answers, StoredAnswer } from "./ceiling-server.js";
import { startCeilings } from "./ceilings.js";
import {
  describeLoad,
  getRequest,
  graphqlRequest,
  LATENCY_CONNECTIONS,
  latencyMs,
  runLoad,
  sendOnce,
  THROUGHPUT_CONNECTIONS,
  type HttpRequest,
  type LoadLength,
  type LoadResult,
} from "./http-load.js";
import { ratio, times, type Row } from "./report.js";
import type { ServerUnderTest } from "./servers-under-test.js";

export const TYPENAME = "{__typename}";
export const CATALOG_SEARCH = `{ integrations(search: "hub", first: 20) { totalCount nodes { slug name authType categories logoUrl } } }`;
export const CREDENTIALS = `query($id: ID!) { connection(id: $id) { credentials { accessToken apiKey } } }`;

export type HotPathTimes = { throughput: LoadLength; latency: LoadLength; warmupSeconds: number };

type Target = { server: ServerUnderTest; connectionId: string };

/** An API-key connection made through the public API (session, popup submission), to read back. */
export async function apiKeyConnection(server: ServerUnderTest): Promise<string> {
  const flow = await connectFlow({ apiKey: server.apiKey, endUserId: "bench-credentials-reader", createOn: server.url });
  return flow.connectionId;
}

const storeName = (s: ServerUnderTest) => (s.store === "pglite" ? "PGlite" : "PostgreSQL");

async function expectedAnswer(url: string, req: HttpRequest, what: string): Promise<StoredAnswer> {
  const a = await sendOnce(url, req);
  if (a.status !== 200 || a.body.includes('"errors"')) throw new Error(`${what} answered ${a.status}: ${a.body.slice(0, 300)}`);
  return { status: a.status, contentType: a.contentType, body: a.body };
}

export async function measureHotPaths(pglite: Target, postgres: Target, t: HotPathTimes, tmpDir: string): Promise<Row[]> {
  const stores = [pglite, postgres];
  const requests = {
    anonymous: graphqlRequest(TYPENAME),
    typename: (s: Target) => graphqlRequest(TYPENAME, s.server.apiKey),
    catalog: (s: Target) => graphqlRequest(CATALOG_SEARCH, s.server.apiKey),
    credentials: (s: Target) => graphqlRequest(CREDENTIALS, s.server.apiKey, { id: s.connectionId }),
    healthz: getRequest("/healthz"),
  };

  // What One Runtime answers: the bytes the load must see again. The ceilings send the embedded
  // store's (the default); PostgreSQL's differ only in the port inside each logoUrl.
  const answers: Omit<Answers, "schemaFile"> = { graphql: [], get: {} };
  const expected = new Map<HttpRequest, string>();
  const learn = async (url: string, req: HttpRequest, what: string) => {
    const a = await expectedAnswer(url, req, what);
    expected.set(req, a.body);
    if (url !== pglite.server.url) return req;
    if (req.method === "GET") answers.get[req.path] = a;
    else answers.graphql.push({ request: req.body!, answer: a });
    return req;
  };
  const anonymous = await learn(pglite.server.url, requests.anonymous, "{__typename}");
  const healthz = await learn(pglite.server.url, requests.healthz, "/healthz");
  const perStore = new Map<Target, { typename: HttpRequest; catalog: HttpRequest; credentials: HttpRequest }>();
  for (const s of stores) {
    perStore.set(s, {
      typename: await learn(s.server.url, requests.typename(s), `{__typename} with a key on ${storeName(s.server)}`),
      catalog: await learn(s.server.url, requests.catalog(s), `the catalog search on ${storeName(s.server)}`),
      credentials: await learn(s.server.url, requests.credentials(s), `the credentials read on ${storeName(s.server)}`),
    });
  }

  const load = (url: string, req: HttpRequest, connections: number, warm = true) =>
    runLoad(url, req, { connections, length: connections === THROUGHPUT_CONNECTIONS ? t.throughput : t.latency, warmupSeconds: warm ? t.warmupSeconds : 0, expectBody: expected.get(req)! });

  type Ceiling = { node: LoadResult; yoga?: LoadResult; nodeP99?: LoadResult; yogaP99?: LoadResult };
  const rows: Row[] = [];
  const ceilingText = (c: Ceiling) =>
    `node:http ${Math.round(c.node.requestsPerSecond).toLocaleString("en-US")}/s` + (c.yoga ? ` · yoga ${Math.round(c.yoga.requestsPerSecond).toLocaleString("en-US")}/s` : "");
  /** A ceiling that failed a request is a fault of the bench: it fails the row too. */
  const ceilingFailures = (c: Ceiling, latency = false) =>
    latency ? (c.nodeP99?.failures ?? 0) + (c.yogaP99?.failures ?? 0) : c.node.failures + (c.yoga?.failures ?? 0);
  const throughputRow = (id: string, what: string, r: LoadResult, c: Ceiling, goal?: { text: string; met: (vsNode: number, vsYoga: number) => boolean }): Row => {
    const vsNode = ratio(r.requestsPerSecond, c.node.requestsPerSecond);
    const vsYoga = c.yoga ? ratio(r.requestsPerSecond, c.yoga.requestsPerSecond) : NaN;
    return {
      id,
      what: `${what} · ${THROUGHPUT_CONNECTIONS} connections`,
      figure: describeLoad(r),
      // A run of a fixed number of requests (--quick) has no rate worth comparing.
      ...(r.timed ? { ceiling: ceilingText(c), ratio: `${times(vsNode)} node:http` + (c.yoga ? ` · ${times(vsYoga)} yoga` : "") } : {}),
      ...(goal ? { goal: goal.text, met: r.completed > 0 && goal.met(vsNode, vsYoga) && r.failures === 0 } : {}),
      failures: r.failures + ceilingFailures(c),
      values: { ...flat(r), ceilingNodeHttpRps: c.node.requestsPerSecond, ceilingYogaRps: c.yoga?.requestsPerSecond ?? null, vsNodeHttp: vsNode, vsYoga: c.yoga ? vsYoga : null },
    };
  };
  const latencyRow = (id: string, what: string, r: LoadResult, c: Ceiling): Row => ({
    id,
    what: `${what} · ${LATENCY_CONNECTIONS} connections`,
    figure: describeLoad(r),
    ...(r.timed
      ? {
          ceiling: `p99: node:http ${latencyMs(c.nodeP99!.p99Ms)} · yoga ${latencyMs(c.yogaP99!.p99Ms)}`,
          ratio: `${times(ratio(r.p99Ms, c.nodeP99!.p99Ms))} node:http · ${times(ratio(r.p99Ms, c.yogaP99!.p99Ms))} yoga (p99)`,
        }
      : {}),
    goal: "p99 ≤ 10 ms",
    met: r.completed > 0 && r.p99Ms <= 10 && r.failures === 0,
    failures: r.failures + ceilingFailures(c, true),
    values: { ...flat(r), ceilingNodeHttpP99Ms: c.nodeP99!.p99Ms, ceilingYogaP99Ms: c.yogaP99!.p99Ms },
  });

  const ceilings = await startCeilings(tmpDir, answers);
  try {
    const measureCeilings = async (req: HttpRequest, yoga = true): Promise<Ceiling> => ({
      node: await load(ceilings.nodeHttp.url, req, THROUGHPUT_CONNECTIONS),
      ...(yoga ? { yoga: await load(ceilings.yoga.url, req, THROUGHPUT_CONNECTIONS) } : {}),
    });
    const measureCeilingLatency = async (c: Ceiling, req: HttpRequest) => {
      c.nodeP99 = await load(ceilings.nodeHttp.url, req, LATENCY_CONNECTIONS, false);
      c.yogaP99 = await load(ceilings.yoga.url, req, LATENCY_CONNECTIONS, false);
    };
    // Each request's ceilings, then the servers under test, back to back: on a machine whose load
    // changes meanwhile, a ceiling and the figures divided by it move together.
    const typenameCeiling = await measureCeilings(anonymous);
    rows.push(throughputRow("typename-anonymous", "`{__typename}`, no key", await load(pglite.server.url, anonymous, THROUGHPUT_CONNECTIONS), typenameCeiling));
    for (const s of stores) {
      rows.push(throughputRow(`typename-key-${s.server.store}`, `\`{__typename}\` with an API key, ${storeName(s.server)}`, await load(s.server.url, perStore.get(s)!.typename, THROUGHPUT_CONNECTIONS), typenameCeiling));
    }

    const catalogCeiling = await measureCeilings(perStore.get(pglite)!.catalog);
    for (const s of stores) {
      rows.push(
        throughputRow(`catalog-${s.server.store}`, `\`integrations(search: "hub", first: 20)\` with a key, ${storeName(s.server)}`, await load(s.server.url, perStore.get(s)!.catalog, THROUGHPUT_CONNECTIONS), catalogCeiling, {
          text: "≥ 1.0× yoga and ≥ 0.25× node:http, 0 failed",
          met: (vsNode, vsYoga) => vsYoga >= 1 && vsNode >= 0.25,
        }),
      );
    }
    await measureCeilingLatency(catalogCeiling, perStore.get(pglite)!.catalog);
    for (const s of stores) {
      rows.push(latencyRow(`catalog-p99-${s.server.store}`, `the catalog search, ${storeName(s.server)}`, await load(s.server.url, perStore.get(s)!.catalog, LATENCY_CONNECTIONS, false), catalogCeiling));
    }

    const credentialsCeiling = await measureCeilings(perStore.get(pglite)!.credentials);
    for (const s of stores) {
      const needed = s.server.store === "postgres" ? 0.7 : 0.5;
      rows.push(
        throughputRow(
          `credentials-${s.server.store}`,
          `\`connection(id) { credentials { accessToken apiKey } }\` (API-key connection), ${storeName(s.server)}`,
          await load(s.server.url, perStore.get(s)!.credentials, THROUGHPUT_CONNECTIONS),
          credentialsCeiling,
          { text: `≥ ${needed}× yoga`, met: (_vsNode, vsYoga) => vsYoga >= needed },
        ),
      );
    }
    await measureCeilingLatency(credentialsCeiling, perStore.get(pglite)!.credentials);
    for (const s of stores) {
      rows.push(latencyRow(`credentials-p99-${s.server.store}`, `the credentials read, ${storeName(s.server)}`, await load(s.server.url, perStore.get(s)!.credentials, LATENCY_CONNECTIONS, false), credentialsCeiling));
    }

    const healthzCeiling = await measureCeilings(healthz, false);
    rows.push(throughputRow("healthz", "`/healthz`", await load(pglite.server.url, healthz, THROUGHPUT_CONNECTIONS), healthzCeiling));
  } finally {
    await ceilings.stop();
  }
  return rows;
}

/** A load's figures for the JSON report. */
export const flat = (r: LoadResult): Record<string, number> => ({
  requestsPerSecond: r.requestsPerSecond,
  p50Ms: r.p50Ms,
  p99Ms: r.p99Ms,
  meanMs: r.meanMs,
  completed: r.completed,
  non2xx: r.non2xx,
  errors: r.errors,
  wrongBodies: r.wrongBodies,
  connections: r.connections,
  seconds: r.seconds,
});
