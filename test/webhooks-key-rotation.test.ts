// Webhook secrets under encryption-key rotation: counted as data under their key (so dropping the
// key is refused), re-sealed by reencrypt with the newest key, the previous secret of a rotation
// too while it still signs, and readable with the newest key alone afterwards.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyIdsInUse, reencryptAll } from "../server/admin/key-rotation.js";
import { parseEncryptionKeys, Vault } from "../server/vault.js";
import { signingSecrets } from "../server/webhooks/endpoints.js";
import { startTestServer, type TestServer } from "./support/server.js";

const OLD = randomBytes(32).toString("base64");
const NEW = randomBytes(32).toString("base64");
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { ONE_RUNTIME_ENCRYPTION_KEY: `k1:${OLD}` } });
});
afterAll(() => server?.stop());

describe("webhook secrets and key rotation", () => {
  it("are counted under their key, re-sealed with the newest, previous secret included, and open with it alone", async () => {
    const org = await server.createOrganization("Webhook rotation org");
    const created = await server.gql(`mutation { createWebhookEndpoint(url: "https://hooks.example.com/x") { secret endpoint { id } } }`, {}, { token: org.apiKey });
    const id = created.data.createWebhookEndpoint.endpoint.id;
    const rotated = await server.gql(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id }, { token: org.apiKey });
    const secrets = [rotated.data.rotateWebhookSecret.secret, created.data.createWebhookEndpoint.secret];
    expect((await keyIdsInUse(server.services.prisma)).get("k1")).toBe(2);

    const rotating = new Vault(parseEncryptionKeys(`k2:${NEW},k1:${OLD}`));
    const result = await reencryptAll(server.services.prisma, rotating);
    expect(result.webhookSecrets).toEqual({ resealed: 2, unreadable: 0, changedMeanwhile: 0 });
    expect(result.remaining).toEqual({});

    const row = await server.services.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    expect([row.secretKeyId, row.previousSecretKeyId]).toEqual(["k2", "k2"]);
    expect(signingSecrets(new Vault(parseEncryptionKeys(`k2:${NEW}`)), row)).toEqual(secrets);
  });
});
