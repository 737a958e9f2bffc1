// Starts the real server in process on port 0, on the store this test project runs on
// (ONE_RUNTIME_TEST_STORE: pglite, the default, or postgres), with its own data folder or
// database, and helpers to call it like a client would.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { runAdminCommand, type AdminCommand } from "../../server/admin/commands.js";
import { startServer, type RunningServer } from "../../server/app.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logger.js";
import { createTestDatabase } from "./postgres.js";

export const testStore = (process.env.ONE_RUNTIME_TEST_STORE ?? "pglite") as "pglite" | "postgres";

export type GraphQLResponse<T = any> = { status: number; data?: T; errors?: { message: string; extensions?: Record<string, any> }[] };

export type TestServer = RunningServer & {
  dataDir: string;
  databaseUrl: string | undefined;
  /** Every log line the server wrote, as text. */
  logs: string[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, opts?: { token?: string; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  admin(command: AdminCommand): Promise<unknown>;
  createOrganization(name?: string): Promise<{ organizationId: string; apiKey: string; apiKeyId: string }>;
  createSession(apiKey: string, input: Record<string, unknown>): Promise<{ sessionToken: string; sessionId: string }>;
  stop(): Promise<void>;
};

export async function startTestServer(
  opts: { env?: Record<string, string>; dataDir?: string; databaseUrl?: string; webSocketPingIntervalMs?: number; egressLookup?: LookupFunction } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), "one-runtime-test-")));
  const db = opts.databaseUrl || testStore !== "postgres" ? undefined : await createTestDatabase();
  const databaseUrl = opts.databaseUrl ?? db?.url;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    ONE_RUNTIME_DATA_DIR: dataDir,
    ONE_RUNTIME_LOG_LEVEL: "debug",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, ONE_RUNTIME_ENCRYPTION_KEY: randomBytes(32).toString("base64") } : {}),
    ...opts.env,
  });
  const running = await startServer(config, { logger: createLogger(config.logLevel, sink), webSocketPingIntervalMs: opts.webSocketPingIntervalMs, egressLookup: opts.egressLookup });

  const gql: TestServer["gql"] = async (query, variables, o = {}) => {
    const res = await fetch(`${running.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json",
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...o.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as Omit<GraphQLResponse, "status">;
    return { status: res.status, ...body };
  };

  return Object.assign(running, {
    dataDir,
    databaseUrl,
    logs,
    gql,
    /** An operator's command, run as this server's admin channel runs it (revocations announced). */
    admin(command: AdminCommand) {
      return runAdminCommand(running.services.prisma, command, { vault: running.services.vault, onApiKeyRevoked: running.services.apiKeys.revoked });
    },
    async createOrganization(name = "Test org") {
      const r = (await runAdminCommand(running.services.prisma, { command: "create-org", name }, { onApiKeyRevoked: running.services.apiKeys.revoked })) as {
        organization: { id: string };
        apiKey: { id: string; key: string };
      };
      return { organizationId: r.organization.id, apiKey: r.apiKey.key, apiKeyId: r.apiKey.id };
    },
    async createSession(apiKey: string, input: Record<string, unknown>) {
      const r = await gql(
        `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken session { id } } }`,
        { input },
        { token: apiKey },
      );
      if (r.errors) throw new Error(`createHostedConnectionSession failed: ${JSON.stringify(r.errors)}`);
      return { sessionToken: r.data.createHostedConnectionSession.sessionToken, sessionId: r.data.createHostedConnectionSession.session.id };
    },
    async stop() {
      await running.close();
      await db?.drop();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  });
}
