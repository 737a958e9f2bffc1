// The same suite runs on both stores: the embedded PGlite always, PostgreSQL as its own project.
import { defineConfig } from "vitest/config";

export default defineConfig({
  // graphql 16 ships ESM (.mjs, via "module") and CJS (.js, via "main"). Node loads the CJS one
  // for our dependencies (Pothos, yoga); vite would hand our own files the ESM one: two realms.
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "pglite", env: { ONE_RUNTIME_TEST_STORE: "pglite" } } },
      { extends: true, test: { name: "postgres", env: { ONE_RUNTIME_TEST_STORE: "postgres" } } },
    ],
  },
});
