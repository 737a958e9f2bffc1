// A fresh PostgreSQL database per test server, dropped afterwards. PostgreSQL at
// 127.0.0.1:5432 (trust auth) unless ONE_RUNTIME_TEST_PG_URL says otherwise. Under CI=true an
// unreachable server is a failure, never a skip. A run that was killed leaves its databases
// behind: the next run drops those old enough that no live suite can still be using them.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const adminUrl = process.env.ONE_RUNTIME_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  // A refused connection fails at once; this bound is only for one that hangs, not a slow machine.
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 30_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const PREFIX = "one_runtime_test_";
/** `one_runtime_test_<unix seconds>_<random>`: the name says when it was made. */
const NAMED = /^one_runtime_test_(\d{10})_[0-9a-f]+$/;

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}

/**
 * Drops test databases left by earlier runs: older than `maxAgeMs` AND with nobody connected, so
 * a suite running at the same time (which made its databases minutes ago and holds connections
 * to them) is never touched. The age comes from the name; for names from before the timestamp
 * (`one_runtime_test_<random>`) from when PostgreSQL wrote the database's PG_VERSION file, which
 * needs a superuser (or pg_read_server_files) — without it those are left alone. A plain DROP
 * (no FORCE) also fails rather than cut off a client that connects in between.
 */
export async function dropStaleTestDatabases(maxAgeMs: number): Promise<{ dropped: string[]; kept: string[] }> {
  return admin(async (c) => {
    const { rows } = await c.query<{ name: string; oid: number; connections: number }>(
      `SELECT d.datname AS name, d.oid::int AS oid, (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datid = d.oid) AS connections
         FROM pg_database d WHERE starts_with(d.datname, $1)`,
      [PREFIX],
    );
    const dropped: string[] = [];
    const kept: string[] = [];
    for (const row of rows) {
      const named = NAMED.exec(row.name);
      let ageMs: number | undefined;
      if (named) ageMs = Date.now() - Number(named[1]) * 1000;
      else {
        ageMs = await c
          .query<{ age_ms: number }>(`SELECT (extract(epoch FROM now() - (pg_stat_file('base/' || $1::text || '/PG_VERSION')).modification) * 1000)::float8 AS age_ms`, [row.oid])
          .then((r) => r.rows[0]?.age_ms, () => undefined);
      }
      if (ageMs === undefined || ageMs < maxAgeMs || row.connections > 0) {
        kept.push(row.name);
        continue;
      }
      try {
        await c.query(`DROP DATABASE IF EXISTS "${row.name}"`);
        dropped.push(row.name);
      } catch {
        kept.push(row.name); // someone connected meanwhile: it is in use after all
      }
    }
    return { dropped, kept };
  });
}
