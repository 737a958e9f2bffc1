// The picker through the public API: a session created with a list of allowed integrations (or
// none: the whole catalog) offers them to the popup with the catalog's own search, narrowed to
// what the organization can connect; the end user's choice is checked against that offer, can
// change until the flow starts, and the connection is made with the chosen integration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const CREATE = `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken session { integrationSlug allowedIntegrationSlugs canChooseIntegration integration { slug } } } }`;
const CHOOSE = `mutation($slug: String!) { chooseHostedConnectionIntegration(input: { integrationSlug: $slug }) { status integrationSlug canChooseIntegration integration { slug name } } }`;
const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId integrationSlug } }`;
const SEARCH = `query($search: String, $category: String, $first: Int, $after: String) { hostedConnectionSession { availableIntegrations(search: $search, category: $category, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { slug } } } }`;
const CATALOG_SEARCH = `query($search: String, $category: String, $first: Int) { integrations(search: $search, category: $category, first: $first) { totalCount nodes { slug authType sandbox } } }`;
const CATEGORIES = `{ hostedConnectionSession { availableCategories { slug name integrationCount } } }`;

let server: TestServer;
let org: { apiKey: string; organizationId: string };

beforeAll(async () => {
  server = await startTestServer({ env: { ONE_RUNTIME_SANDBOX: "true" } });
  org = await server.createOrganization("Picker org");
  const r = await server.gql(
    `mutation { configureIntegration(input: { integrationSlug: "hubspot", oauthClientId: "hs", oauthClientSecret: "hs-secret" }) { integrationSlug } }`,
    {},
    { token: org.apiKey },
  );
  expect(r.errors).toBeUndefined();
});
afterAll(() => server?.stop());

const create = (input: Record<string, unknown>) => server.gql(CREATE, { input: { endUserId: "picker-user", ...input } }, { token: org.apiKey });
async function picker(input: Record<string, unknown> = {}) {
  const r = await create(input);
  expect(r.errors).toBeUndefined();
  return r.data.createHostedConnectionSession.sessionToken as string;
}
const search = (token: string, variables: Record<string, unknown>) => server.gql(SEARCH, { first: 100, ...variables }, { token });

describe("creating a picker session", () => {
  it("without integrationSlug offers the whole catalog: nothing chosen, nothing listed, the end user chooses", async () => {
    const r = await create({});
    expect(r.data.createHostedConnectionSession.session).toEqual({ integrationSlug: null, allowedIntegrationSlugs: [], canChooseIntegration: true, integration: null });
  });

  it("with a list stores it; a list of one is chosen from the start, like integrationSlug", async () => {
    const several = await create({ allowedIntegrations: ["openai", "twilio", "hubspot"] });
    expect(several.data.createHostedConnectionSession.session).toMatchObject({ integrationSlug: null, allowedIntegrationSlugs: ["openai", "twilio", "hubspot"], canChooseIntegration: true });
    const one = await create({ allowedIntegrations: ["openai"] });
    expect(one.data.createHostedConnectionSession.session).toEqual({ integrationSlug: "openai", allowedIntegrationSlugs: ["openai"], canChooseIntegration: false, integration: { slug: "openai" } });
    const named = await create({ integrationSlug: "openai" });
    expect(named.data.createHostedConnectionSession.session).toEqual(one.data.createHostedConnectionSession.session);
  });

  it("refuses both integrationSlug and a list, an empty list, unknown or repeated slugs, an OAuth2 entry without an app, and stores nothing", async () => {
    const before = await server.services.prisma.hostedConnectionSession.count();
    const both = await create({ integrationSlug: "openai", allowedIntegrations: ["twilio"] });
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", fieldErrors: [{ field: "allowedIntegrations" }] });
    expect((await create({ allowedIntegrations: [] })).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const bad = await create({ allowedIntegrations: ["openai", "no-such-thing", "openai"] });
    expect(bad.errors?.[0]?.extensions?.fieldErrors).toEqual([
      { field: "allowedIntegrations.1", message: '"no-such-thing" is not in the catalog' },
      { field: "allowedIntegrations.2", message: '"openai" is listed twice' },
    ]);
    expect((await create({ allowedIntegrations: ["openai", "salesforce"] })).errors?.[0]?.extensions?.code).toBe("INTEGRATION_NOT_CONFIGURED");
    expect((await create({ connectionId: "00000000-0000-4000-8000-000000000000" })).errors?.[0]?.extensions?.fieldErrors).toEqual([{ field: "integrationSlug", message: "required with connectionId" }]);
    expect(await server.services.prisma.hostedConnectionSession.count()).toBe(before);
  });
});

describe("what the picker offers", () => {
  it("searches the whole catalog with the API's ranking, minus OAuth2 entries the organization has no app for", async () => {
    const token = await picker();
    for (const term of ["slack", "opnai", "crm", "chat", null]) {
      const mine = (await search(token, { search: term })).data.hostedConnectionSession.availableIntegrations;
      const all = (await server.gql(CATALOG_SEARCH, { search: term, first: 100 }, { token: org.apiKey })).data.integrations;
      // The catalog answer, narrowed to what this organization can connect, in the same order.
      const expected = all.nodes.filter((n: { slug: string; authType: string; sandbox: boolean }) => n.authType !== "OAUTH2" || n.sandbox || ["hubspot", "greenhouse", "personio"].includes(n.slug));
      expect(mine.nodes.slice(0, expected.length).map((n: { slug: string }) => n.slug), String(term)).toEqual(expected.map((n: { slug: string }) => n.slug));
    }
    const typo = (await search(token, { search: "opnai" })).data.hostedConnectionSession.availableIntegrations;
    expect(typo.nodes[0].slug).toBe("openai");
    const slack = (await search(token, { search: "slack" })).data.hostedConnectionSession.availableIntegrations;
    expect(slack.nodes.map((n: { slug: string }) => n.slug)).not.toContain("slack"); // OAuth2, no app configured
  });

  it("a listed picker offers only its list, by category with counts of its own, and pages", async () => {
    const token = await picker({ allowedIntegrations: ["openai", "anthropic", "twilio", "hubspot"] });
    const all = (await search(token, {})).data.hostedConnectionSession.availableIntegrations;
    expect(all.nodes.map((n: { slug: string }) => n.slug).sort()).toEqual(["anthropic", "hubspot", "openai", "twilio"]);
    expect(all.totalCount).toBe(4);
    const ai = (await search(token, { category: "ai" })).data.hostedConnectionSession.availableIntegrations;
    expect(ai.nodes.map((n: { slug: string }) => n.slug).sort()).toEqual(["anthropic", "openai"]);
    const cats = (await server.gql(CATEGORIES, {}, { token })).data.hostedConnectionSession.availableCategories;
    expect(Object.fromEntries(cats.map((c: { slug: string; integrationCount: number }) => [c.slug, c.integrationCount]))).toEqual({ ai: 2, communication: 1, crm: 1, marketing: 1 });
    const first = (await search(token, { first: 3 })).data.hostedConnectionSession.availableIntegrations;
    const rest = (await search(token, { first: 3, after: first.pageInfo.endCursor })).data.hostedConnectionSession.availableIntegrations;
    expect([...first.nodes, ...rest.nodes].map((n: { slug: string }) => n.slug)).toEqual(all.nodes.map((n: { slug: string }) => n.slug));
    expect(first.pageInfo.hasNextPage).toBe(true);
  });

  it("leaves the organization's categories and integrations answers as they were", async () => {
    const cats = await server.gql(`{ categories { slug integrationCount } }`, {}, { token: org.apiKey });
    const ai = cats.data.categories.find((c: { slug: string }) => c.slug === "ai");
    const listed = await server.gql(CATALOG_SEARCH, { category: "ai", first: 100 }, { token: org.apiKey });
    expect(ai.integrationCount).toBe(listed.data.integrations.totalCount);
    expect(ai.integrationCount).toBeGreaterThan(2);
  });
});

describe("choosing", () => {
  it("refuses a slug outside the list with INTEGRATION_NOT_ALLOWED, and an unknown one the same way", async () => {
    const token = await picker({ allowedIntegrations: ["openai", "twilio"] });
    for (const slug of ["anthropic", "no-such-thing"]) {
      const r = await server.gql(CHOOSE, { slug }, { token });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: "INTEGRATION_NOT_ALLOWED", fieldErrors: [{ field: "integrationSlug" }] });
    }
    const whole = await picker();
    expect((await server.gql(CHOOSE, { slug: "slack" }, { token: whole })).errors?.[0]?.extensions?.code).toBe("INTEGRATION_NOT_ALLOWED");
  });

  it("cannot complete before choosing; chooses, may choose again, connects the chosen one, then the choice is final", async () => {
    const token = await picker({ allowedIntegrations: ["openai", "twilio"] });
    const early = await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, { token });
    expect(early.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", fieldErrors: [{ field: "integrationSlug" }] });
    expect((await server.gql(CHOOSE, { slug: "twilio" }, { token })).data.chooseHostedConnectionIntegration).toMatchObject({ integrationSlug: "twilio", canChooseIntegration: true });
    const chosen = await server.gql(CHOOSE, { slug: "openai" }, { token });
    expect(chosen.data.chooseHostedConnectionIntegration).toEqual({ status: "PENDING", integrationSlug: "openai", canChooseIntegration: true, integration: { slug: "openai", name: "OpenAI" } });
    const done = await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, { token });
    expect(done.data.completeHostedConnectionSession).toMatchObject({ status: "CONNECTED", integrationSlug: "openai" });
    const connection = await server.services.prisma.connection.findUniqueOrThrow({ where: { id: done.data.completeHostedConnectionSession.connectionId } });
    expect(connection.integrationSlug).toBe("openai");
    expect((await server.gql(CHOOSE, { slug: "twilio" }, { token })).errors?.[0]?.extensions?.code).toBe("SESSION_COMPLETED");
  });

  it("a single-integration session keeps its integration: choosing another is a CONFLICT", async () => {
    const token = await picker({ integrationSlug: "openai" });
    expect((await server.gql(CHOOSE, { slug: "twilio" }, { token })).errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect((await server.gql(CHOOSE, { slug: "openai" }, { token })).data.chooseHostedConnectionIntegration.integrationSlug).toBe("openai");
  });

  it("once an OAuth2 authorization has started, the choice is final", async () => {
    const token = await picker({ allowedIntegrations: ["oauth2-sandbox", "openai"] });
    await server.gql(CHOOSE, { slug: "oauth2-sandbox" }, { token });
    const start = await server.gql(`mutation { startHostedConnectionAuthorization(input: {}) { authorizationUrl } }`, {}, { token });
    expect(start.errors).toBeUndefined();
    const r = await server.gql(CHOOSE, { slug: "openai" }, { token });
    expect(r.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  });
});
