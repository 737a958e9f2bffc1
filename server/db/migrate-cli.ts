// `npm run migrate`: applies pending migrations to the configured store and exits. On the
// embedded store it takes the data folder's lock (a running server has already migrated).
import { loadConfig } from "../config.js";
import { acquireDataDirLock } from "./data-dir-lock.js";
import { applyMigrations } from "./migrations.js";
import { openStore } from "./store.js";

const config = loadConfig();
try {
  const lock = config.databaseUrl ? undefined : await acquireDataDirLock(config.dataDir, "cli");
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    const applied = await applyMigrations(store);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "already up to date");
  } finally {
    await store.close();
    await lock?.release();
  }
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
