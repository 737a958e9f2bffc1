// Reads prisma/migrations into the shape the schema engine takes, and applies it.
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { MigrationList } from "@prisma/schema-engine-wasm";
import { openSchemaEngine } from "./schema-engine.js";
import type { Store } from "./store.js";

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

/**
 * Applies every migration not yet recorded; returns the names it applied. Throws on failure.
 * Under the store's migration lock: instances starting together migrate one at a time.
 */
export async function applyMigrations(store: Store, dir = migrationsDir): Promise<string[]> {
  return store.withMigrationLock(() => applyMigrationsLocked(store, dir));
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
