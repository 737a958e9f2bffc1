// `npm run migrate`: applies pending migrations to the configured store and exits.
// `npm run migrate -- resolve <name>`: marks a failed migration as rolled back, so the next
// apply (or start) runs it again once its file is fixed. On the embedded store both take the
// data folder's lock (a running server has already migrated, and owns the folder).
import { loadConfig } from "../config.js";
import { acquireDataDirLock } from "./data-dir-lock.js";
import { applyMigrations, resolveFailedMigration } from "./migrations.js";
import { openStore } from "./store.js";

const USAGE = `usage: npm run migrate                     apply pending migrations
       npm run migrate -- resolve <name>   mark a failed migration as rolled back (fix it first)`;

const args = process.argv.slice(2);
const resolving = args[0] === "resolve";
if (resolving ? args.length !== 2 || !/^[A-Za-z0-9_.-]{1,200}$/.test(args[1]!) : args.length !== 0) {
  console.error(`${args.length ? `unexpected arguments: ${args.join(" ")}` : "missing arguments"}\n\n${USAGE}`);
  process.exit(2);
}

try {
  const config = loadConfig();
  const lock = config.databaseUrl ? undefined : await acquireDataDirLock(config.dataDir, "cli");
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    if (resolving) {
      await resolveFailedMigration(store, args[1]!);
      console.log(`marked ${args[1]} as rolled back: the next \`npm run migrate\` or start applies it again, as its file now reads`);
    } else {
      const applied = await applyMigrations(store);
      console.log(applied.length ? `applied: ${applied.join(", ")}` : "already up to date");
    }
  } finally {
    await store.close();
    await lock?.release();
  }
} catch (e) {
  console.error((e as Error).message.split("\n")[0]);
  process.exit(1);
}
