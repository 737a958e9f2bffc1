// The example customer app's webhook inbox and event feed, against a real One Runtime: the app
// registers its endpoint at start, verifies each delivery with the client's verifyWebhook, shows
// the user's events marked as received, and refuses a delivery it cannot verify.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCustomerApp, type CustomerApp } from "../examples/customer-app/server.js";
import { WEBHOOK_PATH } from "../examples/customer-app/webhooks.js";
import { startTestServer, type TestServer } from "./support/server.js";

const USER = { id: "user-42", name: "Ada Lovelace", email: "ada@example.com" };
let server: TestServer;
let org: { apiKey: string };
let app: CustomerApp;
const appLog: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true", ONE_RUNTIME_WEBHOOK_POLL_MS: "200" } });
  org = await server.createOrganization("Example app webhooks");
  app = await startCustomerApp({ oneRuntimeUrl: server.url, apiKey: org.apiKey, port: 0, user: USER, log: (m) => appLog.push(m), webhooks: "register" });
});
afterAll(async () => {
  await app?.close();
  await server?.stop();
});

describe("the example app's webhooks", () => {
  it("receives and verifies the user's events and shows them in its feed, marked as received", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: USER.id });
    const done = await server.gql(`mutation { completeHostedConnectionSession(input: {}) { connectionId } }`, {}, { token: sessionToken });
    const connectionId = done.data.completeHostedConnectionSession.connectionId;
    await expect
      .poll(async () => (await (await fetch(`${app.url}/api/one-runtime/events`)).json()).events, { timeout: 20_000 })
      .toEqual([expect.objectContaining({ type: "CONNECTION_CREATED", connectionId, webhookReceivedAt: expect.any(String) })]);
    expect(appLog).toEqual([]);
  });

  it("refuses a delivery it cannot verify", async () => {
    const res = await fetch(`${app.url}${WEBHOOK_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", "webhook-id": "x", "webhook-timestamp": String(Math.floor(Date.now() / 1000)), "webhook-signature": "v1,AAAA" },
      body: "{}",
    });
    expect(res.status).toBe(400);
  });

  it("removes the endpoint it registered when it closes", async () => {
    const before = await server.gql(`{ webhookEndpoints { totalCount } }`, {}, { token: org.apiKey });
    expect(before.data.webhookEndpoints.totalCount).toBe(1);
    const second = await startCustomerApp({ oneRuntimeUrl: server.url, apiKey: org.apiKey, port: 0, user: USER, log: () => {}, webhooks: "register" });
    expect((await server.gql(`{ webhookEndpoints { totalCount } }`, {}, { token: org.apiKey })).data.webhookEndpoints.totalCount).toBe(2);
    await second.close();
    expect((await server.gql(`{ webhookEndpoints { totalCount } }`, {}, { token: org.apiKey })).data.webhookEndpoints.totalCount).toBe(1);
  });
});
