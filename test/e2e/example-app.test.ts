// The example customer app (examples/customer-app) end to end in Debian's chromium, against a real
// One Runtime: featured categories, a search as the user types, Connect through the hosted popup,
// the connection listed from the backend's view, and Disconnect.
import { createOneRuntimeClient, type OneRuntimeClient } from "@one-runtime/client";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCustomerApp, type CustomerApp } from "../../examples/customer-app/server.js";
import { launchBrowser } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";

const GITHUB_TOKEN = `ghp_${"a1B2c3D4e5".repeat(3)}abcdef`;
const USER = { id: "user-42", name: "Ada Lovelace", email: "ada@example.com" };

let server: TestServer;
let org: { apiKey: string };
let oneRuntime: OneRuntimeClient;
let app: CustomerApp;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
const appLog: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  server = await startTestServer();
  org = await server.createOrganization("Example app e2e");
  oneRuntime = createOneRuntimeClient({ apiKey: org.apiKey, baseUrl: server.url });
  app = await startCustomerApp({ oneRuntimeUrl: server.url, apiKey: org.apiKey, port: 0, user: USER, log: (m) => appLog.push(m) });
  browser = await launchBrowser();
});
afterEach(async () => {
  for (const page of pages.splice(0)) await page.close().catch(() => {});
});
afterAll(async () => {
  await browser?.dispose();
  await app?.close();
  await server?.stop();
});

async function openApp(): Promise<Page> {
  const page = await browser.newPage();
  pages.push(page);
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 }).catch((e) => {
    throw new Error(`the page did not start (${pageErrors.join("; ") || e.message})`);
  });
  return page;
}

const listed = (page: Page, listId: string) =>
  page.locator(`#${listId} > li`).evaluateAll((items) => items.map((li) => li.querySelector("strong")?.textContent ?? ""));

describe("the example customer app", () => {
  it("shows featured categories first, filters as the user types, connects an API key integration through the popup, lists it and deletes it", async () => {
    const page = await openApp();
    await page.getByText(`Signed in as ${USER.name}`).waitFor();

    // Featured categories first, the first of them selected, its integrations listed.
    const categories = await oneRuntime.categories();
    const chipNames = async (list: string) =>
      (await page.getByRole("list", { name: list }).getByRole("button").allTextContents()).map((c) => c.replace(/\s*\d+$/, ""));
    expect(await chipNames("Featured categories")).toEqual(categories.filter((c) => c.featured).map((c) => c.name));
    expect(await chipNames("More categories")).toEqual(categories.filter((c) => !c.featured).map((c) => c.name));
    expect(categories[0]!.featured).toBe(true);
    const firstCategory = page.getByRole("list", { name: "Featured categories" }).getByRole("button").first();
    expect(await firstCategory.getAttribute("aria-pressed")).toBe("true");
    const inCategory = await oneRuntime.integrations({ category: categories[0]!.slug, first: 50 });
    await page.waitForFunction((n) => document.querySelectorAll("#integrations > li").length === n, inCategory.nodes.length);
    expect(await listed(page, "integrations")).toEqual(inCategory.nodes.map((i) => i.name));
    expect(await page.locator("#no-connections").isVisible()).toBe(true);

    // Typing filters the catalog through the backend, keystroke by keystroke.
    const search = page.getByRole("searchbox", { name: "Search integrations" });
    await search.pressSequentially("hub", { delay: 60 });
    const hub = await oneRuntime.integrations({ search: "hub" });
    await page.getByText(`${hub.totalCount} result${hub.totalCount === 1 ? "" : "s"} for "hub"`).waitFor();
    expect(await listed(page, "integrations")).toEqual(hub.nodes.map((i) => i.name));
    expect(hub.nodes[0]).toMatchObject({ slug: "hubspot", authType: "OAUTH2" });
    expect(await firstCategory.getAttribute("aria-pressed")).toBe("false");

    // HubSpot is OAuth2 and this organization has no OAuth app for it: the page passes the reason on.
    await page.getByRole("button", { name: "Connect HubSpot" }).click();
    await page.getByRole("status").getByText(/Could not start connecting HubSpot: Configure your OAuth app for HubSpot/).waitFor();

    await search.fill("");
    await search.pressSequentially("github", { delay: 40 });
    const github = await oneRuntime.integrations({ search: "github" });
    expect(github.nodes.map((i) => i.slug)).toContain("github-pat");
    await page.getByText(`${github.totalCount} result${github.totalCount === 1 ? "" : "s"} for "github"`).waitFor();
    expect(await listed(page, "integrations")).toEqual(github.nodes.map((i) => i.name));

    // Connect: the backend creates the session, the SDK opens the popup, the end user pastes a token.
    const opened = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Connect GitHub (token)" }).click();
    const popup = await opened;
    await popup.getByRole("heading", { name: "Connect GitHub (token)" }).waitFor();
    expect(await popup.getByLabel("Connection name").inputValue()).toBe("Ada's GitHub (token)");
    await popup.getByLabel("Personal access token", { exact: true }).fill(GITHUB_TOKEN);
    const closed = popup.waitForEvent("close");
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    await closed;

    // The page says so, and lists the connection as the backend sees it.
    await page.getByRole("status").getByText("GitHub (token) is connected.").waitFor();
    await page.getByRole("list", { name: "Your connections" }).getByText("Ada's GitHub (token)").waitFor();
    expect(await page.locator("#no-connections").isVisible()).toBe(false);
    expect(await page.locator('#integrations li[data-slug="github-pat"] .tag').textContent()).toBe("Connected");
    const { nodes } = await oneRuntime.connections({ endUserId: USER.id });
    expect(nodes).toEqual([expect.objectContaining({ name: "Ada's GitHub (token)", integrationSlug: "github-pat", status: "ACTIVE", endUser: USER })]);
    expect((await oneRuntime.connectionCredentials({ id: nodes[0]!.id }))?.credentials.apiKey).toBe(GITHUB_TOKEN);

    // Disconnect deletes it in One Runtime, and the list follows.
    await page.getByRole("button", { name: "Disconnect Ada's GitHub (token)" }).click();
    await page.getByRole("status").getByText("Disconnected Ada's GitHub (token).").waitFor();
    await page.locator("#no-connections").waitFor({ state: "visible" });
    expect(await listed(page, "connections")).toEqual([]);
    expect((await oneRuntime.connections({ endUserId: USER.id })).totalCount).toBe(0);
    expect(await oneRuntime.connection({ id: nodes[0]!.id })).toBeNull();
    // The one failure (HubSpot) is in the backend's log with One Runtime's request id.
    expect(appLog).toEqual([expect.stringMatching(/^One Runtime createHostedConnectionSession failed: INTEGRATION_NOT_CONFIGURED .*\(request [0-9a-f-]{36}\)$/)]);
  });

  it("closing the popup connects nothing, and the page says so", async () => {
    const page = await openApp();
    await page.getByRole("searchbox", { name: "Search integrations" }).fill("openai");
    const connect = page.getByRole("button", { name: "Connect OpenAI" });
    await connect.waitFor();
    const opened = page.waitForEvent("popup");
    await connect.click();
    const popup = await opened;
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.close();
    await page.getByRole("status").getByText("Nothing was connected to OpenAI.").waitFor();
    await expect.poll(() => connect.isEnabled()).toBe(true);
    expect((await oneRuntime.connections({ endUserId: USER.id })).totalCount).toBe(0);
  });

  it("\"Let me choose\" opens the popup's picker; the user picks there and the page names what was connected", async () => {
    const page = await openApp();
    const opened = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Let me choose in the window" }).click();
    const popup = await opened;
    await popup.getByRole("heading", { name: "Choose an app to connect" }).waitFor();
    await popup.getByLabel("Search apps").fill("hacker news");
    const pick = popup.locator('#picker-results button[data-slug="hacker-news"]');
    await pick.click();
    await popup.getByRole("heading", { name: "Connect Hacker News" }).waitFor();
    const closed = popup.waitForEvent("close");
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    await closed;
    await page.getByRole("status").getByText("Hacker News is connected.").waitFor();
    const { nodes } = await oneRuntime.connections({ endUserId: USER.id });
    expect(nodes.map((n) => n.integrationSlug)).toEqual(["hacker-news"]);
    await oneRuntime.deleteConnection({ id: nodes[0]!.id });
  });
});

describe("the example backend's endpoints", () => {
  const post = (body: unknown) =>
    fetch(`${app.url}/api/one-runtime/hosted-connection-sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("POST /api/one-runtime/hosted-connection-sessions takes the seed's snake_case body and returns { session_token }", async () => {
    const res = await post({ integration_slug: "openai", end_user_id: USER.id, end_user_name: "Ada", end_user_email: "ada@example.com", suggested_connection_name: "Ada's key" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { session_token: string };
    expect(Object.keys(body)).toEqual(["session_token"]);
    const session = await server.gql(`{ hostedConnectionSession { status integration { slug } endUser { id name email } suggestedConnectionName } }`, {}, { token: body.session_token });
    expect(session.data.hostedConnectionSession).toEqual({
      status: "PENDING",
      integration: { slug: "openai" },
      endUser: { id: USER.id, name: "Ada", email: "ada@example.com" },
      suggestedConnectionName: "Ada's key",
    });
  });

  it("with let_user_choose, creates a session whose popup lets the user pick from the catalog", async () => {
    const res = await post({ let_user_choose: true, end_user_id: USER.id });
    expect(res.status).toBe(201);
    const { session_token } = (await res.json()) as { session_token: string };
    const session = await server.gql(`{ hostedConnectionSession { integration { slug } canChooseIntegration allowedIntegrationSlugs } }`, {}, { token: session_token });
    expect(session.data.hostedConnectionSession).toEqual({ integration: null, canChooseIntegration: true, allowedIntegrationSlugs: [] });
  });

  it("refuses a session for anyone but the signed-in user, and passes One Runtime's errors on", async () => {
    expect((await post({ integration_slug: "openai", end_user_id: "someone-else" })).status).toBe(403);
    expect((await post({ end_user_id: USER.id })).status).toBe(400);
    expect((await post({ integration_slug: "openai", let_user_choose: true, end_user_id: USER.id })).status).toBe(400);
    const unknown = await post({ integration_slug: "no-such-tool", end_user_id: USER.id });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "NOT_FOUND", request_id: expect.any(String) } });
    const badEmail = await post({ integration_slug: "openai", end_user_id: USER.id, end_user_email: "nope" });
    expect(badEmail.status).toBe(400);
    expect(await badEmail.json()).toMatchObject({ error: { code: "BAD_USER_INPUT", field_errors: [{ field: "endUserEmail" }] } });
  });

  it("lists and deletes only the signed-in user's connections", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "someone-else" });
    const done = await server.gql(`mutation { completeHostedConnectionSession(input: {}) { connectionId } }`, {}, { token: sessionToken });
    const theirs = done.data.completeHostedConnectionSession.connectionId as string;
    const mine = (await (await fetch(`${app.url}/api/one-runtime/connections`)).json()) as { connections: { id: string }[] };
    expect(mine.connections.map((c) => c.id)).not.toContain(theirs);
    const res = await fetch(`${app.url}/api/one-runtime/connections/${theirs}`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(await oneRuntime.connection({ id: theirs })).not.toBeNull();
  });
});
