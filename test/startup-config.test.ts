// Start-up refuses a configuration that cannot work before it touches the database: the built
// server (as `npm run start:prod` runs it) exits 1 with ONE line on stderr and no stack, and the
// store it was pointed at is left as it was (a fresh PostgreSQL database has no table, a fresh
// data folder is not even created).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "./support/postgres.js";
import { BUILT, nodeArgs, repoRoot } from "./support/server-build.js";
import { startTestServer, testStore } from "./support/server.js";
import { freePort, newEncryptionKey, spawnInstance, START_TIMEOUT_MS } from "./support/instances.js";
import { createStoreLocation, type StoreLocation } from "./support/store.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

type Exit = { code: number | null; stdout: string; stderr: string; started: boolean };

/**
 * Runs the built server until it exits. One that starts after all (the refusal this test expects
 * did not happen) is killed once it says where it listens, and reported as `started`.
 */
function runServer(env: Record<string, string>): Promise<Exit> {
  const proc = spawn(process.execPath, nodeArgs(BUILT.server), {
    cwd: repoRoot,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ONE_RUNTIME_LOG_LEVEL: "info", ONE_RUNTIME_DEV_ORG: "false", DATABASE_URL: "", ONE_RUNTIME_ENCRYPTION_KEY: "", ONE_RUNTIME_CATALOG_DIR: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let started = false;
  proc.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
    if (!started && /One Runtime is running at/.test(stdout)) {
      started = true;
      proc.kill("SIGKILL");
    }
  });
  proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill("SIGKILL"), START_TIMEOUT_MS);
  return new Promise((resolve) =>
    proc.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, started });
    }),
  );
}

/** Exit 1, nothing but one line on stderr, matching `line`, and no stack or library noise. */
function expectOneLineRefusal(exit: Exit, line: RegExp) {
  expect(exit.started, `the server started:\n${exit.stdout}`).toBe(false);
  expect(exit.code).toBe(1);
  const lines = exit.stderr.split("\n").filter(Boolean);
  expect(lines, exit.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(exit.stderr).not.toMatch(/^\s+at /m);
  expect(exit.stderr).not.toMatch(/Please check your implementation/);
}

/** A store of this project's kind that must stay untouched: its check says so afterwards. */
async function untouchedStore(): Promise<{ env: Record<string, string>; expectUntouched(): Promise<void> }> {
  if (testStore === "postgres") {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    return {
      env: { DATABASE_URL: db.url },
      async expectUntouched() {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          const { rows } = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`);
          expect(rows.map((r) => r.table_name)).toEqual([]);
        } finally {
          await client.end();
        }
      },
    };
  }
  const parent = await mkdtemp(join(tmpdir(), "one-runtime-refused-"));
  cleanups.push(() => rm(parent, { recursive: true, force: true }));
  const dataDir = join(parent, "data");
  return {
    env: { ONE_RUNTIME_DATA_DIR: dataDir },
    async expectUntouched() {
      expect(await stat(dataDir).then(() => "created", () => "absent")).toBe("absent");
    },
  };
}

const key = () => newEncryptionKey();

describe("start-up refuses a bad configuration before touching the store", { timeout: 2 * START_TIMEOUT_MS }, () => {
  it("a key id given twice in ONE_RUNTIME_ENCRYPTION_KEY", async () => {
    const store = await untouchedStore();
    const exit = await runServer({ ...store.env, ONE_RUNTIME_ENCRYPTION_KEY: `k1:${key()},k1:${key()}` });
    expectOneLineRefusal(exit, /^Invalid configuration: ONE_RUNTIME_ENCRYPTION_KEY: key id "k1" is given twice/);
    await store.expectUntouched();
  });

  it("a key that is not 32 bytes, named by its id and never quoted", async () => {
    const store = await untouchedStore();
    const short = randomBytes(16).toString("base64");
    const exit = await runServer({ ...store.env, ONE_RUNTIME_ENCRYPTION_KEY: `k2:${key()},k1:${short}` });
    expectOneLineRefusal(exit, /^Invalid configuration: ONE_RUNTIME_ENCRYPTION_KEY: key "k1" is not 32 bytes/);
    expect(exit.stderr).not.toContain(short);
    await store.expectUntouched();
  });

  it("a missing ONE_RUNTIME_CATALOG_DIR, and one that holds no catalog", async () => {
    const store = await untouchedStore();
    const key1: Record<string, string> = testStore === "postgres" ? { ONE_RUNTIME_ENCRYPTION_KEY: key() } : {};
    const missing = join(tmpdir(), `one-runtime-no-such-catalog-${randomBytes(4).toString("hex")}`);
    expectOneLineRefusal(await runServer({ ...store.env, ...key1, ONE_RUNTIME_CATALOG_DIR: missing }), new RegExp(`^ONE_RUNTIME_CATALOG_DIR: folder ${missing} does not exist$`));
    const empty = await mkdtemp(join(tmpdir(), "one-runtime-empty-catalog-"));
    cleanups.push(() => rm(empty, { recursive: true, force: true }));
    await mkdir(join(empty, "integration")); // a typo'd layout
    expectOneLineRefusal(await runServer({ ...store.env, ...key1, ONE_RUNTIME_CATALOG_DIR: empty }), /^ONE_RUNTIME_CATALOG_DIR: folder .* has neither categories\.json nor integrations\//);
    await store.expectUntouched();
  });

  it("a malformed DATABASE_URL: no host, no database name, another scheme; the URL (with its password) never printed", async () => {
    for (const [url, problem] of [
      ["postgresql:/x", "no host"],
      ["postgresql://user:pw-SECRET@db.example.com:5432", "no database name"],
      ["postgresql://user:pw-SECRET@db.example.com:5432/", "no database name"],
      ["mysql://user:pw-SECRET@db.example.com/app", "the scheme must be postgresql:// or postgres://"],
    ] as const) {
      const exit = await runServer({ DATABASE_URL: url, ONE_RUNTIME_ENCRYPTION_KEY: key() });
      expectOneLineRefusal(exit, new RegExp(`^Invalid configuration: DATABASE_URL: ${problem.replace(/[/.]/g, "\\$&")} \\(expected postgresql://`));
      expect(exit.stderr).not.toContain("pw-SECRET");
    }
  });

  it.runIf(testStore === "postgres")("DATABASE_URL without ONE_RUNTIME_ENCRYPTION_KEY, before migrating a fresh database", async () => {
    const store = await untouchedStore();
    const exit = await runServer({ ...store.env, ONE_RUNTIME_ENCRYPTION_KEY: "" });
    expectOneLineRefusal(exit, /^ONE_RUNTIME_ENCRYPTION_KEY is required when DATABASE_URL is set/);
    await store.expectUntouched();
  });

  it("a port in use: one clear line, not graphql-ws's 'Please check your implementation'", async () => {
    const store = await untouchedStore();
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", () => resolve()));
    cleanups.push(() => new Promise((resolve) => holder.close(resolve)));
    const exit = await runServer({ ...store.env, PORT: String(port), ...(testStore === "postgres" ? { ONE_RUNTIME_ENCRYPTION_KEY: key() } : {}) });
    expectOneLineRefusal(exit, new RegExp(`^Cannot listen: port ${port} on 127\\.0\\.0\\.1 is already in use`));
    await store.expectUntouched();
  });

  it("a HOST that is not an address here", async () => {
    const store = await untouchedStore();
    const extra: Record<string, string> = testStore === "postgres" ? { ONE_RUNTIME_ENCRYPTION_KEY: key() } : {};
    expectOneLineRefusal(await runServer({ ...store.env, ...extra, HOST: "no-such-host.invalid" }), /^Cannot listen: HOST no-such-host\.invalid does not resolve to an address$/);
    expectOneLineRefusal(await runServer({ ...store.env, ...extra, HOST: "192.0.2.1" }), /^Cannot listen: HOST 192\.0\.2\.1 is not an address of this machine$/);
    await store.expectUntouched();
  });
});

describe("a database that cannot be used is one line, without a stack", { timeout: 2 * START_TIMEOUT_MS }, () => {
  it("nothing listening where DATABASE_URL points", async () => {
    const port = await freePort();
    const exit = await runServer({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/one_runtime`, ONE_RUNTIME_ENCRYPTION_KEY: key() });
    expectOneLineRefusal(exit, new RegExp(`^Cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}: connection refused$`));
  });

  it.runIf(testStore === "postgres")("a database that does not exist on a reachable server", async () => {
    const db = await createTestDatabase();
    await db.drop();
    const exit = await runServer({ DATABASE_URL: db.url, ONE_RUNTIME_ENCRYPTION_KEY: key() });
    expectOneLineRefusal(exit, /^PostgreSQL refused the connection: database "one_runtime_test_\w+" does not exist$/);
  });
});

/** Every table of the store, rows and all, as text: to show a refused start changed nothing. */
async function dumpStore(location: StoreLocation): Promise<string> {
  const store = await location.open();
  try {
    const tables = await store.prisma.$queryRawUnsafe<{ name: string }[]>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
    const dumps = [];
    for (const { name } of tables) {
      const [row] = await store.prisma.$queryRawUnsafe<{ rows: string | null }[]>(`SELECT json_agg(t ORDER BY t::text)::text AS rows FROM "${name}" t`);
      dumps.push(`${name}: ${row?.rows ?? "[]"}`);
    }
    return dumps.join("\n");
  } finally {
    await store.close();
  }
}

describe("a key that cannot decrypt the stored data is refused, and nothing is written", { timeout: 4 * START_TIMEOUT_MS }, () => {
  const OLD = key();
  let location: StoreLocation;

  it("another key under the id the data uses; a key without an id (so another id); and, with no check recorded, a key that opens nothing", async () => {
    location = await createStoreLocation();
    cleanups.push(() => location.dispose());
    const first = await startTestServer({ dataDir: location.dataDir, databaseUrl: location.databaseUrl, env: { ONE_RUNTIME_ENCRYPTION_KEY: `k1:${OLD}` } });
    const org = await first.createOrganization("Keyed org");
    const { sessionToken } = await first.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "keyed" });
    const done = await first.gql(`mutation { completeHostedConnectionSession(input: { credentials: [{ key: "apiKey", value: "sk-proj-keyed-0123456789abcdef0123" }] }) { status } }`, {}, { token: sessionToken });
    expect(done.data.completeHostedConnectionSession.status).toBe("CONNECTED");
    await first.stop();
    const before = await dumpStore(location);
    expect(before).toMatch(/EncryptionKeyCheck: \[\{"keyId":"k1"/);

    const other = key();
    expectOneLineRefusal(await runServer({ ...location.env, ONE_RUNTIME_ENCRYPTION_KEY: `k1:${other}` }), /^ONE_RUNTIME_ENCRYPTION_KEY: key k1 is not the key this database knows under that id/);
    expect(await dumpStore(location)).toBe(before);

    expectOneLineRefusal(await runServer({ ...location.env, ONE_RUNTIME_ENCRYPTION_KEY: other }), /^ONE_RUNTIME_ENCRYPTION_KEY has no key k1 \(1 stored\), which stored credentials are encrypted with/);
    expect(await dumpStore(location)).toBe(before);

    // A database from before check values: the stored ciphertexts decide.
    const store = await location.open();
    await store.prisma.encryptionKeyCheck.deleteMany();
    await store.close();
    const unchecked = await dumpStore(location);
    expectOneLineRefusal(await runServer({ ...location.env, ONE_RUNTIME_ENCRYPTION_KEY: `k1:${other}` }), /^ONE_RUNTIME_ENCRYPTION_KEY: key k1 does not decrypt the credentials stored under that id/);
    expect(await dumpStore(location)).toBe(unchecked);
  });

  it("a rotation (a new newest key, the old one kept) starts, and records the new key's check", async () => {
    const instance = await spawnInstance("rotation", { ...location.env, ONE_RUNTIME_ENCRYPTION_KEY: `k2:${key()},k1:${OLD}` });
    expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
    expect(await instance.stop("SIGTERM")).toMatchObject({ code: 0 });
    const store = await location.open();
    try {
      expect((await store.prisma.encryptionKeyCheck.findMany({ orderBy: { keyId: "asc" } })).map((c) => c.keyId)).toEqual(["k1", "k2"]);
    } finally {
      await store.close();
    }
  });
});
