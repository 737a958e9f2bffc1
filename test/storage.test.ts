// Stored secrets as an attacker with write access to the database would meet them: a ciphertext
// swapped between two connections (of one organization or of two), an altered one, and an OAuth
// app's altered client secret never open — each read is a typed CREDENTIALS_UNREADABLE error
// (not a masked 500, never the other row's secret), and the operator gets one error-level log
// line naming the row, without any secret.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`;
const CREDENTIALS = `query($id: ID!) { connection(id: $id) { id name credentials { apiKey } } }`;
const SECRETS = {
  a1: "sk-proj-storageA1storageA1storageA1storage01",
  a2: "sk-proj-storageA2storageA2storageA2storage02",
  b1: "sk-proj-storageB1storageB1storageB1storage03",
  clientSecret: "client-secret-storage-SECRET-0451",
};

let server: TestServer;
let orgA: { organizationId: string; apiKey: string };
let orgB: { organizationId: string; apiKey: string };
const ids: Record<"a1" | "a2" | "b1", string> = { a1: "", a2: "", b1: "" };

async function connect(org: { apiKey: string }, endUserId: string, secret: string): Promise<string> {
  const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId, suggestedConnectionName: endUserId });
  const done = await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: secret }] } }, { token: sessionToken });
  return done.data.completeHostedConnectionSession.connectionId;
}

const stored = (id: string) => server.services.prisma.connection.findUniqueOrThrow({ where: { id }, select: { credentialsEnc: true, encryptionKeyId: true } });
const store = (id: string, sealed: { credentialsEnc: string; encryptionKeyId: string }) => server.services.prisma.connection.update({ where: { id }, data: sealed });
const flip = (ciphertext: string, at: number) => `${ciphertext.slice(0, at)}${ciphertext[at] === "A" ? "B" : "A"}${ciphertext.slice(at + 1)}`;

/** The error-level log lines about sealed data that did not open, parsed. */
const failureLogs = () => server.logs.filter((l) => l.includes("stored credentials did not decrypt")).map((l) => JSON.parse(l));

function expectUnreadable(response: Awaited<ReturnType<TestServer["gql"]>>) {
  expect(response.status).toBe(200);
  expect(response.errors?.map((e) => e.extensions?.code)).toEqual(["CREDENTIALS_UNREADABLE"]);
  const text = JSON.stringify(response);
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
}

beforeAll(async () => {
  server = await startTestServer();
  orgA = await server.createOrganization("Storage A");
  orgB = await server.createOrganization("Storage B");
  ids.a1 = await connect(orgA, "a1", SECRETS.a1);
  ids.a2 = await connect(orgA, "a2", SECRETS.a2);
  ids.b1 = await connect(orgB, "b1", SECRETS.b1);
});
afterAll(async () => {
  await server?.stop();
});

describe("stored ciphertexts", () => {
  it("each connection reads its own credentials before anything is moved", async () => {
    for (const [name, org] of [["a1", orgA], ["a2", orgA], ["b1", orgB]] as const) {
      const r = await server.gql(CREDENTIALS, { id: ids[name] }, { token: org.apiKey });
      expect(r.data?.connection.credentials.apiKey).toBe(SECRETS[name]);
    }
  });

  it("swapped between two connections of one organization: neither opens, both are typed errors, neither reveals the other's secret", async () => {
    const [one, two] = await Promise.all([stored(ids.a1), stored(ids.a2)]);
    await store(ids.a1, two);
    await store(ids.a2, one);
    const before = failureLogs().length;
    for (const id of [ids.a1, ids.a2]) {
      const r = await server.gql(CREDENTIALS, { id }, { token: orgA.apiKey });
      expectUnreadable(r);
      expect(r.data?.connection ?? null).toBeNull();
    }
    const logged = failureLogs().slice(before);
    expect(logged.map((l) => [l.level, l.purpose, l.rowId, l.organizationId, l.reason])).toEqual([
      [50, "connection-credentials", ids.a1, orgA.organizationId, "integrity"],
      [50, "connection-credentials", ids.a2, orgA.organizationId, "integrity"],
    ]);
    expect(server.logs.filter((l) => /"level":50/.test(l) && /unexpected error/.test(l))).toEqual([]);
    await store(ids.a1, one);
    await store(ids.a2, two);
    expect((await server.gql(CREDENTIALS, { id: ids.a1 }, { token: orgA.apiKey })).data?.connection.credentials.apiKey).toBe(SECRETS.a1);
  });

  it("copied from another organization's connection: a typed error, not that organization's secret", async () => {
    const original = await stored(ids.a1);
    await store(ids.a1, await stored(ids.b1));
    expectUnreadable(await server.gql(CREDENTIALS, { id: ids.a1 }, { token: orgA.apiKey }));
    await store(ids.a1, original);
  });

  it("altered anywhere (IV, tag, body), truncated or emptied: a typed error", async () => {
    const original = await stored(ids.a2);
    const c = original.credentialsEnc;
    for (const ciphertext of [flip(c, 2), flip(c, 20), flip(c, c.length - 3), c.slice(0, 30), ""]) {
      await store(ids.a2, { ...original, credentialsEnc: ciphertext });
      expectUnreadable(await server.gql(CREDENTIALS, { id: ids.a2 }, { token: orgA.apiKey }));
    }
    // Labelled with a key id this server does not have.
    await store(ids.a2, { ...original, encryptionKeyId: "k-unknown" });
    expectUnreadable(await server.gql(CREDENTIALS, { id: ids.a2 }, { token: orgA.apiKey }));
    expect(failureLogs().at(-1)).toMatchObject({ level: 50, rowId: ids.a2, keyId: "k-unknown", reason: "key-not-configured" });
    await store(ids.a2, original);
    expect((await server.gql(CREDENTIALS, { id: ids.a2 }, { token: orgA.apiKey })).data?.connection.credentials.apiKey).toBe(SECRETS.a2);
  });

  it("an OAuth app's altered client secret: a session for it is a typed error, and none is made", async () => {
    const configured = await server.gql(
      `mutation($s: String!) { configureIntegration(input: { integrationSlug: "hubspot", oauthClientId: "cid", oauthClientSecret: $s }) { id } }`,
      { s: SECRETS.clientSecret },
      { token: orgA.apiKey },
    );
    const configId: string = configured.data.configureIntegration.id;
    const row = await server.services.prisma.integrationConfig.findUniqueOrThrow({ where: { id: configId } });
    await server.services.prisma.integrationConfig.update({ where: { id: configId }, data: { oauthClientSecretEnc: flip(row.oauthClientSecretEnc!, 25) } });
    // A session for the integration checks its OAuth app first: refused there, before any flow starts.
    const before = await server.services.prisma.hostedConnectionSession.count();
    const created = await server.gql(
      `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken } }`,
      { input: { integrationSlug: "hubspot", endUserId: "oauth-user" } },
      { token: orgA.apiKey },
    );
    expectUnreadable(created);
    expect(failureLogs().at(-1)).toMatchObject({ level: 50, purpose: "oauth-client-secret", rowId: configId, reason: "integrity" });
    expect(await server.services.prisma.hostedConnectionSession.count()).toBe(before);
  });

  it("no log line holds any of the secrets", () => {
    const logs = server.logs.join("");
    for (const secret of Object.values(SECRETS)) expect(logs).not.toContain(secret);
  });
});
