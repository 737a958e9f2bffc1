// The browser side end to end, in Debian's chromium: a customer's page (its own origin) imports
// connect.js, its backend creates a session with the API key, the page opens the hosted popup,
// the end user finishes (or abandons) the flow, and open() settles with the server's truth.
import { mkdir } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { POPUP_CLOSE_GRACE_MS } from "../../server/sessions/complete.js";
import { hashSessionToken } from "../../server/sessions/tokens.js";
import { launchBrowser } from "../support/browser.js";
import { startTestServer, testStore, type TestServer } from "../support/server.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { startCustomerApp, type CustomerApp } from "./fixtures/customer-app.js";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const TWILIO_SID = `AC${"0123456789abcdef".repeat(2)}`;
const READ = `{ hostedConnectionSession { status connectionId error { code message } } }`;
const COMPLETE = `mutation { completeHostedConnectionSession(input: {}) { status } }`;

let server: TestServer;
let org: { apiKey: string };
let app: CustomerApp;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
/** What broke in any page: CSP refusals (the popup allows no inline code) and uncaught errors. */
const problems: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { ONE_RUNTIME_SANDBOX: "true" } });
  org = await server.createOrganization("Popup e2e");
  app = await startCustomerApp({ apiUrl: server.url, apiKey: org.apiKey });
  browser = await launchBrowser();
  browser.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  browser.on("page", (page) => page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`)));
});
afterEach(async () => {
  app.onSessionCreated = undefined;
  for (const page of pages.splice(0)) await page.close().catch(() => {});
  expect(problems.splice(0)).toEqual([]);
});
afterAll(async () => {
  await browser?.dispose();
  await app?.close();
  await server?.stop();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  pages.push(page);
  return page;
}

/** The customer's page for one integration, its Connect button clicked, and the popup it opened. */
async function clickConnect(slug: string, setup?: (page: Page) => Promise<void>, customer: CustomerApp = app) {
  const page = await newPage();
  await setup?.(page);
  await page.goto(`${customer.url}/?slug=${slug}`);
  const opened = page.waitForEvent("popup");
  await page.click("#connect");
  const popup = await opened;
  pages.push(popup);
  return { page, popup };
}

/**
 * What open() resolved with, as the customer's page wrote it. The limit only catches a flow that
 * never settles (a lost cancel waits for the session's 30-minute expiry), never a slow one.
 */
async function resultOf(page: Page, timeout = 60_000): Promise<any> {
  const handle = await page.waitForFunction(() => document.getElementById("result")?.textContent || undefined, null, { timeout });
  return JSON.parse((await handle.jsonValue()) as string);
}

async function sessionState(token: string) {
  return (await server.gql(READ, {}, { token })).data.hostedConnectionSession;
}

/** The session's row as stored, bookkeeping included (the popup's page, a close it reported). */
async function storedSession(token: string) {
  return server.services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { tokenHash: hashSessionToken(token) } });
}

const lastSession = () => app.sessions.at(-1)!;

/** Presses Tab until the input named `name` has focus (help links sit in between). */
async function tabTo(page: Page, name: string) {
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Tab");
    if ((await page.evaluate(() => document.activeElement?.getAttribute("name"))) === name) return;
  }
  throw new Error(`Tab never reached ${name}`);
}

describe("connecting through the popup", () => {
  it("an API key integration: the end user pastes a key, open() resolves connected, the popup closes and the backend reads the connection", async () => {
    const { page, popup } = await clickConnect("openai");
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    expect(new URL(popup.url()).hash).toBe(""); // the token left the address bar
    await expect(popup.getByText("Connecting as").textContent()).resolves.toContain("Ada Lovelace");
    await expect(popup.getByLabel("Connection name").inputValue()).resolves.toBe("Ada's workspace");

    const key = popup.getByLabel("API key", { exact: true });
    expect(await key.getAttribute("type")).toBe("password");
    await popup.getByRole("button", { name: "Show API key" }).click();
    expect(await key.getAttribute("type")).toBe("text");
    const help = popup.getByRole("link", { name: /Learn more/ });
    expect(await help.getAttribute("target")).toBe("_blank");
    expect(await help.getAttribute("rel")).toBe("noopener noreferrer");

    await key.fill(OPENAI_KEY);
    const closed = popup.waitForEvent("close");
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    const result = await resultOf(page);
    expect(result).toEqual({ status: "connected", connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/), integrationSlug: "openai" });
    await closed;

    const res = await fetch(`${app.url}/api/one-runtime/connections/${result.connectionId}`);
    const connection = await res.json();
    expect(connection).toMatchObject({
      id: result.connectionId,
      name: "Ada's workspace",
      status: "ACTIVE",
      integrationSlug: "openai",
      endUser: { id: "user-42", name: "Ada Lovelace", email: "ada@example.com" },
      credentials: { authType: "API_KEY", apiKey: OPENAI_KEY },
    });
  });

  it("a basic-auth integration works with the keyboard alone", async () => {
    const { page, popup } = await clickConnect("twilio");
    await popup.getByRole("heading", { name: "Connect Twilio" }).waitFor();
    // Focus starts in the first field; Tab moves on; Enter submits.
    expect(await popup.evaluate(() => document.activeElement?.id)).toBe(await popup.getByLabel("Account SID").getAttribute("id"));
    await popup.keyboard.type(TWILIO_SID);
    await tabTo(popup, "password");
    await popup.keyboard.type("twilio-auth-token-secret");
    await popup.keyboard.down("Enter"); // no key-up: the popup may be gone by then
    const result = await resultOf(page);
    expect(result.status).toBe("connected");
    const connection = await app.readConnection(result.connectionId);
    expect(connection.credentials).toMatchObject({ authType: "BASIC", username: TWILIO_SID, password: "twilio-auth-token-secret" });
  });

  it("a no-credential integration connects with one click", async () => {
    const { page, popup } = await clickConnect("hacker-news");
    await popup.getByText("Hacker News needs no credentials.").waitFor();
    expect(await popup.locator("input:not([name=connectionName])").count()).toBe(0);
    await popup.getByLabel("Connection name").fill("Ada's news feed");
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    const result = await resultOf(page);
    expect(result.status).toBe("connected");
    expect(await app.readConnection(result.connectionId)).toMatchObject({ name: "Ada's news feed", integrationSlug: "hacker-news" });
  });

  it("an OAuth2 integration: Continue to the provider, approve there, and open() resolves connected", async () => {
    const { page, popup } = await clickConnect("oauth2-sandbox");
    await popup.getByRole("button", { name: "Continue to OAuth2 Sandbox" }).click();
    await popup.getByRole("button", { name: "Approve" }).click();
    const result = await resultOf(page);
    expect(result.status).toBe("connected");
    expect((await app.readConnection(result.connectionId)).credentials.authType).toBe("OAUTH2");
  });
});

describe("field errors", () => {
  it("a key in the wrong format is flagged next to its input, focused, and nothing is created until it is fixed", async () => {
    const { page, popup } = await clickConnect("openai");
    const key = popup.getByLabel("API key", { exact: true });
    await key.fill("not-an-openai-key");
    await popup.getByRole("button", { name: "Connect", exact: true }).click();

    const error = popup.locator(".field-error:not([hidden])");
    await expect(error.textContent()).resolves.toContain("API key doesn't look right (expected something like sk-...)");
    expect(await key.getAttribute("aria-invalid")).toBe("true");
    const errorId = await error.getAttribute("id");
    expect((await key.getAttribute("aria-describedby"))?.split(" ")).toContain(errorId);
    expect(await popup.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("apiKey");
    expect(await sessionState(lastSession().sessionToken)).toMatchObject({ status: "PENDING", connectionId: null });

    await key.fill(OPENAI_KEY);
    expect(await key.getAttribute("aria-invalid")).toBeNull(); // cleared as soon as it is fixed
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    expect((await resultOf(page)).status).toBe("connected");
  });

  it("a field error from the server lands next to its input", async () => {
    const { page, popup } = await clickConnect("twilio", undefined);
    // Get a value past the page's own check, to see the server's verdict rendered.
    await popup.route("**/graphql", async (route) => {
      const body = route.request().postDataJSON();
      if (!String(body.query).includes("completeHostedConnectionSession")) return route.continue();
      body.variables.input.credentials = [{ key: "username", value: "AC-not-a-sid" }, { key: "password", value: "secret" }];
      return route.continue({ postData: JSON.stringify(body) });
    });
    await popup.getByLabel("Account SID").fill(TWILIO_SID);
    await popup.getByLabel("Auth token", { exact: true }).fill("secret");
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    const sid = popup.getByLabel("Account SID");
    await expect.poll(() => sid.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (await sid.getAttribute("aria-describedby"))!.split(" ");
    expect(await popup.locator(`#${describedBy[0]}`).textContent()).toContain("Account SID doesn't look right");
    expect(await popup.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("username");
    expect(await sessionState(lastSession().sessionToken)).toMatchObject({ status: "PENDING" });
    await popup.unroute("**/graphql");
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    expect((await resultOf(page)).status).toBe("connected");
  });
});

describe("ending without a connection", () => {
  it("closing the popup resolves cancelled within a few seconds", async () => {
    const { page, popup } = await clickConnect("openai");
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.close();
    // Settled by the close itself (the beacon or the SDK noticing), not the session's expiry.
    const result = await resultOf(page);
    expect(result.status).toBe("cancelled");
    expect((await sessionState(lastSession().sessionToken)).status).toBe("CANCELLED");
  });

  it("the SDK cancels a closed popup's session itself when the popup's beacon never arrives", async () => {
    // Beacons from a closing page slip past request routing: silence them at the source.
    const noBeacon = await browser.addInitScript(() => {
      navigator.sendBeacon = () => true;
    });
    try {
      const { page, popup } = await clickConnect("openai");
      await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
      await popup.close();
      expect(await resultOf(page)).toMatchObject({ status: "cancelled", error: { code: "cancelled" } });
    } finally {
      await noBeacon.dispose();
    }
  });

  it("the popup's own beacon cancels its session when it closes, even with no SDK watching", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "beacon-user" });
    const popup = await newPage();
    await popup.goto(`${server.url}/connect#${sessionToken}`);
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    expect(new URL(popup.url()).hash).toBe("");
    await popup.close({ runBeforeUnload: true });
    await expect.poll(() => sessionState(sessionToken)).toMatchObject({ status: "CANCELLED", error: { code: "popup_closed" } });
  });

  it("a reloaded popup keeps its session: still open past the close grace, and it can still be completed", async () => {
    const { page, popup } = await clickConnect("openai");
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.reload(); // its pagehide sends the close beacon
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await new Promise((resolve) => setTimeout(resolve, POPUP_CLOSE_GRACE_MS + 1_500));
    expect(await storedSession(lastSession().sessionToken)).toMatchObject({ status: "PENDING", closeRequestedAt: null });
    expect(await page.locator("#result").textContent()).toBe(""); // open() has not settled
    await popup.getByLabel("API key", { exact: true }).fill(OPENAI_KEY);
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    expect((await resultOf(page)).status).toBe("connected");
  });

  it("the beacon of a reloaded popup's new page still cancels its session when it closes, with no SDK watching", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "beacon-reload-user" });
    const popup = await newPage();
    await popup.goto(`${server.url}/connect#${sessionToken}`);
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.reload();
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.close({ runBeforeUnload: true });
    await expect.poll(() => sessionState(sessionToken)).toMatchObject({ status: "CANCELLED", error: { code: "popup_closed" } });
  });

  it("closing a popup after a reload still resolves cancelled", async () => {
    const { page, popup } = await clickConnect("openai");
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.reload();
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.close({ runBeforeUnload: true });
    expect((await resultOf(page)).status).toBe("cancelled");
    expect((await storedSession(lastSession().sessionToken)).status).toBe("CANCELLED");
  });

  it("the Cancel button cancels the session and resolves cancelled", async () => {
    const { page, popup } = await clickConnect("hacker-news");
    await popup.getByRole("button", { name: "Cancel" }).click();
    expect((await resultOf(page)).status).toBe("cancelled");
    expect((await sessionState(lastSession().sessionToken)).status).toBe("CANCELLED");
  });

  it("an expired session resolves expired and the popup says so", async () => {
    app.onSessionCreated = async ({ sessionId }) => {
      await server.services.prisma.hostedConnectionSession.update({ where: { id: sessionId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    };
    const { page } = await clickConnect("openai");
    expect(await resultOf(page)).toMatchObject({ status: "expired", error: { code: "session_expired" } });
    // The SDK closed that popup at once; opened on its own, the page explains.
    const popup = await newPage();
    await popup.goto(`${server.url}/connect#${lastSession().sessionToken}`);
    await popup.locator("main").getByText("This session has expired. Close this window and try again from the app.").waitFor();
  });

  it("a blocked popup resolves failed / popup_blocked at once", async () => {
    const page = await newPage();
    await page.addInitScript(() => {
      window.open = () => null; // what a popup blocker does
    });
    await page.goto(`${app.url}/?slug=openai`);
    await page.click("#connect");
    expect(await resultOf(page, 3_000)).toMatchObject({ status: "failed", error: { code: "popup_blocked" } });
  });

  it("a token the server does not know resolves failed / invalid_session and the popup says the link is not valid", async () => {
    const page = await sdkPage();
    const opened = page.waitForEvent("popup");
    const result = page.evaluate(() => (window as any).oneRuntime.connections.open({ sessionToken: `ort_sess_${"x".repeat(43)}` }));
    pages.push(await opened);
    expect(await result).toMatchObject({ status: "failed", error: { code: "invalid_session" } });
    // The SDK closed that popup at once; opened on its own, the page explains.
    const popup = await newPage();
    await popup.goto(`${server.url}/connect#ort_sess_${"x".repeat(43)}`);
    await popup.getByRole("heading", { name: "This link is not valid" }).waitFor();
  });
});

/** A blank page on the customer's origin with the SDK loaded as `window.oneRuntime`. */
async function sdkPage(baseUrl = server.url, setup?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await newPage();
  await setup?.(page);
  await page.goto(`${app.url}/?slug=none`);
  // A string, so vitest's transform leaves the browser's own import() alone.
  await page.evaluate(`import(${JSON.stringify(`${baseUrl}/connect.js`)}).then((m) => { window.oneRuntime = m.createOneRuntime({ baseUrl: ${JSON.stringify(baseUrl)} }); })`);
  return page;
}

describe("the SDK's open()", () => {
  it("an AbortSignal cancels the session, closes the popup and resolves cancelled / aborted", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "abort-user" });
    const page = await sdkPage();
    const opened = page.waitForEvent("popup");
    await page.evaluate((token) => {
      const controller = new AbortController();
      (window as any).abort = () => controller.abort();
      (window as any).flow = (window as any).oneRuntime.connections.open({ sessionToken: token, signal: controller.signal });
    }, sessionToken);
    const popup = await opened;
    pages.push(popup);
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    const closed = popup.waitForEvent("close");
    const result = await page.evaluate(() => ((window as any).abort(), (window as any).flow));
    expect(result).toMatchObject({ status: "cancelled", error: { code: "aborted" } });
    await closed;
    expect((await sessionState(sessionToken)).status).toBe("CANCELLED");
  });

  it("an already aborted signal resolves cancelled / aborted without opening anything", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "abort-user-2" });
    const page = await sdkPage();
    let popups = 0;
    page.on("popup", () => popups++);
    const result = await page.evaluate((token) => (window as any).oneRuntime.connections.open({ sessionToken: token, signal: AbortSignal.abort() }), sessionToken);
    expect(result).toMatchObject({ status: "cancelled", error: { code: "aborted" } });
    expect(popups).toBe(0);
    await expect.poll(async () => (await sessionState(sessionToken)).status).toBe("CANCELLED");
  });

  it("a second open() returns the same promise for the same token and refuses another token while a popup is open", async () => {
    const first = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "twice-user" });
    const other = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "twice-user-2" });
    const page = await sdkPage();
    const opened = page.waitForEvent("popup");
    const answer = await page.evaluate(
      async ({ a, b }) => {
        const sdk = (window as any).oneRuntime;
        const p1 = sdk.connections.open({ sessionToken: a });
        const p2 = sdk.connections.open({ sessionToken: a });
        const refused = await sdk.connections.open({ sessionToken: b }).then(
          () => undefined,
          (e: any) => ({ name: e.name, code: e.code, message: e.message, isError: e instanceof Error }),
        );
        (window as any).flow = p1;
        return { same: p1 === p2, refused };
      },
      { a: first.sessionToken, b: other.sessionToken },
    );
    expect(answer).toEqual({ same: true, refused: { name: "OneRuntimeError", code: "already_open", message: "A connection popup is already open", isError: true } });
    const popup = await opened;
    pages.push(popup);
    await popup.getByRole("button", { name: "Connect", exact: true }).click();
    expect(await page.evaluate(() => (window as any).flow)).toMatchObject({ status: "connected" });
  });

  it("a dropped WebSocket reconnects, re-reads the session and still resolves with what happened meanwhile", async () => {
    const proxy = await startTcpProxy({ port: server.port });
    try {
      const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "drop-user" });
      const page = await sdkPage(proxy.url());
      const sockets = watchSockets(page);
      const opened = page.waitForEvent("popup");
      await page.evaluate((token) => void ((window as any).flow = (window as any).oneRuntime.connections.open({ sessionToken: token })), sessionToken);
      pages.push(await opened);
      await expect.poll(() => sockets.pendingSeen).toBe(1);

      proxy.setMode("refuse");
      proxy.cutAll(); // an abnormal close (1006), then refused reconnects
      expect((await server.gql(COMPLETE, {}, { token: sessionToken })).data.completeHostedConnectionSession.status).toBe("CONNECTED");
      // The SDK has tried to reconnect and been refused (not merely waited) before the way opens.
      await expect.poll(() => proxy.refused).toBeGreaterThanOrEqual(1);
      proxy.setMode("forward");
      expect(await page.evaluate(() => (window as any).flow)).toMatchObject({ status: "connected" });
      expect(sockets.opened).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
    }
  });

  it("a server restart (close code 1012) reconnects to the next instance, which finishes the flow", async () => {
    // Two instances one after the other on the same store, behind one address.
    const key = { ONE_RUNTIME_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64") };
    const first = await startTestServer({ env: key });
    const proxy: TcpProxy = await startTcpProxy({ port: first.port });
    let second: TestServer | undefined;
    try {
      const firstOrg = await first.createOrganization("Restart org");
      const { sessionToken } = await first.createSession(firstOrg.apiKey, { integrationSlug: "hacker-news", endUserId: "restart-user" });
      // Record how the page's sockets close (playwright's WebSocket events do not say).
      const page = await sdkPage(proxy.url(), async (p) => {
        await p.addInitScript(() => {
          const Native = window.WebSocket;
          const codes: number[] = ((window as any).closeCodes = []);
          window.WebSocket = class extends Native {
            constructor(url: string | URL, protocols?: string | string[]) {
              super(url, protocols);
              this.addEventListener("close", (event) => codes.push(event.code));
            }
          };
        });
      });
      const sockets = watchSockets(page);
      const opened = page.waitForEvent("popup");
      await page.evaluate((token) => void ((window as any).flow = (window as any).oneRuntime.connections.open({ sessionToken: token })), sessionToken);
      const popup = await opened;
      pages.push(popup);
      await expect.poll(() => sockets.pendingSeen).toBe(1);

      await first.close(); // sends 1012 to every socket
      await expect.poll(() => page.evaluate(() => (window as any).closeCodes)).toContain(1012);
      second = await startTestServer({ env: key, dataDir: first.dataDir, ...(first.databaseUrl ? { databaseUrl: first.databaseUrl } : {}) });
      proxy.setTarget(second.port);
      await expect.poll(() => sockets.pendingSeen).toBe(2);
      await second.gql(COMPLETE, {}, { token: sessionToken });
      expect(await page.evaluate(() => (window as any).flow)).toMatchObject({ status: "connected" });
    } finally {
      await proxy.close();
      await second?.close();
      await first.stop();
    }
  });
});

/** Counts the page's WebSockets and the PENDING states they delivered. */
function watchSockets(page: Page) {
  const stats = { opened: 0, pendingSeen: 0 };
  page.on("websocket", (ws) => {
    stats.opened++;
    ws.on("framereceived", ({ payload }) => {
      if (String(payload).includes('"PENDING"')) stats.pendingSeen++;
    });
  });
  return stats;
}

describe("the served files", () => {
  it("connect.js is served to any origin and stays under 8 KB gzipped, WebSocket client included", async () => {
    const res = await fetch(`${server.url}/connect.js`, { headers: { origin: "https://customer.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("content-type")).toContain("javascript");
    const body = Buffer.from(await res.arrayBuffer());
    expect(gzipSync(body, { level: 9 }).length).toBeLessThanOrEqual(8 * 1024);
    const types = await (await fetch(`${server.url}/connect.d.ts`)).text();
    for (const name of ["createOneRuntime", "OneRuntime", "OpenOptions", "OpenResult", "OneRuntimeOptions"]) expect(types).toMatch(new RegExp(`export (declare function|interface|type) ${name}\\b`));
  });

  it("the API key form fits the 450×650 window the SDK opens (docs/popup.png)", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, {
      integrationSlug: "openai",
      endUserId: "user-42",
      endUserName: "Ada Lovelace",
      endUserEmail: "ada@example.com",
      suggestedConnectionName: "Ada's workspace",
    });
    const popup = await newPage();
    await popup.setViewportSize({ width: 450, height: 650 });
    await popup.goto(`${server.url}/connect#${sessionToken}`);
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    await popup.waitForFunction(() => [...document.images].every((img) => img.complete));
    const size = await popup.evaluate(() => ({ width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight }));
    expect(size.width).toBeLessThanOrEqual(450);
    expect(size.height).toBeLessThanOrEqual(650); // everything, footer included, without scrolling
    // README's screenshot is refreshed on request only, so a test run leaves the tree clean.
    if (testStore === "pglite" && process.env.UPDATE_DOCS_SCREENSHOT === "true") {
      await mkdir("docs", { recursive: true });
      await popup.screenshot({ path: "docs/popup.png" });
    }
  });
});
