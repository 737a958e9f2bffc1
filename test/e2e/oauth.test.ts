// OAuth2 end to end in chromium against a real authorization server (oauth2-mock-server): the
// seed's page connects through the popup and the provider's redirect, the backend reads a token,
// the token expires, 20 parallel reads refresh it once, the provider then refuses the refresh
// token, the connection needs re-authorization, and a reconnect restores it under the same id.
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser.js";
import { startMockProvider, type MockProvider } from "../support/oauth-provider.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { startCustomerApp, type CustomerApp } from "./fixtures/customer-app.js";

const CREDS = `query($id: ID!) { connection(id: $id) { id status credentials { accessToken expiresAt } } }`;

let server: TestServer;
let provider: MockProvider;
let app: CustomerApp;
let browser: BrowserContext & { dispose(): Promise<void> };
let org: { apiKey: string };

beforeAll(async () => {
  provider = await startMockProvider();
  server = await startTestServer({ env: { ONE_RUNTIME_CATALOG_DIR: provider.catalogDir } });
  org = await server.createOrganization("OAuth e2e org");
  await server.gql(
    `mutation { configureIntegration(input: { integrationSlug: "mock-provider", oauthClientId: "e2e-client", oauthClientSecret: "e2e-secret" }) { id } }`,
    {},
    { token: org.apiKey },
  );
  app = await startCustomerApp({ apiUrl: server.url, apiKey: org.apiKey });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.dispose();
  await app?.close();
  await server?.stop();
  await provider?.stop();
});

/** Clicks Connect on the customer's page, continues to the provider in the popup, returns the SDK's result. */
async function connectThroughPopup(page: Page, query: string) {
  await page.goto(`${app.url}/?${query}`);
  const popupOpened = page.waitForEvent("popup");
  await page.click("#connect");
  const popup = await popupOpened;
  const closed = popup.waitForEvent("close");
  await popup.getByRole("button", { name: /Continue to/ }).click();
  await closed; // the callback page closes itself after the provider's redirect
  await page.waitForFunction(() => document.getElementById("result")?.textContent !== "", null, { timeout: 60_000 });
  return JSON.parse((await page.textContent("#result"))!);
}

describe("OAuth2 in the browser", () => {
  it("connects, refreshes once under 20 parallel reads, needs re-authorization when refused, reconnects in place", async () => {
    const page = await browser.newPage();
    provider.server.service.once("beforeResponse", (response: { body: Record<string, unknown> }) => {
      response.body.expires_in = 30; // the token is "about to expire" as soon as it is issued
    });
    const first = await connectThroughPopup(page, "slug=mock-provider");
    expect(first).toMatchObject({ status: "connected" });
    const id: string = first.connectionId;

    provider.tokenRequests.length = 0;
    const reads = await Promise.all(Array.from({ length: 20 }, () => server.gql(CREDS, { id }, { token: org.apiKey })));
    expect(reads.every((r) => !r.errors && r.data.connection.credentials.accessToken)).toBe(true);
    expect(provider.tokenRequests.filter((r) => r.grant_type === "refresh_token")).toHaveLength(1);
    expect(new Set(reads.map((r) => r.data.connection.credentials.accessToken)).size).toBe(1);

    // Expire it again, and have the provider refuse the refresh token.
    const row = await server.services.prisma.connection.findUniqueOrThrow({ where: { id } });
    const stored = server.services.vault.open<any>({ ciphertext: row.credentialsEnc, keyId: row.encryptionKeyId }, { purpose: "connection-credentials", organizationId: row.organizationId, rowId: id });
    stored.tokens.expiresAt = new Date(Date.now() - 1000).toISOString();
    const sealed = server.services.vault.seal(stored, { purpose: "connection-credentials", organizationId: row.organizationId, rowId: id });
    await server.services.prisma.connection.update({ where: { id }, data: { credentialsEnc: sealed.ciphertext } });
    provider.server.service.once("beforeResponse", (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 400;
      response.body = { error: "invalid_grant" };
    });
    const refused = await server.gql(CREDS, { id }, { token: org.apiKey });
    expect(refused.errors?.[0]?.extensions?.code).toBe("NEEDS_REAUTH");
    const status = await server.gql(`query($id: ID!) { connection(id: $id) { status statusReason } }`, { id }, { token: org.apiKey });
    expect(status.data.connection).toEqual({ status: "NEEDS_REAUTH", statusReason: "invalid_grant" });

    const again = await connectThroughPopup(page, `slug=mock-provider&connection=${id}`);
    expect(again).toEqual({ status: "connected", connectionId: id, integrationSlug: "mock-provider" });
    const restored = await server.gql(CREDS, { id }, { token: org.apiKey });
    expect(restored.errors).toBeUndefined();
    expect(restored.data.connection.status).toBe("ACTIVE");
    expect(await server.services.prisma.connection.count({ where: { integrationSlug: "mock-provider" } })).toBe(1);
  });

  it("a provider's refusal resolves the promise as failed with the provider's code", async () => {
    const page = await browser.newPage();
    provider.server.service.once("beforeAuthorizeRedirect", ({ url }: { url: URL }) => {
      url.searchParams.delete("code");
      url.searchParams.set("error", "access_denied");
    });
    await page.goto(`${app.url}/?slug=mock-provider`);
    const popupOpened = page.waitForEvent("popup");
    await page.click("#connect");
    const popup = await popupOpened;
    await popup.getByRole("button", { name: /Continue to/ }).click();
    await page.waitForFunction(() => document.getElementById("result")?.textContent !== "", null, { timeout: 60_000 });
    expect(JSON.parse((await page.textContent("#result"))!)).toMatchObject({ status: "failed", error: { code: "access_denied" } });
  });
});
