// `npm run migration:new -- <name>`: writes the SQL that takes the existing migrations to the
// current schema.prisma as a new migration folder. Diffs on in-memory PGlite, so it needs no server.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { diffSchemaAgainstMigrations, migrationsDir, schemaPath } from "../server/db/migrations.js";
import { openStore } from "../server/db/store.js";

const name = (process.argv[2] ?? "").trim();
if (!/^[a-z0-9_]{1,60}$/.test(name)) {
  console.error("usage: npm run migration:new -- <name in snake_case>");
  process.exit(2);
}
const scratch = await mkdtemp(join(tmpdir(), "one-runtime-diff-"));
const store = await openStore({ dataDir: scratch });
try {
  const sql = await diffSchemaAgainstMigrations(store, await readFile(schemaPath, "utf8"));
  if (!sql.trim()) {
    console.log("schema.prisma matches the migrations: nothing to write.");
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const folder = join(migrationsDir, `${stamp}_${name}`);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "migration.sql"), sql);
    await writeFile(join(migrationsDir, "migration_lock.toml"), '# Written by npm run migration:new.\nprovider = "postgresql"\n');
    console.log(`wrote ${folder}/migration.sql (${sql.length} bytes)`);
  }
} finally {
  await store.close();
  await rm(scratch, { recursive: true, force: true });
}
