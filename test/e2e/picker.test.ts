// The picker in Debian's chromium: the customer's page opens a session that lets the end user
// choose, and the end user finds an integration by category and by a typo'd search, picks it,
// and connects, with the keyboard only; open() resolves with the chosen slug. Then the
// accessibility audit: axe-core (from node_modules, injected with addScriptTag) finds no
// violation on the picker, the API key form, the OAuth2 form or the client credentials form.
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser.js";
import { startTestServer, testStore, type TestServer } from "../support/server.js";
import { startCustomerApp, type CustomerApp } from "./fixtures/customer-app.js";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const AXE = fileURLToPath(import.meta.resolve("axe-core/axe.min.js"));

let server: TestServer;
let org: { apiKey: string };
let app: CustomerApp;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
/** A second browser for the audit only: it must inject axe into pages whose CSP forbids it. */
let auditBrowser: Awaited<ReturnType<typeof launchBrowser>>;
const problems: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { ONE_RUNTIME_SANDBOX: "true" } });
  org = await server.createOrganization("Picker e2e");
  app = await startCustomerApp({ apiUrl: server.url, apiKey: org.apiKey });
  [browser, auditBrowser] = await Promise.all([launchBrowser(), launchBrowser({ bypassCSP: true })]);
  browser.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  browser.on("page", (page) => page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`)));
});
afterAll(async () => {
  await browser?.dispose();
  await auditBrowser?.dispose();
  await app?.close();
  await server?.stop();
});

const focused = (page: Page) =>
  page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    return { id: a?.id ?? "", slug: a?.dataset.slug ?? "", name: a?.getAttribute("name") ?? "", text: a?.textContent?.trim() ?? "", pressed: a?.getAttribute("aria-pressed") ?? "" };
  });

/** Presses `key` until the focused element satisfies `test` (at most `limit` presses). */
async function pressUntil(page: Page, key: string, test: (f: Awaited<ReturnType<typeof focused>>) => boolean, limit = 40) {
  const trail: string[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    if (test(f)) return;
    trail.push(f.id || f.slug || f.text);
  }
  throw new Error(`${key} never reached the element; focus went through ${trail.join(" | ")}`);
}

const firstResult = (page: Page) => page.evaluate(() => document.querySelector<HTMLElement>("#picker-results button")?.dataset.slug ?? "");
const resultSlugs = (page: Page) => page.evaluate(() => [...document.querySelectorAll<HTMLElement>("#picker-results button")].map((b) => b.dataset.slug!));

describe("the picker, keyboard only", () => {
  it("filters by category, searches with a typo, picks with Enter, connects, and open() resolves with the chosen slug", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/?pick=all`);
    await page.focus("#connect");
    const opened = page.waitForEvent("popup");
    await page.keyboard.press("Enter");
    const popup = await opened;
    await popup.getByRole("heading", { name: "Choose an app to connect" }).waitFor();
    expect((await focused(popup)).id).toBe("picker-search");
    await popup.waitForFunction(() => document.querySelector("#picker-results")?.getAttribute("aria-busy") === "false");
    await popup.waitForFunction(() => document.querySelectorAll(".chip").length > 1);

    // Tab into the category toggles and press the AI one.
    await pressUntil(popup, "Tab", (f) => /^AI, \d+ apps?$/.test(f.text));
    await popup.keyboard.press("Enter");
    expect((await focused(popup)).pressed).toBe("true");
    await popup.waitForFunction(() => !document.querySelector('#picker-results button[data-slug="twilio"]') && document.querySelector('#picker-results button[data-slug="openai"]'));
    const aiCount = (await resultSlugs(popup)).length;
    await expect(popup.locator("#picker-count").textContent()).resolves.toBe(`${aiCount} apps`);

    // Back to the search box, a typo, and the best match comes first; the count is announced.
    await pressUntil(popup, "Shift+Tab", (f) => f.id === "picker-search");
    await popup.keyboard.type("opnai");
    await popup.waitForFunction(() => document.querySelector<HTMLElement>("#picker-results button")?.dataset.slug === "openai" && document.querySelector("#picker-results")?.getAttribute("aria-busy") === "false");
    expect(await firstResult(popup)).toBe("openai");
    await popup.waitForFunction(() => /^\d+ apps?$|^1 app$/.test(document.getElementById("announcer")?.textContent ?? ""));

    // Enter goes to the best match, Enter picks it; the form opens with the key field focused.
    await popup.keyboard.press("Enter");
    expect((await focused(popup)).slug).toBe("openai");
    await popup.keyboard.press("Enter");
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    expect((await focused(popup)).name).toBe("apiKey");
    await popup.keyboard.type(OPENAI_KEY);
    // Connected, the SDK closes the popup: possibly before the key press has fully returned.
    const closed = popup.waitForEvent("close");
    await popup.keyboard.press("Enter").catch(() => {});
    await closed;

    const handle = await page.waitForFunction(() => document.getElementById("result")?.textContent || undefined, null, { timeout: 60_000 });
    const result = JSON.parse((await handle.jsonValue()) as string);
    expect(result).toEqual({ status: "connected", connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/), integrationSlug: "openai" });
    expect((await app.readConnection(result.connectionId)).integrationSlug).toBe("openai");
    await page.close();
    expect(problems.splice(0)).toEqual([]);
  });

  it("goes back from the form to the list and picks another, for a limited list", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/?pick=openai,twilio`);
    const opened = page.waitForEvent("popup");
    await page.click("#connect");
    const popup = await opened;
    await popup.waitForFunction(() => document.querySelectorAll("#picker-results button").length === 2);
    expect((await resultSlugs(popup)).sort()).toEqual(["openai", "twilio"]);
    await pressUntil(popup, "Tab", (f) => f.slug === "twilio");
    await popup.keyboard.press("Enter");
    await popup.getByRole("heading", { name: "Connect Twilio" }).waitFor();
    await pressUntil(popup, "Shift+Tab", (f) => f.text === "← Choose another app");
    await popup.keyboard.press("Enter");
    await popup.getByRole("heading", { name: "Choose an app to connect" }).waitFor();
    expect((await focused(popup)).id).toBe("picker-search");
    await page.close();
    expect(problems.splice(0)).toEqual([]);
  });
});

describe("a long list", () => {
  it("shows the first page, and \"Show more apps\" adds the next with focus on its first app", async () => {
    // OAuth2 entries are offered once the organization has their app: configure them all.
    const oauth = await server.gql(`{ integrations(authType: OAUTH2, first: 100) { nodes { slug } } }`, {}, { token: org.apiKey });
    for (const { slug } of oauth.data.integrations.nodes) {
      await server.gql(`mutation($slug: String!) { configureIntegration(input: { integrationSlug: $slug, oauthClientId: "id", oauthClientSecret: "secret" }) { integrationSlug } }`, { slug }, { token: org.apiKey });
    }
    const { sessionToken } = await server.createSession(org.apiKey, { endUserId: "user-42" });
    const popup = await browser.newPage();
    await popup.goto(`${server.url}/connect#${sessionToken}`);
    await popup.waitForFunction(() => document.querySelector("#picker-results")?.getAttribute("aria-busy") === "false" && document.querySelectorAll("#picker-results button").length > 0);
    const total = Number((await popup.locator("#picker-count").textContent())!.split(" ")[0]);
    expect(total).toBeGreaterThan(50);
    expect(await resultSlugs(popup)).toHaveLength(50);
    await pressUntil(popup, "Tab", (f) => f.text === "Show more apps", 120);
    await popup.keyboard.press("Enter");
    await popup.waitForFunction((n) => document.querySelectorAll("#picker-results button").length === n, Math.min(total, 100));
    const slugs = await resultSlugs(popup);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect((await focused(popup)).slug).toBe(slugs[50]);
    await popup.close();
    expect(problems.splice(0)).toEqual([]);
  });
});

/** axe-core's violations on the popup as it stands, one line each. */
async function violations(popup: Page): Promise<string[]> {
  await popup.addScriptTag({ path: AXE });
  type Result = { violations: { id: string; nodes: { target: unknown[] }[] }[]; passes: unknown[] };
  const found = await popup.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(ctx: Document): Promise<Result> } }).axe.run(document);
    return { passed: result.passes.length, violations: result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`) };
  });
  // An audit that checked nothing would pass anything.
  expect(found.passed).toBeGreaterThan(10);
  return found.violations;
}

async function openPopup(input: Record<string, unknown>): Promise<Page> {
  const { sessionToken } = await server.createSession(org.apiKey, { endUserId: "user-42", endUserName: "Ada Lovelace", ...input });
  const popup = await auditBrowser.newPage();
  await popup.setViewportSize({ width: 450, height: 650 });
  await popup.goto(`${server.url}/connect#${sessionToken}`);
  return popup;
}

describe("accessibility audit (axe-core in chromium)", () => {
  it("the picker has no violations: on load, filtered by a category, and with search results", async () => {
    const popup = await openPopup({});
    await popup.getByRole("heading", { name: "Choose an app to connect" }).waitFor();
    await popup.waitForFunction(() => document.querySelectorAll(".chip").length > 1 && document.querySelector("#picker-results")?.getAttribute("aria-busy") === "false");
    expect(await violations(popup)).toEqual([]);
    await popup.locator(".chip").filter({ hasText: /^AI, \d+ apps?$/ }).click();
    await popup.getByLabel("Search apps").fill("mistrl");
    await popup.waitForFunction(() => document.querySelector<HTMLElement>("#picker-results button")?.dataset.slug === "mistral");
    expect(await violations(popup)).toEqual([]);
    // README's screenshot is refreshed on request only, so a test run leaves the tree clean.
    if (testStore === "pglite" && process.env.UPDATE_DOCS_SCREENSHOT === "true") {
      await popup.getByLabel("Search apps").fill("");
      await popup.locator(".chip").filter({ hasText: /^All$/ }).click();
      await popup.waitForFunction(() => document.querySelector("#picker-results")?.getAttribute("aria-busy") === "false");
      await popup.waitForFunction(() => [...document.images].every((img) => img.complete));
      await mkdir("docs", { recursive: true });
      await popup.screenshot({ path: "docs/picker.png" });
    }
    await popup.close();
  });

  for (const [kind, slug, heading] of [
    ["an API key", "openai", "Connect OpenAI"],
    ["an OAuth2", "oauth2-sandbox", "Connect OAuth2 Sandbox"],
    ["a client credentials", "greenhouse", "Connect Greenhouse"],
  ] as const) {
    it(`the connect form of ${kind} integration has no violations, nor with field errors shown`, async () => {
      const popup = await openPopup({ integrationSlug: slug });
      await popup.getByRole("heading", { name: heading }).waitFor();
      await popup.waitForFunction(() => [...document.images].every((img) => img.complete));
      expect(await violations(popup)).toEqual([]);
      if (slug !== "oauth2-sandbox") {
        await popup.locator("form button[type=submit]").click();
        await popup.waitForFunction(() => document.querySelector("[aria-invalid=true]"));
        expect(await violations(popup)).toEqual([]);
      }
      await popup.close();
    });
  }

  it("the form reached from the picker (with its way back) has no violations", async () => {
    const popup = await openPopup({ allowedIntegrations: ["openai", "twilio"] });
    await popup.locator('#picker-results button[data-slug="twilio"]').click();
    await popup.getByRole("heading", { name: "Connect Twilio" }).waitFor();
    expect(await violations(popup)).toEqual([]);
    await popup.close();
  });
});
