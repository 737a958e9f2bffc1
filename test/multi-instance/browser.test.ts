// The real SDK (connect.js in chromium) behind a load balancer stand-in over several One Runtime
// processes: the page's subscription sits on instance A, A dies (SIGKILL) or restarts (SIGTERM,
// close code 1012) while the popup is open, the balancer sends everything to B from then on, and
// the end user's submission lands on B — open() still resolves connected, exactly once.
// PostgreSQL only: the instances are separate processes sharing one database and Redis.
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser.js";
import { createTestDatabase } from "../support/postgres.js";
import { testStore } from "../support/server.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { createOrganizationIn, newEncryptionKey, REDIS_URL, spawnInstance, type Instance } from "../support/instances.js";
import { startCustomerApp, type CustomerApp } from "../e2e/fixtures/customer-app.js";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

describe.skipIf(testStore !== "postgres")("the SDK across instances", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let apiKey: string;
  let survivor: Instance;
  const instances: Instance[] = [];
  const proxies: TcpProxy[] = [];
  const apps: CustomerApp[] = [];
  let browser: BrowserContext & { dispose(): Promise<void> };

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey() };
    apiKey = (await createOrganizationIn(db.url, "SDK across instances")).apiKey;
    [survivor, browser] = await Promise.all([spawnInstance("B", env), launchBrowser()]);
    instances.push(survivor);
  });
  afterAll(async () => {
    await browser?.dispose();
    for (const a of apps) await a.close();
    for (const p of proxies) await p.close();
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    await db?.drop();
  });

  /**
   * A customer's page whose SDK baseUrl is the balancer (pointing at a fresh instance A); its
   * backend talks to B directly. Returns the page, the popup it opened, and A.
   */
  async function flowOnA(): Promise<{ page: Page; popup: Page; a: Instance; balancer: TcpProxy; app: CustomerApp }> {
    const a = await spawnInstance("A", env);
    instances.push(a);
    const balancer = await startTcpProxy({ port: a.port });
    proxies.push(balancer);
    const app = await startCustomerApp({ apiUrl: survivor.url, browserUrl: balancer.url(), apiKey });
    apps.push(app);
    const page = await browser.newPage();
    await page.goto(`${app.url}/?slug=openai`);
    const opened = page.waitForEvent("popup");
    await page.click("#connect");
    const popup = await opened;
    await popup.getByRole("heading", { name: "Connect OpenAI" }).waitFor();
    // The SDK's subscription is up on A (its metrics show it): the session is watched there.
    await expect
      .poll(async () => Number(/^one_runtime_websocket_subscriptions\S* (\d+)/m.exec(await (await fetch(`${a.url}/metrics`)).text())?.[1]))
      .toBe(1);
    return { page, popup, a, balancer, app };
  }

  async function resultOf(page: Page, timeout = 60_000): Promise<any> {
    const handle = await page.waitForFunction(() => document.getElementById("result")?.textContent || undefined, null, { timeout });
    return JSON.parse((await handle.jsonValue()) as string);
  }

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`open() resolves connected when the instance holding its subscription gets ${signal} mid-flow`, async () => {
      const { page, popup, a, balancer, app } = await flowOnA();
      a.proc.kill(signal);
      const exit = await a.exited;
      balancer.setTarget(survivor.port); // the balancer's health check takes A out
      if (signal === "SIGTERM") expect(exit.code).toBe(0);

      const started = Date.now();
      await popup.getByLabel("API key", { exact: true }).fill(OPENAI_KEY);
      await popup.getByRole("button", { name: "Connect", exact: true }).click();
      const result = await resultOf(page);
      console.log(`${signal} on the subscription's instance: open() resolved ${result.status} ${Date.now() - started} ms after the submission to B`);
      expect(result).toEqual({ status: "connected", connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/), integrationSlug: "openai" });
      // The submission went through B (A was gone), and the SDK reconnected there.
      expect(balancer.accepted.get(survivor.port)).toBeGreaterThanOrEqual(2);
      const connection = await app.readConnection(result.connectionId);
      expect(connection).toMatchObject({ id: result.connectionId, status: "ACTIVE", integrationSlug: "openai" });
      // Resolved once: the page wrote exactly one result, and no second connection exists for this session.
      expect(await page.evaluate(() => document.getElementById("result")!.textContent)).toBe(JSON.stringify(result));
      await page.close();
    }, 180_000);
  }
});
