// Before any test: the popup and SDK are built, the server is built to dist/ (tests that start
// servers or CLIs as child processes run that, as production does), test databases left behind
// by killed runs are dropped, and PostgreSQL and Redis are reachable (required under CI).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { dropStaleTestDatabases, postgresReachable } from "./postgres.js";
import { REDIS_URL, redisReachable } from "./redis.js";
import { ensureServerBuild, repoRoot } from "./server-build.js";

/** Older than this, a test database belongs to no running suite (a whole run takes minutes). */
const STALE_DATABASE_MS = 60 * 60_000;

/** The popup and SDK, then dist/ from the current sources (a no-op when nothing changed). */
async function buildAll() {
  const popup = await promisify(execFile)(process.execPath, ["--import", "tsx", "popup/build.ts"], { cwd: repoRoot });
  process.stdout.write(popup.stdout);
  const build = await ensureServerBuild();
  console.log(build.built ? `dist/ rebuilt for the tests in ${(build.ms / 1000).toFixed(1)} s` : "dist/ is up to date with the sources");
}

async function prepare() {
  await buildAll();

  if (await postgresReachable()) {
    const { dropped } = await dropStaleTestDatabases(STALE_DATABASE_MS).catch((e: Error) => {
      console.warn(`could not sweep old test databases: ${e.message}`);
      return { dropped: [] };
    });
    if (dropped.length) console.log(`dropped ${dropped.length} test database(s) left by earlier runs`);
  } else {
    const message = "PostgreSQL is not reachable at 127.0.0.1:5432: the postgres project's tests will fail (start it, see README).";
    if (process.env.CI === "true") throw new Error(message);
    console.warn(message);
  }
  if (!(await redisReachable())) {
    const message = `Redis is not reachable at ${REDIS_URL}: the health and multi-instance tests will fail (start it, see README).`;
    if (process.env.CI === "true") throw new Error(message);
    console.warn(message);
  }
}

// vitest runs this file once for the root and once per project, in one process: prepare once,
// and rebuild once per rerun in watch mode (sources may have changed since).
const key = Symbol.for("one-runtime.test.global-setup");
type State = { prepared?: Promise<void>; rebuilding?: Promise<void> };

export default async function setup(project: TestProject) {
  const state = ((globalThis as typeof globalThis & { [key]?: State })[key] ??= {});
  project.onTestsRerun(() => (state.rebuilding ??= buildAll().finally(() => (state.rebuilding = undefined))));
  await (state.prepared ??= prepare());
}
