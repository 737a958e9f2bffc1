// A fresh, empty store of this test project's kind (a PGlite data folder, or a PostgreSQL
// database), opened directly, for tests below the server: migrations, catalog sync. Also the
// environment a child process (admin CLI, migrate) needs to reach the same store.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Store } from "../../server/db/store.js";
import { createTestDatabase } from "./postgres.js";
import { testStore } from "./server.js";

export type StoreLocation = {
  /** Always a fresh folder; the store itself lives there only on PGlite. */
  dataDir: string;
  databaseUrl: string | undefined;
  /** What a child process or startTestServer needs to use this same store. */
  env: Record<string, string>;
  open(): Promise<Store>;
  dispose(): Promise<void>;
};

export async function createStoreLocation(): Promise<StoreLocation> {
  const dataDir = await mkdtemp(join(tmpdir(), "one-runtime-store-"));
  const db = testStore === "postgres" ? await createTestDatabase() : undefined;
  return {
    dataDir,
    databaseUrl: db?.url,
    env: db ? { DATABASE_URL: db.url } : { ONE_RUNTIME_DATA_DIR: dataDir },
    open: () => openStore({ dataDir, databaseUrl: db?.url, poolSize: 2 }),
    async dispose() {
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
