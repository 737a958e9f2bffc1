// Before any test: the popup and SDK are built, and PostgreSQL and Redis are reachable (required under CI).
import { execFileSync } from "node:child_process";
import { postgresReachable } from "./postgres.js";
import { REDIS_URL, redisReachable } from "./redis.js";

export default async function setup() {
  execFileSync(process.execPath, ["--import", "tsx", "popup/build.ts"], { stdio: "inherit" });
  if (!(await postgresReachable())) {
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
