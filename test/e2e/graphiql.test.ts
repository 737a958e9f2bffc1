// GraphiQL in chromium, served from our own files: it loads with no network but our server,
// fetches the schema without a key, and runs the default catalog query once the user has put
// their API key in the Headers tab.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Request } from "playwright-core";
import { launchBrowser } from "../support/browser.js";
import { startTestServer, testStore, type TestServer } from "../support/server.js";

// GraphiQL's files and behaviour do not depend on the store: one project is enough.
describe.skipIf(testStore !== "pglite")("GraphiQL", () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let apiKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    ({ apiKey } = await server.createOrganization("GraphiQL Co"));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.dispose();
    await server?.stop();
  });

  it("loads from our server alone, introspects without a key, and runs the default catalog query with the key from the Headers tab", async () => {
    const elsewhere: string[] = [];
    await browser.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${server.url}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    const graphqlPosts: Request[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url() === `${server.url}/graphql`) graphqlPosts.push(r);
    });

    const introspected = page.waitForResponse((r) => r.url() === `${server.url}/graphql` && (r.request().postData() ?? "").includes("IntrospectionQuery"));
    const res = await page.goto(`${server.url}/graphql`);
    expect(res?.headers()["content-type"]).toMatch(/^text\/html/);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'self'");
    const introspection = await introspected;
    expect(introspection.status()).toBe(200);
    expect(introspection.request().headers().authorization).toBeUndefined();

    // The user pastes their key into the Headers tab (the only editor GraphiQL shows there).
    await page.locator(".graphiql-editor-tools button[data-name='headers']").click();
    await page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)").click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${apiKey}` }));

    const ran = page.waitForResponse((r) => r.url() === `${server.url}/graphql` && (r.request().postData() ?? "").includes("query Catalog"));
    await page.locator(".graphiql-execute-button").click();
    const response = await ran;
    expect(response.status()).toBe(200);
    expect(response.request().headers().authorization).toBe(`Bearer ${apiKey}`);

    const body = (await response.json()) as { data: { categories: { slug: string }[]; integrations: { nodes: { slug: string }[] } } };
    expect(body.data.integrations.nodes.map((n) => n.slug)).toContain("hubspot");
    // The pane is an editor that renders only its visible lines: the top of the result.
    // (Monaco renders spaces as no-break spaces.)
    const paneText = async () => (await page.locator(".result-window").innerText()).replace(/\s+/g, " ");
    await expect.poll(paneText).toContain(`"slug": "${body.data.categories[0]!.slug}"`);
    const text = await paneText();
    expect(text).toContain('"categories"');
    expect(text).toContain('"integrationCount"');
    expect(text).not.toContain('"errors"');

    expect(graphqlPosts.length).toBeGreaterThanOrEqual(2);
    expect(elsewhere).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
