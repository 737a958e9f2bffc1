// Opens the one Prisma client on the configured store: PGlite in a data folder (the embedded
// default) or PostgreSQL when DATABASE_URL is set. Also gives the migration engine an adapter.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.js";
import { tightenTree } from "./data-dir-permissions.js";
import { withEmbeddedReadCache } from "./embedded-read-cache.js";
import { wholeScriptAdapterFactory } from "./migration-adapter.js";
import { listenOnPostgres } from "./pg-listen.js";

export type StoreKind = "pglite" | "postgres";

export type Store = {
  kind: StoreKind;
  prisma: PrismaClient;
  /** An adapter for the schema engine, whose scripts run whole and are awaited. */
  migrationAdapterFactory(): SqlMigrationAwareDriverAdapterFactory;
  /**
   * Runs `fn` (applying migrations) while holding the store's migration lock, so instances
   * starting together on one PostgreSQL database migrate one after another.
   */
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Calls `onPayload` for every NOTIFY on `channel` (sent by any instance, delivered on commit)
   * until the returned function is called. Best effort: a notice may be lost while reconnecting.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Whether the database answers at all; with a timeout, a hung connection is dropped, not kept. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

/** Our advisory lock key for migrations ("ONER"); Prisma's engine uses 72707369 for its own. */
export const MIGRATION_LOCK_KEY = 0x4f4e4552;
const MIGRATION_LOCK_WAIT = "300s";
/** How long a query waits for a pooled connection (or for a new one to connect). */
export const POOL_WAIT_MS = 15_000;

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/**
 * A pool whose results report PostgreSQL's internal `"char"` type as text: @prisma/adapter-pg
 * rejects OID 18, which catalog queries (ours and the schema engine's) return.
 */
class CharAsTextPool extends pg.Pool {
  override query(...args: unknown[]): never {
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result && typeof (result as Promise<unknown>).then === "function") {
      return (result as Promise<pg.QueryResult>).then((r) => {
        for (const f of r?.fields ?? []) if (f.dataTypeID === PG_CHAR_OID) f.dataTypeID = PG_TEXT_OID;
        return r;
      }) as never;
    }
    return result as never;
  }
}

/** The database cannot be used at all (unreachable, unknown database or role, refused); one line. */
export class DatabaseUnavailableError extends Error {}

/**
 * A connection failure as one line naming what failed, or undefined for any other error. pg
 * reports network errors by errno code and the server's refusals by SQLSTATE (class 08: the
 * connection, 28: authorization, 3D: no such database, 53/57: the server cannot take us).
 */
export function describeConnectionFailure(error: unknown): string | undefined {
  const e = error as { code?: string; message?: string; address?: string; port?: number; hostname?: string };
  const at = e.address ? ` at ${e.address}${e.port ? `:${e.port}` : ""}` : "";
  switch (e.code) {
    case "ECONNREFUSED":
      return `Cannot connect to PostgreSQL${at}: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `Cannot connect to PostgreSQL: ${e.hostname ? `host ${e.hostname}` : "its host"} does not resolve`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ECONNRESET":
      return `Cannot connect to PostgreSQL${at}: ${e.code}`;
  }
  if (e.code && /^(08|28|3D|53|57)[0-9A-Z]{3}$/.test(e.code)) return `PostgreSQL refused the connection: ${(e.message ?? "").split("\n")[0]}`;
  if (/timeout expired|Connection terminated/i.test(e.message ?? "")) return `Cannot connect to PostgreSQL: ${(e.message ?? "").split("\n")[0]}`;
  return undefined;
}

/** Splits a postgres URL into parts: given a connection string, adapter-pg has confused databases. */
export function poolConfigFromUrl(url: string): pg.PoolConfig {
  const u = new URL(url);
  const sslmode = u.searchParams.get("sslmode");
  return {
    host: decodeURIComponent(u.hostname) || "127.0.0.1",
    port: u.port ? Number(u.port) : 5432,
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres",
    user: decodeURIComponent(u.username) || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    ssl: sslmode && sslmode !== "disable" ? { rejectUnauthorized: sslmode === "verify-full" } : undefined,
  };
}

/** One statement Prisma sent to the database (its query event). */
export type QueryObserver = (event: { query: string; durationMs: number }) => void;

/**
 * `onQuery` (benchmarks: round trips per flow) turns on Prisma's query events; without it the
 * client is built exactly as before, so the hook costs nothing when off.
 */
export async function openStore(opts: { databaseUrl?: string | undefined; dataDir: string; poolSize?: number; onQuery?: QueryObserver }): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 10, opts.onQuery);
  return openPglite(join(opts.dataDir, "pgdata"), opts.onQuery);
}

function newPrismaClient(adapter: PrismaPg | PrismaPGlite, onQuery: QueryObserver | undefined): PrismaClient {
  if (!onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  prisma.$on("query", (e) => onQuery({ query: e.query, durationMs: e.duration }));
  return prisma;
}

async function openPostgres(url: string, max: number, onQuery: QueryObserver | undefined): Promise<Store> {
  // A burst larger than the pool queues for a connection rather than failing at once; the
  // HTTP request timeout (30 s) bounds the wait, and /readyz has its own short bound.
  const pool = new CharAsTextPool({ ...poolConfigFromUrl(url), max, connectionTimeoutMillis: POOL_WAIT_MS });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on("error", () => {});
  const prisma = newPrismaClient(new PrismaPg(pool), onQuery);
  // The schema engine takes a session-level advisory lock and releases it later: over a shared
  // pool the release can land on another connection, leaving the lock held and the next
  // instance's migration timing out. Its queries get one connection of their own.
  let migrationPool: CharAsTextPool | undefined;
  const onMigrationConnection = () => {
    if (!migrationPool) {
      migrationPool = new CharAsTextPool({ ...poolConfigFromUrl(url), max: 1, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 1_000 });
      migrationPool.on("error", () => {});
    }
    return migrationPool;
  };
  return {
    kind: "postgres",
    prisma,
    migrationAdapterFactory: () => {
      const mp = onMigrationConnection();
      return wholeScriptAdapterFactory(new PrismaPg(mp), async (script) => {
        await mp.query(script);
      });
    },
    withMigrationLock: async (fn) => {
      // A connection of its own: the lock is held by a session, and must outlive fn's queries.
      const client = new pg.Client({ ...poolConfigFromUrl(url), connectionTimeoutMillis: 5_000 });
      client.on("error", () => {});
      await client.connect();
      try {
        await client.query(`SET lock_timeout = '${MIGRATION_LOCK_WAIT}'`);
        await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
        return await fn();
      } finally {
        // The lock dies with its session anyway: a failed unlock or close leaves nothing held.
        await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
        await client.end().catch(() => {});
      }
    },
    listen: (channel, onPayload) => listenOnPostgres(poolConfigFromUrl(url), channel, onPayload),
    ping: async (timeoutMs) => {
      // On query_timeout pg-pool discards the client, so a hung server cannot pin pool slots.
      await pool.query({ text: "SELECT 1", ...(timeoutMs ? { query_timeout: timeoutMs } : {}) } as pg.QueryConfig);
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
      await migrationPool?.end();
    },
  };
}

async function openPglite(folder: string, onQuery: QueryObserver | undefined): Promise<Store> {
  // The owner-only umask is set by the data folder's lock, which every opener of a real data
  // folder takes first; a scratch store (migration:new's diff) leaves the process's umask alone.
  await mkdir(folder, { recursive: true });
  const db = new PGlite(folder);
  await db.waitReady;
  // PGlite chmods some files itself while opening (0666, 0644); from here on it creates 0600.
  await tightenTree(folder);
  const prisma = withEmbeddedReadCache(newPrismaClient(new PrismaPGlite(db), onQuery));
  return {
    kind: "pglite",
    prisma,
    migrationAdapterFactory: () =>
      wholeScriptAdapterFactory(new PrismaPGlite(db), async (script) => {
        await db.exec(script);
      }),
    // One process per data folder (the data-dir lock): nobody to wait for.
    withMigrationLock: (fn) => fn(),
    listen: async (channel, onPayload) => {
      const unlisten = await db.listen(channel, onPayload);
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
    ping: async () => {
      await db.query("SELECT 1");
    },
    close: async () => {
      await prisma.$disconnect();
      // $disconnect leaves PGlite open; without close() the next start runs crash recovery.
      await db.close();
    },
  };
}
