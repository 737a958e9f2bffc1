// The catalog through the public API, on the real shipped catalog: categories, listing, the
// category and auth type filters, search ranking, paging, one integration, the viewer, logos.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntegrationEntry } from "../server/catalog/entry-schema.js";
import { startTestServer, type TestServer } from "./support/server.js";

const NODE = "slug name description categories authType logoUrl docsUrl featured credentialFields { key label secret placeholder pattern helpText }";
const LIST = `query($category: String, $search: String, $authType: AuthType, $first: Int, $after: String) {
  integrations(category: $category, search: $search, authType: $authType, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { ${NODE} }
  }
}`;

type Node = { slug: string; name: string; categories: string[]; authType: string; featured: boolean };
type Page = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Node[] };

let server: TestServer;
let apiKey: string;
/** The catalog the server loaded (shipped files, plus the sandbox entry on the embedded store). */
let all: IntegrationEntry[];

beforeAll(async () => {
  server = await startTestServer();
  ({ apiKey } = await server.createOrganization("Catalog readers"));
  all = server.services.catalog.all();
});
afterAll(() => server?.stop());

async function list(vars: Record<string, unknown> = {}): Promise<Page> {
  const r = await server.gql(LIST, vars, { token: apiKey });
  expect(r.errors).toBeUndefined();
  return r.data.integrations;
}
const search = async (text: string) => (await list({ search: text, first: 100 })).nodes.map((n) => n.slug);

describe("categories", () => {
  it("lists every category with its integration count, featured first", async () => {
    const r = await server.gql(`{ categories { slug name featured integrationCount } }`, {}, { token: apiKey });
    const categories: { slug: string; name: string; featured: boolean; integrationCount: number }[] = r.data.categories;
    expect(categories.map((c) => c.slug).sort()).toEqual(server.services.catalog.categories.map((c) => c.slug).sort());
    for (const c of categories) {
      expect(c.integrationCount, c.slug).toBe(all.filter((i) => i.categories.includes(c.slug)).length);
    }
    const featured = categories.map((c) => c.featured);
    expect(featured).toEqual([...featured].sort((a, b) => Number(b) - Number(a)));
  });

  it("a category's count equals the total of its filtered listing", async () => {
    const r = await server.gql(`{ categories { slug integrationCount } }`, {}, { token: apiKey });
    for (const c of r.data.categories as { slug: string; integrationCount: number }[]) {
      expect((await list({ category: c.slug, first: 0 })).totalCount, c.slug).toBe(c.integrationCount);
    }
  });
});

describe("integrations listing", () => {
  it("lists the whole catalog by name, with every field, 50 to a page by default", async () => {
    const page = await list();
    expect(page.totalCount).toBe(all.length);
    expect(page.nodes).toHaveLength(Math.min(50, all.length));
    expect(page.pageInfo.hasNextPage).toBe(all.length > 50);
    const names = page.nodes.map((n) => n.name.toLowerCase());
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    const hubspot = page.nodes.find((n) => n.slug === "hubspot") ?? (await list({ search: "hubspot" })).nodes[0];
    expect(hubspot).toMatchObject({ slug: "hubspot", name: "HubSpot", authType: "OAUTH2", docsUrl: expect.stringMatching(/^https:\/\//) });
    expect(hubspot!.categories).toContain("crm");
  });

  it("filters by category: every node is in it", async () => {
    const page = await list({ category: "crm", first: 100 });
    expect(page.totalCount).toBe(all.filter((i) => i.categories.includes("crm")).length);
    expect(page.totalCount).toBeGreaterThan(0);
    for (const n of page.nodes) expect(n.categories).toContain("crm");
  });

  it("an unknown category gives an empty page, not an error", async () => {
    expect(await list({ category: "no-such-category" })).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] });
  });

  it("filters by auth type", async () => {
    for (const authType of ["OAUTH2", "API_KEY", "BASIC", "NONE"]) {
      const page = await list({ authType, first: 100 });
      expect(page.totalCount, authType).toBe(all.filter((i) => i.authType === authType).length);
      for (const n of page.nodes) expect(n.authType).toBe(authType);
    }
  });

  it.each([101, 1000, -1])("refuses first: %i as BAD_USER_INPUT", async (first) => {
    const r = await server.gql(LIST, { first }, { token: apiKey });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", fieldErrors: [{ field: "first" }] });
  });

  it("accepts first: 100, the maximum", async () => {
    expect((await list({ first: 100 })).nodes).toHaveLength(Math.min(100, all.length));
  });

  it("refuses a search longer than 100 characters", async () => {
    const r = await server.gql(LIST, { search: "x".repeat(101) }, { token: apiKey });
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("paging", () => {
  async function walk(vars: Record<string, unknown>, first: number): Promise<{ slugs: string[]; pages: number }> {
    const slugs: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: Page = await list({ ...vars, first, after });
      pages++;
      expect(page.nodes.length).toBeLessThanOrEqual(first);
      slugs.push(...page.nodes.map((n) => n.slug));
      if (!page.pageInfo.hasNextPage) break;
      expect(page.pageInfo.endCursor).toEqual(expect.any(String));
      after = page.pageInfo.endCursor;
      expect(pages).toBeLessThan(200);
    }
    return { slugs, pages };
  }

  it("walking small pages gives the full list once, in the same order", async () => {
    // The catalog outgrew one page of the maximum size, so the reference list is walked too.
    const full = (await walk({}, 100)).slugs;
    expect(full.length).toBeGreaterThan(100);
    const { slugs, pages } = await walk({}, 2);
    expect(slugs).toEqual(full);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(pages).toBe(Math.max(1, Math.ceil(full.length / 2)));
  });

  it("walking a search's pages gives its ranked list", async () => {
    const full = await search("crm");
    expect((await walk({ search: "crm" }, 1)).slugs).toEqual(full);
  });

  it("a page's endCursor continues right after its last node", async () => {
    const first = await list({ first: 1 });
    const next = await list({ first: 2, after: first.pageInfo.endCursor });
    const both = await list({ first: 3 });
    expect([...first.nodes, ...next.nodes].map((n) => n.slug)).toEqual(both.nodes.map((n) => n.slug));
  });

  it.each([
    ["garbage", "not-a-cursor"],
    ["a cursor for an unknown integration", Buffer.from("integration:no-such-slug").toString("base64url")],
  ])("refuses %s as BAD_USER_INPUT", async (_name, after) => {
    const r = await server.gql(LIST, { after }, { token: apiKey });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", fieldErrors: [{ field: "after" }] });
  });

  it("an empty page (first: 0) still counts the matches", async () => {
    const page = await list({ first: 0 });
    expect(page).toMatchObject({ totalCount: all.length, nodes: [], pageInfo: { endCursor: null } });
  });
});

describe("search", () => {
  /** Which rule a result matched by, judged independently of the server's index. */
  function tier(n: IntegrationEntry, text: string): number {
    const q = text.toLowerCase();
    const name = n.name.toLowerCase();
    if (n.slug === q || name === q) return 0;
    if (n.slug.startsWith(q) || name.startsWith(q)) return 1;
    const categoryNames = n.categories.map((c) => server.services.catalog.categories.find((k) => k.slug === c)?.name ?? "");
    const words = [name, n.slug, ...n.keywords, ...n.categories, ...categoryNames].flatMap((w) => [w.toLowerCase(), ...w.toLowerCase().split(/[^a-z0-9]+/)]);
    if (words.includes(q)) return 2;
    return 3; // word prefix, description or typo
  }

  it("an exact slug ranks first", async () => {
    expect((await search("hubspot"))[0]).toBe("hubspot");
  });

  it.each(["HubSpot", "hubspot", "HUBSPOT", "  hubSpot "])("an exact name, in any case (%j), ranks first", async (text) => {
    expect((await search(text))[0]).toBe("hubspot");
  });

  it('a prefix ("hub") ranks HubSpot, and every prefix match, before other matches', async () => {
    const slugs = await search("hub");
    expect(slugs[0]).toBe("hubspot");
    const tiers = slugs.map((s) => tier(entry(s), "hub"));
    expect(tiers).toEqual([...tiers].sort((a, b) => a - b));
  });

  it('"crm" finds every CRM tool', async () => {
    const slugs = await search("crm");
    const crm = all.filter((i) => i.categories.includes("crm")).map((i) => i.slug);
    expect(crm.length).toBeGreaterThan(0);
    expect(slugs).toEqual(expect.arrayContaining(crm));
  });

  it.each([
    ["hubsopt", "hubspot"], // adjacent swap
    ["hubspt", "hubspot"], // deletion
    ["twillio", "twilio"], // insertion
    ["opanai", "openai"], // substitution
  ])("tolerates one typo: %j finds %s", async (text, slug) => {
    expect(await search(text)).toContain(slug);
  });

  it("does not match two typos", async () => {
    expect(await search("hbusopt")).not.toContain("hubspot");
  });

  it.each(["hubspot", "hub", "crm", "open", "hubsopt", "twilio", "ai"])("orders %j results exact, then prefix, then word, then the rest", async (text) => {
    const tiers = (await search(text)).map((s) => tier(entry(s), text));
    expect(tiers.length).toBeGreaterThan(0);
    expect(tiers).toEqual([...tiers].sort((a, b) => a - b));
  });

  it("finds nothing for nonsense, without an error", async () => {
    expect(await list({ search: "qqqqzzzzxxxx" })).toMatchObject({ totalCount: 0, nodes: [] });
  });

  it("combines search with the category filter", async () => {
    const page = await list({ search: "hubspot", category: "ai" });
    expect(page.nodes.map((n) => n.slug)).not.toContain("hubspot");
    expect((await list({ search: "hubspot", category: "crm" })).nodes[0]?.slug).toBe("hubspot");
  });
});

describe("one integration", () => {
  it("returns an integration by slug with what the popup needs", async () => {
    const r = await server.gql(`query($slug: String!) { integration(slug: $slug) { ${NODE} } }`, { slug: "openai" }, { token: apiKey });
    const openai = entry("openai");
    expect(r.data.integration).toMatchObject({ slug: "openai", name: openai.name, authType: "API_KEY", categories: openai.categories });
    expect(r.data.integration.credentialFields.length).toBe(openai.credentialFields.length);
    expect(r.data.integration.credentialFields.some((f: { secret: boolean }) => f.secret)).toBe(true);
  });

  it("is null for an unknown slug", async () => {
    const r = await server.gql(`{ integration(slug: "no-such-tool") { slug } }`, {}, { token: apiKey });
    expect(r.errors).toBeUndefined();
    expect(r.data.integration).toBeNull();
  });
});

function entry(slug: string): IntegrationEntry {
  const found = all.find((i) => i.slug === slug);
  if (!found) throw new Error(`the shipped catalog has no ${slug}`);
  return found;
}

describe("viewer", () => {
  it("names the calling key's organization", async () => {
    const org = await server.createOrganization("Viewer Co");
    const r = await server.gql(`{ viewer { organization { id name } } }`, {}, { token: org.apiKey });
    expect(r.data.viewer.organization).toEqual({ id: org.organizationId, name: "Viewer Co" });
  });
});

describe("logos", () => {
  it("logoUrl serves an SVG under a sandboxing content security policy", async () => {
    const r = await server.gql(`{ integration(slug: "hubspot") { logoUrl } }`, {}, { token: apiKey });
    const res = await fetch(r.data.integration.logoUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("sandbox");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("script-src");
    expect(await res.text()).toMatch(/^<svg[\s>]/);
  });

  it("an unknown integration's logo is 404", async () => {
    expect((await fetch(`${server.url}/logos/no-such-tool.svg`)).status).toBe(404);
  });
});
