// How a credentials read's cost grows with the connections in the database: the same
// `connection(id) { credentials { … } }` over HTTP on the PostgreSQL server, with 10, 1,000 and
// 100,000 connections in its organization. Filler rows are bulk-inserted with SQL (copies of the
// read target's row under new ids; only the target's sealed credentials are ever opened) and
// removed afterwards. PostgreSQL only: the embedded store belongs to its server process, so rows
// cannot be bulk-written beside it.
import pg from "pg";
import { LATENCY_CONNECTIONS, runLoad, type HttpRequest, type LoadLength } from "./http-load.js";
import { growth, num, type Row } from "./report.js";
import type { ServerUnderTest } from "./servers-under-test.js";

const FILLER_PREFIX = "bench-filler-";

export async function measureCredentialsGrowth(
  server: ServerUnderTest,
  target: { connectionId: string; request: HttpRequest; expectBody: string },
  opts: { sizes: number[]; length: LoadLength },
): Promise<Row> {
  const client = new pg.Client({ connectionString: server.databaseUrl! });
  await client.connect();
  const points: { n: number; cost: number; p99: number; rps: number }[] = [];
  let failures = 0;
  try {
    for (const size of opts.sizes) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Connection"`);
      const missing = size - rows[0]!.n;
      if (missing > 0) {
        await client.query(
          `INSERT INTO "Connection" (id, "organizationId", "integrationSlug", "endUserId", name, "authType", "credentialsEnc", "encryptionKeyId", scopes, "updatedAt")
           SELECT gen_random_uuid(), "organizationId", "integrationSlug", $2 || g, name, "authType", "credentialsEnc", "encryptionKeyId", scopes, now()
             FROM "Connection", generate_series(1, $3::int) AS g WHERE id = $1`,
          [target.connectionId, FILLER_PREFIX, missing],
        );
        await client.query(`ANALYZE "Connection"`);
      }
      const r = await runLoad(server.url, target.request, { connections: LATENCY_CONNECTIONS, length: opts.length, warmupSeconds: "seconds" in opts.length ? 0.3 : 0, expectBody: target.expectBody });
      failures += r.failures;
      const total = Math.max(size, rows[0]!.n);
      points.push({ n: total, cost: r.meanMs, p99: r.p99Ms, rps: r.requestsPerSecond });
    }
  } finally {
    await client.query(`DELETE FROM "Connection" WHERE starts_with("endUserId", $1)`, [FILLER_PREFIX]).catch(() => {});
    await client.end();
  }
  const g = growth(points);
  return {
    id: "credentials-growth",
    what: `credentials read as connections grow (PostgreSQL, HTTP, ${LATENCY_CONNECTIONS} connections)`,
    figure: `${g.label} (cost ∝ n^${g.exponent.toFixed(2)}): ` + points.map((p) => `${p.n.toLocaleString("en-US")} connections ${num(p.cost)} ms mean, p99 ${p.p99} ms, ${num(p.rps)} req/s`).join(", "),
    ratio: `${num(points.at(-1)!.cost / points[0]!.cost)}× the cost for ${num(points.at(-1)!.n / points[0]!.n)}× the connections`,
    failures,
    values: { growth: g.label, exponent: g.exponent, ...Object.fromEntries(points.flatMap((p) => [[`meanMs@${p.n}`, p.cost], [`p99Ms@${p.n}`, p.p99], [`rps@${p.n}`, p.rps]])) },
  };
}
