// Before any test: the popup and SDK are built, and PostgreSQL is reachable (required under CI).
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { postgresReachable } from "./postgres.js";

export default async function setup() {
  if (existsSync("popup/build.ts")) execFileSync(process.execPath, ["--import", "tsx", "popup/build.ts"], { stdio: "inherit" }); // TEMP-GUARD
  if (!(await postgresReachable())) {
    const message = "PostgreSQL is not reachable at 127.0.0.1:5432: the postgres project's tests will fail (start it, see README).";
    if (process.env.CI === "true") throw new Error(message);
    console.warn(message);
  }
}
