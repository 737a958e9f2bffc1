// `npm run admin` as an operator runs it, a child process on this project's store: with no server
// running (it opens the store itself), and while a server runs (on the embedded store it must
// not open the folder the server holds, and goes through the server's local admin channel).
// The children run the built CLI (dist/, built by the global setup) with plain node.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN_HEADER } from "../server/http/admin-channel.js";
import { ADMIN_PATH } from "../server/http/routes.js";
import type { LockInfo } from "../server/db/data-dir-lock.js";
import { BUILT, nodeArgs, repoRoot } from "./support/server-build.js";
import { REDIS_URL } from "./support/redis.js";
import { startTestServer, testStore, type TestServer } from "./support/server.js";
import { createStoreLocation, type StoreLocation } from "./support/store.js";

const execFileAsync = promisify(execFile);
// Each child process loads PGlite's and the schema engine's WebAssembly: a second or two each,
// and much more on a busy machine.
const CHILD_TIMEOUT_MS = 120_000;
const KEY = /ort_(live|test)_[A-Za-z0-9_-]{43}/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let location: StoreLocation;
let server: TestServer | undefined;

beforeAll(async () => {
  location = await createStoreLocation();
});
afterAll(async () => {
  await server?.stop();
  await location?.dispose();
});

type Run = { code: number; stdout: string; stderr: string };
async function cli(entry: typeof BUILT.adminCli | typeof BUILT.migrateCli, args: string[]): Promise<Run> {
  const env = { ...process.env, DATABASE_URL: "", ONE_RUNTIME_DATA_DIR: "", ...location.env, ONE_RUNTIME_LOG_LEVEL: "silent", ...(testStore === "postgres" ? { REDIS_URL } : {}) };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [...nodeArgs(entry), ...args], { cwd: repoRoot, env, timeout: CHILD_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw e;
    return { code: err.code, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}
const admin = (...args: string[]) => cli(BUILT.adminCli, args);
async function adminJson<T = any>(...args: string[]): Promise<T> {
  const r = await admin(...args, "--json");
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout) as T;
}

/** The embedded folder's lock as the CLI reads it (readLock ignores our own process, the server's here). */
const lockFile = async () => JSON.parse(await readFile(join(location.dataDir, "server.lock"), "utf8")) as LockInfo;
const viewer = (s: TestServer, key: string) => s.gql(`{ viewer { organization { id name } } }`, {}, { token: key });

describe("with no server running", { timeout: 3 * CHILD_TIMEOUT_MS }, () => {
  let acme: { id: string; key: string };
  let ciKey: { id: string; key: string };

  it("create-org prints the organization's id and its first API key", async () => {
    const r = await admin("create-org", "--name", "Acme");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Organization Acme");
    const id = new RegExp(`id: (${UUID.source})`).exec(r.stdout)?.[1];
    const key = KEY.exec(r.stdout)?.[0];
    expect(id).toBeDefined();
    expect(key).toMatch(/^ort_live_/);
    acme = { id: id!, key: key! };
  });

  it("create-api-key, list-api-keys and revoke-api-key manage an organization's keys (--json)", async () => {
    const created = await adminJson("create-api-key", "--org", acme.id, "--name", "ci", "--test");
    expect(created.apiKey).toMatchObject({ organizationId: acme.id, name: "ci", environment: "TEST", key: expect.stringMatching(/^ort_test_/) });
    ciKey = { id: created.apiKey.id, key: created.apiKey.key };

    const revoked = await adminJson("revoke-api-key", "--id", ciKey.id);
    expect(revoked.apiKey).toMatchObject({ id: ciKey.id, revokedAt: expect.any(String) });

    const listed = await adminJson("list-api-keys", "--org", acme.id);
    expect(listed.apiKeys.map((k: { name: string; revokedAt: string | null }) => [k.name, k.revokedAt !== null])).toEqual([
      ["default", false],
      ["ci", true],
    ]);
    // A listing shows prefixes only: never a key, never a hash.
    const text = JSON.stringify(listed);
    expect(text).not.toContain(acme.key);
    expect(text).not.toContain(ciKey.key);
    expect(text).not.toMatch(/"hash"|"key"/);
    for (const k of listed.apiKeys) expect(acme.key.startsWith(k.prefix) || ciKey.key.startsWith(k.prefix)).toBe(true);
  });

  it("a server started afterwards on the same store accepts the keys made, and refuses the one revoked", async () => {
    // On PostgreSQL the CLI revokes in its own process: Redis carries the news to the server.
    server = await startTestServer({ dataDir: location.dataDir, databaseUrl: location.databaseUrl, env: testStore === "postgres" ? { REDIS_URL } : {} });
    expect((await viewer(server, acme.key)).data.viewer.organization).toEqual({ id: acme.id, name: "Acme" });
    const refused = await viewer(server, ciKey.key);
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("while a server runs on the same store", { timeout: 2 * CHILD_TIMEOUT_MS }, () => {
  it("create-org and revoke-api-key take effect on the running server at once", async () => {
    const running = server!;
    const before = running.logs.filter((l) => l.includes(`"path":"${ADMIN_PATH}"`)).length;
    const created = await adminJson("create-org", "--name", "Beta");
    expect(created.apiKey.key).toMatch(KEY);
    expect((await viewer(running, created.apiKey.key)).data.viewer.organization).toEqual({ id: created.organization.id, name: "Beta" });

    await adminJson("revoke-api-key", "--id", created.apiKey.id, "--org", created.organization.id);
    expect((await viewer(running, created.apiKey.key)).status).toBe(401);

    const viaChannel = running.logs.filter((l) => l.includes(`"path":"${ADMIN_PATH}"`)).length - before;
    if (testStore === "pglite") {
      // Both commands went through the server: the CLI never opened the folder the server holds.
      expect(viaChannel).toBe(2);
      expect((await lockFile()).role).toBe("server");
    } else {
      // On PostgreSQL any number of processes share the database: the CLI connects itself.
      expect(viaChannel).toBe(0);
    }
  });

  it("reports bad input with a message and a failing exit code", async () => {
    const [bad, usage] = await Promise.all([admin("create-api-key", "--org", "not-a-uuid"), admin("create-org")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/organizationId/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("missing --name");
    expect(usage.stderr).toContain("usage: npm run admin");
  });

  it("an unknown flag prints the usage and exits 2, without running anything", async () => {
    const r = await admin("list-orgs", "--organisation", "x");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--organisation");
    expect(r.stderr).toContain("usage: npm run admin");
  });

  it("list-api-keys for an unknown organization is NOT_FOUND with a failing exit code, not an empty list", async () => {
    const r = await admin("list-api-keys", "--org", "00000000-0000-4000-8000-00000000dead", "--json");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe("Organization not found");
  });

  it.runIf(testStore === "pglite")("npm run migrate refuses to open the folder the server holds", async () => {
    const r = await cli(BUILT.migrateCli, []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("in use by a running One Runtime server");
    // And the server is unharmed.
    expect((await server!.gql(`{ __typename }`)).status).toBe(200);
  });

  it.runIf(testStore === "pglite")("the admin channel answers only a caller holding the server's token", async () => {
    const url = `${server!.url}${ADMIN_PATH}`;
    const body = JSON.stringify({ command: "list-orgs" });
    expect((await fetch(url, { method: "POST", body })).status).toBe(404);
    expect((await fetch(url, { method: "POST", body, headers: { [ADMIN_TOKEN_HEADER]: "wrong" } })).status).toBe(404);
    const lock = await lockFile();
    expect((await fetch(url, { method: "GET", headers: { [ADMIN_TOKEN_HEADER]: lock!.adminToken! } })).status).toBe(404);
    const ok = await fetch(url, { method: "POST", body, headers: { [ADMIN_TOKEN_HEADER]: lock!.adminToken! } });
    expect(ok.status).toBe(200);
    expect((await ok.json()).result.organizations.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(["Acme", "Beta"]));
  });
});
