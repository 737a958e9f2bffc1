// The same suite runs on both stores: the embedded PGlite always, PostgreSQL as its own project.
import { defineConfig } from "vitest/config";

export default defineConfig({
  // graphql 16 ships ESM (.mjs, via "module") and CJS (.js, via "main"). Node loads the CJS one
  // for our dependencies (Pothos, yoga); vite would hand our own files the ESM one: two realms.
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    include: ["test/**/*.test.ts"],
    // Limits catch hangs, never slowness: a machine busy with other work must make the suite
    // slower, not red. Child processes get up to 120 s to start (test/support/instances.ts), and
    // a hook may start several.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // expect.poll waits for a condition; its default (1 s) is a speed assertion on a busy machine.
    expect: { poll: { timeout: 30_000, interval: 50 } },
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    // A worker runs its files one after another in one process and imports the server's modules
    // (Prisma's client, PGlite, the schema) once, not once per file: a quarter of the suite's
    // time went to that. Files still run their own top-level code and hooks; what they share is
    // what they import, so a test must not change an imported module (vi.mock, vi.spyOn on a
    // server export) and must restore what it changes in process.env.
    isolate: false,
    projects: [
      { extends: true, test: { name: "pglite", env: { ONE_RUNTIME_TEST_STORE: "pglite" } } },
      { extends: true, test: { name: "postgres", env: { ONE_RUNTIME_TEST_STORE: "postgres" } } },
    ],
  },
});
