// The example customer app reads the OAuth2 sandbox's API through the proxy: its backend holds
// no provider token, and only the signed-in user's sandbox connection is read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCustomerApp, type CustomerApp } from "../../examples/customer-app/server.js";
import { launchBrowser } from "../support/browser.js";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

const USER = { id: "user-42", name: "Ada Lovelace", email: "ada@example.com" };
let f: ProxyFixture;
let app: CustomerApp;
beforeAll(async () => {
  f = await startProxyFixture();
  app = await startCustomerApp({ oneRuntimeUrl: f.server.url, apiKey: f.org.apiKey, port: 0, user: USER, log: () => {} });
});
afterAll(async () => {
  await app?.close();
  await f?.stop();
});

describe("the example app's sandbox resources", () => {
  it("lists the signed-in user's sandbox resources through the proxy, and nobody else's", async () => {
    const mine = await f.connectSandbox(USER.id);
    const r = await fetch(`${app.url}/api/one-runtime/connections/${mine}/resources`);
    expect(r.status).toBe(200);
    expect((await r.json()).resources.map((x: { id: string }) => x.id)).toEqual(["res_1", "res_2", "res_3", "res_4", "res_5"]);
    const theirs = await f.connectSandbox("someone-else");
    expect((await fetch(`${app.url}/api/one-runtime/connections/${theirs}/resources`)).status).toBe(404);
  });

  it("shows them on the page when the user clicks Show resources", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(app.url);
      await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
      await page.getByRole("button", { name: /^Show resources of/ }).first().click();
      await page.getByText("Quarterly report (document)").first().waitFor();
      expect(await page.locator(".resources li").count()).toBeGreaterThanOrEqual(5);
    } finally {
      await browser.dispose();
    }
  });
});
