// A restart on the same data folder (embedded) or database (PostgreSQL) keeps everything: keys,
// connections and their credentials. And the embedded development organization's key is shown
// again after a restart only while it is that organization's only key.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, testStore, type TestServer } from "./support/server.js";
import { createStoreLocation } from "./support/store.js";

const OPENAI_KEY = "sk-proj-restartrestartrestartrestart0123";
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** Starts servers one after another on one store; the last one is stopped after the suite. */
function onOneStore(location: { dataDir: string; databaseUrl: string | undefined }, env: Record<string, string> = {}) {
  let current: TestServer | undefined;
  cleanups.push(() => current?.stop() ?? Promise.resolve());
  return {
    async start(more: Record<string, string> = {}) {
      await current?.stop();
      current = undefined;
      current = await startTestServer({ dataDir: location.dataDir, databaseUrl: location.databaseUrl, env: { ...env, ...more } });
      return current;
    },
  };
}

// Several server starts per test, each opening the store and checking migrations.
describe("a restart", { timeout: 180_000 }, () => {
  it("keeps organizations, API keys (active and revoked), connections and their credentials, and adds no development organization", async () => {
    const location = await createStoreLocation();
    cleanups.push(() => location.dispose());
    // The same encryption key across starts, as a deployment has (embedded: the dev key in the folder).
    const env: Record<string, string> = testStore === "postgres" ? { ONE_RUNTIME_ENCRYPTION_KEY: randomBytes(32).toString("base64") } : {};
    const servers = onOneStore(location, env);

    let server = await servers.start({ ONE_RUNTIME_DEV_ORG: "false" });
    const org = await server.createOrganization("Durable Co");
    const revoked = await server.createOrganization("Revoked Co");
    await server.admin({ command: "revoke-api-key", id: revoked.apiKeyId });
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "u-restart", suggestedConnectionName: "Kept" });
    const done = await server.gql(
      `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { connectionId } }`,
      { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } },
      { token: sessionToken },
    );
    const connectionId: string = done.data.completeHostedConnectionSession.connectionId;
    expect(connectionId).toEqual(expect.any(String));

    // Asked for now, the development organization is not made: the store has organizations
    // (and PostgreSQL never gets one).
    server = await servers.start({ ONE_RUNTIME_DEV_ORG: "true" });
    expect(server.devOrganization).toBeUndefined();
    expect(await server.services.prisma.organization.count()).toBe(2);
    const viewer = await server.gql(`{ viewer { organization { id name } } }`, {}, { token: org.apiKey });
    expect(viewer).toMatchObject({ status: 200, data: { viewer: { organization: { id: org.organizationId, name: "Durable Co" } } } });
    const conn = await server.gql(`query($id: ID!) { connection(id: $id) { id name endUser { id } credentials { apiKey } } }`, { id: connectionId }, { token: org.apiKey });
    expect(conn.errors).toBeUndefined();
    expect(conn.data.connection).toEqual({ id: connectionId, name: "Kept", endUser: { id: "u-restart" }, credentials: { apiKey: OPENAI_KEY } });
    const gone = await server.gql(`{ viewer { organization { id } } }`, {}, { token: revoked.apiKey });
    expect(gone.status).toBe(401);
    // The catalog mirror is already there: the second start wrote no integration rows.
    expect(server.logs.find((l) => l.includes('"msg":"catalog loaded"'))).toMatch(/"created":0,"updated":0/);
  });
});

describe("the development organization (embedded store)", { timeout: 180_000 }, () => {
  it.runIf(testStore === "pglite")("is created on the first start, shown again on the next, and no longer once it has a second key", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "one-runtime-dev-org-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const servers = onOneStore({ dataDir, databaseUrl: undefined }, { ONE_RUNTIME_DEV_ORG: "true" });

    let server = await servers.start();
    const first = server.devOrganization!;
    expect(first).toMatchObject({ name: "Development", created: true, apiKey: expect.stringMatching(/^ort_test_/) });
    const viewer = await server.gql(`{ viewer { organization { id } } }`, {}, { token: first.apiKey });
    expect(viewer.data.viewer.organization.id).toBe(first.organizationId);

    server = await servers.start();
    expect(server.devOrganization).toEqual({ ...first, created: false });

    await server.admin({ command: "create-api-key", organizationId: first.organizationId, name: "second" });
    server = await servers.start();
    expect(server.devOrganization).toBeUndefined();
    // Not shown does not mean gone: the first key still works.
    expect((await server.gql(`{ viewer { organization { id } } }`, {}, { token: first.apiKey })).status).toBe(200);
  });
});
