// Migrations on this project's store: a fresh database, an upgrade from the previous migration,
// schema.prisma in step with the SQL, a broken migration that must fail loudly and record
// nothing as finished, and `npm run migrate`.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, diffSchemaAgainstMigrations, migrationsDir, schemaPath } from "../server/db/migrations.js";
import type { Store } from "../server/db/store.js";
import { BUILT, nodeArgs, repoRoot } from "./support/server-build.js";
import { startTestServer } from "./support/server.js";
import { createStoreLocation, type StoreLocation } from "./support/store.js";

const run = promisify(execFile);
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const migrationNames = async () => (await readdir(migrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();

async function freshStore(): Promise<{ location: StoreLocation; store: Store }> {
  const location = await createStoreLocation();
  const store = await location.open();
  let closed = false;
  const close = store.close.bind(store);
  store.close = async () => {
    if (!closed) await close();
    closed = true;
  };
  cleanups.push(() => location.dispose(), () => store.close());
  return { location, store };
}

/** A migrations folder holding the lock file and the named migrations of prisma/migrations. */
async function migrationsFolder(names: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "one-runtime-migrations-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(join(migrationsDir, "migration_lock.toml"), join(dir, "migration_lock.toml"));
  for (const name of names) await cp(join(migrationsDir, name), join(dir, name), { recursive: true });
  return dir;
}

type Row = { migration_name: string; finished_at: Date | null; rolled_back_at: Date | null; logs: string | null };
const recorded = (store: Store) =>
  store.prisma.$queryRawUnsafe<Row[]>(`SELECT migration_name, finished_at, rolled_back_at, logs FROM _prisma_migrations ORDER BY migration_name`);
const finishedNames = async (store: Store) => (await recorded(store)).filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name);
const tableExists = async (store: Store, table: string) =>
  (await store.prisma.$queryRawUnsafe<{ t: string | null }[]>(`SELECT to_regclass('public."${table}"')::text AS t`))[0]!.t !== null;

// Each test opens stores and runs the schema engine (a fresh PGlite folder's initdb alone takes
// seconds): generous limits, for busy machines.
describe("migrations", { timeout: 180_000 }, () => {
  // Opening a fresh store is the slow part (a PGlite folder's initdb): the tests below share one
  // where they can, each bringing it to the state it needs first. The upgrade needs its own.
  let shared: Promise<{ location: StoreLocation; store: Store }> | undefined;
  const sharedStore = () => (shared ??= freshStore());

  it("a fresh database gets every migration, each recorded as finished; applying again does nothing", async () => {
    const names = await migrationNames();
    expect(names.length).toBeGreaterThan(0);
    const { store } = await sharedStore();
    expect(await applyMigrations(store)).toEqual(names);
    expect(await finishedNames(store)).toEqual(names);
    expect(await tableExists(store, "Organization")).toBe(true);
    expect(await applyMigrations(store)).toEqual([]);
    expect((await recorded(store)).length).toBe(names.length);
  });

  it("upgrades a database at the previous migration, keeping its data, and records every migration", async () => {
    const names = await migrationNames();
    const previous = names.slice(0, -1); // empty when there is only one migration: then "previous" is an empty database
    const { store } = await freshStore();
    expect(await applyMigrations(store, await migrationsFolder(previous))).toEqual(previous);
    expect(await finishedNames(store).catch(() => [])).toEqual(previous);
    const seeded = (await tableExists(store, "Organization"))
      ? await store.prisma.$executeRawUnsafe(`INSERT INTO "Organization" (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Before the upgrade')`)
      : 0;

    expect(await applyMigrations(store)).toEqual(names.slice(-1));
    expect(await finishedNames(store)).toEqual(names);
    if (seeded) {
      expect(await store.prisma.organization.findUnique({ where: { id: "00000000-0000-4000-8000-000000000001" } })).toMatchObject({ name: "Before the upgrade" });
    }
  });

  it("schema.prisma and the migrations describe the same database (run `npm run migration:new` when not)", async () => {
    const { store } = await sharedStore();
    const schema = await readFile(schemaPath, "utf8");
    expect(await diffSchemaAgainstMigrations(store, schema)).toBe("");
    // The check sees a difference when there is one (a diff that prints nothing is a known trap).
    const drifted = `${schema}\nmodel DriftProbe {\n  id Int @id\n}\n`;
    expect(await diffSchemaAgainstMigrations(store, drifted)).toContain('CREATE TABLE "DriftProbe"');
  });

  it("an empty migration file is refused before anything runs", async () => {
    const { store } = await sharedStore();
    await applyMigrations(store);
    const before = await recorded(store);
    const dir = await migrationsFolder(await migrationNames());
    await mkdir(join(dir, "99991231235959_empty"));
    await writeFile(join(dir, "99991231235959_empty", "migration.sql"), "\n");
    await expect(applyMigrations(store, dir)).rejects.toThrow(/99991231235959_empty is empty/);
    expect(await recorded(store)).toEqual(before);
  });

  it("a broken migration fails the apply, records nothing as finished, leaves nothing half-made, and stops start-up", async () => {
    const names = await migrationNames();
    const { location, store } = await sharedStore();
    await applyMigrations(store);
    const withBroken = await migrationsFolder(names);
    const broken = "99991231235959_broken";
    await mkdir(join(withBroken, broken));
    await writeFile(join(withBroken, broken, "migration.sql"), `CREATE TABLE "BrokenProbe" (id INT);\nSELEC 1;\n`);

    await expect(applyMigrations(store, withBroken)).rejects.toThrow(/SELEC|syntax/i);
    const row = (await recorded(store)).find((r) => r.migration_name === broken);
    expect(row?.finished_at ?? null).toBeNull();
    expect(await finishedNames(store)).toEqual(names);
    expect(await tableExists(store, "BrokenProbe")).toBe(false);

    // The failure is recorded: a server refuses to start on this database until an operator
    // resolves it, rather than running against a half-migrated schema.
    await store.close();
    await expect(startTestServer({ dataDir: location.dataDir, databaseUrl: location.databaseUrl })).rejects.toThrow(
      /found failed migrations in the database: 99991231235959_broken\. Fix the migration, run `npm run migrate -- resolve 99991231235959_broken`/,
    );
  });
});

describe("npm run migrate", { timeout: 240_000 }, () => {
  it("resolve marks a failed migration rolled back (and nothing else), so the fixed migration applies on the next run", async () => {
    const location = await createStoreLocation();
    cleanups.push(() => location.dispose());
    const names = await migrationNames();
    const broken = "99991231235959_broken";
    const withBroken = await migrationsFolder(names);
    await mkdir(join(withBroken, broken));
    await writeFile(join(withBroken, broken, "migration.sql"), `CREATE TABLE "ResolvedProbe" (id INT);\nSELEC 1;\n`);
    let store = await location.open();
    await expect(applyMigrations(store, withBroken)).rejects.toThrow(`Migration ${broken} failed`);
    await expect(applyMigrations(store, withBroken)).rejects.toThrow(/found failed migrations/);
    await store.close();

    const env = { ...process.env, DATABASE_URL: "", ...location.env, ONE_RUNTIME_LOG_LEVEL: "silent" };
    const migrate = (...args: string[]) =>
      run(process.execPath, [...nodeArgs(BUILT.migrateCli), ...args], { cwd: repoRoot, env, timeout: 120_000 }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    // Refused: no name, a name that never ran, an applied migration.
    expect(await migrate("resolve")).toMatchObject({ code: 2, stderr: expect.stringContaining("npm run migrate -- resolve <name>") });
    expect(await migrate("resolve", "20000101000000_never")).toMatchObject({ code: 1, stderr: "Migration 20000101000000_never is not a failed migration (it never ran here): nothing to resolve\n" });
    expect(await migrate("resolve", names[0]!)).toMatchObject({ code: 1, stderr: `Migration ${names[0]} is not a failed migration (it is applied): nothing to resolve\n` });

    const resolved = await migrate("resolve", broken);
    expect(resolved, resolved.stderr).toMatchObject({ code: 0 });
    expect(resolved.stdout).toContain(`marked ${broken} as rolled back`);
    expect(await migrate("resolve", broken)).toMatchObject({ code: 1, stderr: expect.stringContaining("it is already rolled back") });

    // Fixed, it applies on the next run, and the history keeps the failed attempt.
    await writeFile(join(withBroken, broken, "migration.sql"), `CREATE TABLE "ResolvedProbe" (id INT);\nSELECT 1;\n`);
    store = await location.open();
    try {
      expect(await applyMigrations(store, withBroken)).toEqual([broken]);
      expect(await finishedNames(store)).toEqual([...names, broken]);
      expect(await tableExists(store, "ResolvedProbe")).toBe(true);
      expect((await recorded(store)).filter((r) => r.migration_name === broken).map((r) => [r.finished_at !== null, r.rolled_back_at !== null])).toEqual(
        expect.arrayContaining([
          [false, true],
          [true, false],
        ]),
      );
    } finally {
      await store.close();
    }
  });

  it("applies pending migrations, then reports the store up to date", async () => {
    const location = await createStoreLocation();
    cleanups.push(() => location.dispose());
    const env = { ...process.env, DATABASE_URL: "", ...location.env, ONE_RUNTIME_LOG_LEVEL: "silent" };
    // The built CLI (dist/, made by the global setup), as a deployment runs it.
    const migrate = () => run(process.execPath, nodeArgs(BUILT.migrateCli), { cwd: repoRoot, env, timeout: 120_000 });
    const first = await migrate();
    expect(first.stdout.trim()).toBe(`applied: ${(await migrationNames()).join(", ")}`);
    const second = await migrate();
    expect(second.stdout.trim()).toBe("already up to date");
  });
});
