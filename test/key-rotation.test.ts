// Rotating the encryption key, as an operator does it: data sealed under k1; restart with
// `k2:NEW,k1:OLD`; `npm run admin -- reencrypt` (the built CLI, while the server runs: through
// its admin channel on the embedded store, directly on PostgreSQL) re-seals every stored secret
// with k2; restart with k2 alone and everything still reads. Dropping k1 before that is refused,
// and a write racing the re-encryption is never overwritten.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { reencryptAll } from "../server/admin/key-rotation.js";
import { credentialsBinding, sealCredentials } from "../server/connections/credentials.js";
import type { PrismaClient } from "../server/generated/prisma/client.js";
import { flowBinding } from "../server/oauth/authorize.js";
import { ADMIN_PATH } from "../server/http/routes.js";
import { parseEncryptionKeys, Vault } from "../server/vault.js";
import { BUILT, nodeArgs, repoRoot } from "./support/server-build.js";
import { startTestServer, testStore, type TestServer } from "./support/server.js";
import { createStoreLocation, type StoreLocation } from "./support/store.js";

const key = () => randomBytes(32).toString("base64");
const OLD = key();
const NEW = key();
const ONLY_K1 = `k1:${OLD}`;
const ROTATING = `k2:${NEW},k1:${OLD}`;
const ONLY_K2 = `k2:${NEW}`;

const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`;
const CREDENTIALS = `query($id: ID!) { connection(id: $id) { credentials { apiKey } } }`;
const START_AUTH = `mutation { startHostedConnectionAuthorization(input: {}) { authorizationUrl } }`;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** Servers one after another on one store, each with the keys given. */
function onStore(location: StoreLocation) {
  let current: TestServer | undefined;
  cleanups.push(() => current?.stop() ?? Promise.resolve());
  return {
    async start(keys: string) {
      await current?.stop();
      current = undefined;
      current = await startTestServer({ dataDir: location.dataDir, databaseUrl: location.databaseUrl, env: { ONE_RUNTIME_ENCRYPTION_KEY: keys } });
      return current;
    },
  };
}

async function admin(location: StoreLocation, keys: string, ...args: string[]) {
  const env = { ...process.env, DATABASE_URL: "", ONE_RUNTIME_DATA_DIR: "", ...location.env, ONE_RUNTIME_ENCRYPTION_KEY: keys, ONE_RUNTIME_LOG_LEVEL: "silent" };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...nodeArgs(BUILT.adminCli), ...args], { cwd: repoRoot, env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw e;
    return { code: err.code, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

/** Every key id a ciphertext is stored under, per place. */
async function keyIds(prisma: PrismaClient) {
  const connections = await prisma.connection.findMany({ select: { encryptionKeyId: true } });
  const apps = await prisma.integrationConfig.findMany({ where: { oauthClientSecretEnc: { not: null } }, select: { encryptionKeyId: true } });
  const flows = await prisma.hostedConnectionSession.findMany({ where: { oauthFlowEnc: { not: null } }, select: { status: true, oauthFlowKeyId: true } });
  return {
    connections: [...new Set(connections.map((c) => c.encryptionKeyId))],
    apps: [...new Set(apps.map((a) => a.encryptionKeyId))],
    flows: flows.map((f) => `${f.status}:${f.oauthFlowKeyId}`).sort(),
  };
}

describe("key rotation with re-encryption", { timeout: 300_000 }, () => {
  it("data sealed under k1, restarted with k2:NEW,k1:OLD, reencrypt, restarted with k2 alone: every secret still reads", async () => {
    const location = await createStoreLocation();
    cleanups.push(() => location.dispose());
    const servers = onStore(location);

    let server = await servers.start(ONLY_K1);
    const org = await server.createOrganization("Rotation org");
    const secrets = ["sk-proj-rotation-one-0123456789abcdef01", "sk-proj-rotation-two-0123456789abcdef02", "sk-proj-rotation-three-0123456789abcde3"];
    const connectionIds: string[] = [];
    for (const [i, secret] of secrets.entries()) {
      const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: `u${i}` });
      connectionIds.push((await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: secret }] } }, { token: sessionToken })).data.completeHostedConnectionSession.connectionId);
    }
    await server.gql(`mutation { configureIntegration(input: { integrationSlug: "hubspot", oauthClientId: "cid", oauthClientSecret: "rotation-client-secret" }) { id } }`, {}, { token: org.apiKey });
    // An authorization under way (its flow must survive) and one that ended (its flow is dead weight).
    const open = await server.createSession(org.apiKey, { integrationSlug: "hubspot", endUserId: "authorizing" });
    expect((await server.gql(START_AUTH, {}, { token: open.sessionToken })).errors).toBeUndefined();
    const ended = await server.createSession(org.apiKey, { integrationSlug: "hubspot", endUserId: "cancelled" });
    await server.gql(START_AUTH, {}, { token: ended.sessionToken });
    expect((await server.gql(`mutation { cancelHostedConnectionSession { status } }`, {}, { token: ended.sessionToken })).data.cancelHostedConnectionSession.status).toBe("CANCELLED");
    expect(await keyIds(server.services.prisma)).toEqual({ connections: ["k1"], apps: ["k1"], flows: ["AUTHORIZING:k1", "CANCELLED:k1"] });
    const updatedBefore = await server.services.prisma.connection.findMany({ select: { id: true, updatedAt: true }, orderBy: { id: "asc" } });

    // Dropping k1 while data still uses it is refused at start.
    await expect(servers.start(ONLY_K2)).rejects.toThrow(/ONE_RUNTIME_ENCRYPTION_KEY has no key k1 \(5 stored\)/);

    server = await servers.start(ROTATING);
    expect((await server.gql(CREDENTIALS, { id: connectionIds[0] }, { token: org.apiKey })).data.connection.credentials.apiKey).toBe(secrets[0]);

    const first = await admin(location, ROTATING, "reencrypt");
    expect(first, first.stderr).toMatchObject({ code: 0 });
    expect(first.stdout).toContain("Re-encrypted with key k2:");
    expect(first.stdout).toMatch(/connections\s+3 re-sealed, 0 unreadable, 0 changed meanwhile/);
    expect(first.stdout).toMatch(/OAuth apps\s+1 re-sealed, 0 unreadable, 0 changed meanwhile/);
    expect(first.stdout).toMatch(/OAuth flows\s+1 re-sealed, 0 unreadable, 0 changed meanwhile, 1 cleared \(ended sessions\)/);
    expect(first.stdout).toContain("Nothing is left under older keys");
    // On the embedded store the CLI never opened the folder the server holds: the server did it, with its keys.
    expect(server.logs.filter((l) => l.includes(`"path":"${ADMIN_PATH}"`)).length).toBe(testStore === "pglite" ? 1 : 0);
    expect(await keyIds(server.services.prisma)).toEqual({ connections: ["k2"], apps: ["k2"], flows: ["AUTHORIZING:k2"] });
    // Re-encryption changes nothing a reader sees.
    expect(await server.services.prisma.connection.findMany({ select: { id: true, updatedAt: true }, orderBy: { id: "asc" } })).toEqual(updatedBefore);

    // Safe to run again: nothing left to do.
    const again = await admin(location, ROTATING, "reencrypt", "--json");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).reencrypted).toMatchObject({
      keyId: "k2",
      connections: { resealed: 0, unreadable: 0, changedMeanwhile: 0 },
      oauthApps: { resealed: 0 },
      oauthFlows: { resealed: 0, cleared: 0 },
      remaining: {},
    });

    server = await servers.start(ONLY_K2);
    for (const [i, id] of connectionIds.entries()) {
      const r = await server.gql(CREDENTIALS, { id }, { token: org.apiKey });
      expect(r.errors).toBeUndefined();
      expect(r.data.connection.credentials.apiKey).toBe(secrets[i]);
    }
    // The OAuth app's secret opens (a session for it needs it), and so does the open authorization's flow.
    await server.createSession(org.apiKey, { integrationSlug: "hubspot", endUserId: "after-rotation" });
    const row = await server.services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: open.sessionId } });
    expect(server.services.vault.open<{ codeVerifier: string }>({ ciphertext: row.oauthFlowEnc!, keyId: row.oauthFlowKeyId! }, flowBinding(row)).codeVerifier).toEqual(expect.any(String));
    expect(server.logs.join("")).not.toMatch(/did not decrypt/);
  });

  it("a write between re-encryption's read and its write is kept, counted, and moved by the next run", async () => {
    const location = await createStoreLocation();
    cleanups.push(() => location.dispose());
    const server = await onStore(location).start(ONLY_K1);
    const org = await server.createOrganization("Race org");
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "racer" });
    const id: string = (await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: "sk-proj-before-race-0123456789abcdef" }] } }, { token: sessionToken })).data
      .completeHostedConnectionSession.connectionId;

    // A server still on the old keys re-seals the row (as a token refresh does) right after the
    // re-encryption read it.
    const oldServerVault = server.services.vault;
    const concurrent = sealCredentials(oldServerVault, { organizationId: org.organizationId, id }, { type: "API_KEY", values: { apiKey: "sk-proj-written-meanwhile-0123456789ab" } });
    const racing = server.services.prisma.$extends({
      query: {
        connection: {
          async findMany({ args, query }) {
            const rows = await query(args);
            if (rows.length) await server.services.prisma.connection.update({ where: { id }, data: { credentialsEnc: concurrent.ciphertext, encryptionKeyId: concurrent.keyId } });
            return rows;
          },
        },
      },
    }) as unknown as PrismaClient;
    const rotating = new Vault(parseEncryptionKeys(ROTATING));

    const raced = await reencryptAll(racing, rotating);
    expect(raced.connections).toEqual({ resealed: 0, unreadable: 0, changedMeanwhile: 1 });
    expect(raced.remaining).toEqual({ k1: 1 });
    expect(await server.services.prisma.connection.findUniqueOrThrow({ where: { id }, select: { credentialsEnc: true } })).toEqual({ credentialsEnc: concurrent.ciphertext });

    const next = await reencryptAll(server.services.prisma, rotating);
    expect(next.connections).toEqual({ resealed: 1, unreadable: 0, changedMeanwhile: 0 });
    expect(next.remaining).toEqual({});
    const row = await server.services.prisma.connection.findUniqueOrThrow({ where: { id } });
    expect(row.encryptionKeyId).toBe("k2");
    expect(rotating.open({ ciphertext: row.credentialsEnc, keyId: row.encryptionKeyId }, credentialsBinding(row))).toEqual({
      type: "API_KEY",
      values: { apiKey: "sk-proj-written-meanwhile-0123456789ab" },
    });
  });
});
