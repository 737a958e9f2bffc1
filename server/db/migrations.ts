// Reads prisma/migrations into the shape the schema engine takes, and applies it.
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { MigrationList } from "@prisma/schema-engine-wasm";
import { openSchemaEngine } from "./schema-engine.js";
import { DatabaseUnavailableError, describeConnectionFailure, type Store } from "./store.js";

export const prismaDir = resolve(fileURLToPath(new URL("../../prisma/", import.meta.url)));
export const schemaPath = join(prismaDir, "schema.prisma");
export const migrationsDir = join(prismaDir, "migrations");
const noFilters = { externalTables: [], externalEnums: [] };

export async function readMigrationList(dir = migrationsDir): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const lock = await readFile(join(dir, "migration_lock.toml"), "utf8").catch(() => null);
  return {
    baseDir: dir,
    shadowDbInitScript: "",
    lockfile: { path: "migration_lock.toml", content: lock },
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: "migration.sql",
          content: await readFile(join(dir, name, "migration.sql"), "utf8").then(
            (value) => ({ tag: "ok" as const, value }),
            (e: Error) => ({ tag: "error" as const, value: e.message }),
          ),
        },
      })),
    ),
  };
}

/** A migration failed now or earlier; the message is one line and says what to do. */
export class MigrationError extends Error {}

/** The schema engine's multi-line reports (a Rust backtrace included) as one line. */
function migrationFailure(error: unknown): Error {
  const connection = describeConnectionFailure(error);
  if (connection) return new DatabaseUnavailableError(connection);
  const message = (error as Error)?.message ?? String(error);
  const failedBefore = [...message.matchAll(/The `([^`]+)` migration started at/g)].map((m) => m[1]!);
  if (/found failed migrations/.test(message)) {
    const names = failedBefore.length ? failedBefore.join(", ") : "see _prisma_migrations";
    const resolve = `npm run migrate -- resolve ${failedBefore[0] ?? "<name>"}`;
    return new MigrationError(`migrate found failed migrations in the database: ${names}. Fix the migration, run \`${resolve}\`, then start again`);
  }
  const name = /migration_name="([^"]+)"/.exec(message)?.[1];
  const cause = /Error querying the database: (.*)/.exec(message)?.[1] ?? message.split("\n")[0];
  if (name) return new MigrationError(`Migration ${name} failed: ${cause}`);
  return error instanceof Error ? error : new Error(message);
}

/**
 * Applies every migration not yet recorded; returns the names it applied. Throws on failure.
 * Under the store's migration lock: instances starting together migrate one at a time.
 */
export async function applyMigrations(store: Store, dir = migrationsDir): Promise<string[]> {
  try {
    return await store.withMigrationLock(() => applyMigrationsLocked(store, dir));
  } catch (e) {
    throw migrationFailure(e);
  }
}

async function applyMigrationsLocked(store: Store, dir: string): Promise<string[]> {
  const engine = await openSchemaEngine(schemaPath, await readFile(schemaPath, "utf8"), store.migrationAdapterFactory());
  try {
    const migrationsList = await readMigrationList(dir);
    for (const m of migrationsList.migrationDirectories) {
      const c = m.migrationFile.content;
      if (c.tag === "ok" && c.value.trim() === "") throw new Error(`Migration ${m.path} is empty`);
    }
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: noFilters });
    return appliedMigrationNames;
  } finally {
    engine.free();
  }
}

type MigrationRow = { finished_at: Date | null; rolled_back_at: Date | null };

/**
 * `npm run migrate -- resolve <name>`: marks a FAILED migration as rolled back (Prisma's
 * `migrate resolve --rolled-back`), so the next apply runs it again, as its file now reads. Only
 * a failed one: marking an applied migration rolled back would apply it twice.
 */
export async function resolveFailedMigration(store: Store, name: string): Promise<void> {
  try {
    await store.withMigrationLock(async () => {
      const [table] = await store.prisma.$queryRawUnsafe<{ t: string | null }[]>(`SELECT to_regclass('_prisma_migrations')::text AS t`);
      const rows = table?.t ? await store.prisma.$queryRawUnsafe<MigrationRow[]>(`SELECT finished_at, rolled_back_at FROM _prisma_migrations WHERE migration_name = $1`, name) : [];
      if (!rows.some((r) => !r.finished_at && !r.rolled_back_at)) {
        const state = !rows.length ? "it never ran here" : rows.some((r) => r.finished_at && !r.rolled_back_at) ? "it is applied" : "it is already rolled back";
        throw new MigrationError(`Migration ${name} is not a failed migration (${state}): nothing to resolve`);
      }
      const engine = await openSchemaEngine(schemaPath, await readFile(schemaPath, "utf8"), store.migrationAdapterFactory());
      try {
        await engine.markMigrationRolledBack({ migrationName: name });
      } finally {
        engine.free();
      }
    });
  } catch (e) {
    throw e instanceof MigrationError ? e : migrationFailure(e);
  }
}

/** The SQL that takes `from` (the migrations, or nothing) to the schema file; "" when in sync. */
export async function diffSchemaAgainstMigrations(store: Store, schemaText: string, dir = migrationsDir): Promise<string> {
  const engine = await openSchemaEngine(schemaPath, schemaText, store.migrationAdapterFactory());
  try {
    const list = await readMigrationList(dir);
    const result = await engine.diff({
      from: list.migrationDirectories.length ? { tag: "migrations", ...list } : { tag: "empty" },
      to: { tag: "schemaDatamodel", files: [{ path: schemaPath, content: schemaText }] },
      script: true,
      exitCode: true,
      filters: noFilters,
    });
    return result.exitCode === 2 ? (result.stdout ?? "") : "";
  } finally {
    engine.free();
  }
}
