// Prisma CLI configuration. `prisma generate` only checks that a schema engine path exists and
// never runs it, so we point it at node itself: nothing is downloaded. Migrations go through
// the WebAssembly schema engine (server/db/migrate.ts), not the CLI.
import { defineConfig } from "prisma/config";

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
process.env.PRISMA_HIDE_UPDATE_MESSAGE ??= "1";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
