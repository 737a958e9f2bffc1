// Loading the catalog files: a bad file stops loading with the file and the field named; an
// operator's folder adds and overrides entries; mirroring into the database is idempotent.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalog, syncCatalogToDatabase } from "../server/catalog/catalog.js";
import { CatalogError, loadCatalog } from "../server/catalog/load.js";
import { applyMigrations } from "../server/db/migrations.js";
import type { Store } from "../server/db/store.js";
import { createStoreLocation, type StoreLocation } from "./support/store.js";

const temps: string[] = [];
afterAll(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));

const CATEGORIES = [
  { slug: "crm", name: "CRM" },
  { slug: "ai", name: "AI" },
];
const validEntry = (slug: string, extra: Record<string, unknown> = {}) => ({
  slug,
  name: `Tool ${slug}`,
  description: "A tool.",
  categories: ["crm"],
  authType: "API_KEY",
  docsUrl: "https://example.com/docs",
  credentialFields: [{ key: "apiKey", label: "API key", secret: true }],
  ...extra,
});

/** Writes a catalog folder: categories.json (unless null) and integrations/<name>.json files. */
async function catalogDir(files: { categories?: unknown; integrations?: Record<string, unknown> } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "one-runtime-catalog-"));
  temps.push(dir);
  await mkdir(join(dir, "integrations"));
  if (files.categories !== null) {
    const c = files.categories ?? CATEGORIES;
    await writeFile(join(dir, "categories.json"), typeof c === "string" ? c : JSON.stringify(c));
  }
  for (const [name, content] of Object.entries(files.integrations ?? {})) {
    await writeFile(join(dir, "integrations", `${name}.json`), typeof content === "string" ? content : JSON.stringify(content));
  }
  return dir;
}

async function loadError(opts: Parameters<typeof loadCatalog>[0]): Promise<CatalogError> {
  const error = await loadCatalog(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CatalogError);
  return error as CatalogError;
}

describe("loadCatalog", () => {
  it("loads the shipped catalog: unique slugs, sorted, every category known", async () => {
    const loaded = await loadCatalog({});
    const slugs = loaded.integrations.map((i) => i.slug);
    expect(slugs.length).toBeGreaterThan(0);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(slugs).toEqual([...slugs].sort((a, b) => a.localeCompare(b)));
    const known = new Set(loaded.categories.map((c) => c.slug));
    for (const i of loaded.integrations) for (const c of i.categories) expect(known, `${i.slug} → ${c}`).toContain(c);
  });

  it("loads a valid folder and fills defaults", async () => {
    const dir = await catalogDir({ integrations: { alpha: validEntry("alpha") } });
    const loaded = await loadCatalog({ shippedDir: dir });
    expect(loaded.integrations).toEqual([expect.objectContaining({ slug: "alpha", keywords: [], featured: false, sandbox: false })]);
    expect(loaded.categories.map((c) => c.slug)).toEqual(["crm", "ai"]);
  });

  it.each([
    ["a missing field", validEntry("bad", { docsUrl: undefined }), "docsUrl"],
    ["an unknown auth type", validEntry("bad", { authType: "PASSWORD" }), "authType"],
    ["a plain-http docs URL", validEntry("bad", { docsUrl: "http://example.com" }), "docsUrl"],
    ["an unexpected field", validEntry("bad", { colour: "red" }), '(entry): Unrecognized key: "colour"'],
    ["a bad credential field", validEntry("bad", { credentialFields: [{ key: "apiKey", label: "API key", secret: "yes" }] }), "credentialFields.0.secret"],
    ["an invalid pattern", validEntry("bad", { credentialFields: [{ key: "apiKey", label: "API key", secret: true, pattern: "([" }] }), "credentialFields.0.pattern"],
    ["an OAuth2 entry without its oauth2 block", validEntry("bad", { authType: "OAUTH2", credentialFields: [] }), "oauth2"],
    ["an API key entry without a secret field", validEntry("bad", { credentialFields: [{ key: "host", label: "Host", secret: false }] }), "credentialFields"],
    ["an OAuth2 URL placeholder without its user input", validEntry("bad", { authType: "OAUTH2", credentialFields: [], oauth2: { authorizationUrl: "https://{tenant}.example.com/a", tokenUrl: "https://example.com/t" } }), "oauth2.authorizationUrl"],
    ["a slug that is not the file name", validEntry("other"), "slug"],
  ])("refuses %s, naming the file and the field", async (_name, content, field) => {
    const dir = await catalogDir({ integrations: { bad: content } });
    const error = await loadError({ shippedDir: dir });
    expect(error.message).toContain(join(dir, "integrations", "bad.json"));
    expect(error.message.split("\n").slice(1).map((line) => line.trim())).toContainEqual(expect.stringMatching(new RegExp(`^${field.replace(/[.()]/g, "\\$&")}`)));
  });

  it("refuses a file that is not JSON, naming it", async () => {
    const dir = await catalogDir({ integrations: { broken: "{ not json" } });
    const error = await loadError({ shippedDir: dir });
    expect(error.message).toContain(join(dir, "integrations", "broken.json"));
    expect(error.message).toContain("not JSON");
  });

  it("refuses an entry in an unknown category, naming the file and the category", async () => {
    const dir = await catalogDir({ integrations: { alpha: validEntry("alpha", { categories: ["crm", "nowhere"] }) } });
    const error = await loadError({ shippedDir: dir });
    expect(error.message).toContain(join(dir, "integrations", "alpha.json"));
    expect(error.message).toContain('categories.1: unknown category "nowhere"');
  });

  it("refuses a bad categories.json, naming it and the field", async () => {
    const dir = await catalogDir({ categories: [{ slug: "Not A Slug", name: "X" }] });
    const error = await loadError({ shippedDir: dir });
    expect(error.message).toContain(join(dir, "categories.json"));
    expect(error.message).toMatch(/^\s+0\.slug:/m);
  });

  it("requires categories.json in the shipped folder but not in an operator's", async () => {
    const shipped = await catalogDir({ categories: null });
    expect((await loadError({ shippedDir: shipped })).message).toContain("has no categories.json");
    const good = await catalogDir({ integrations: { alpha: validEntry("alpha") } });
    const operator = await catalogDir({ categories: null, integrations: { beta: validEntry("beta") } });
    const loaded = await loadCatalog({ shippedDir: good, operatorDir: operator });
    expect(loaded.integrations.map((i) => i.slug)).toEqual(["alpha", "beta"]);
  });

  it("an operator's folder adds entries and categories, and replaces a shipped entry with the same slug", async () => {
    const shipped = await catalogDir({ integrations: { alpha: validEntry("alpha"), gamma: validEntry("gamma") } });
    const operator = await catalogDir({
      categories: [{ slug: "internal", name: "Internal tools" }],
      integrations: {
        alpha: validEntry("alpha", { name: "Alpha (our fork)", categories: ["internal"] }),
        beta: validEntry("beta", { categories: ["internal", "crm"] }),
      },
    });
    const loaded = await loadCatalog({ shippedDir: shipped, operatorDir: operator });
    expect(loaded.integrations.map((i) => [i.slug, i.name])).toEqual([
      ["alpha", "Alpha (our fork)"],
      ["beta", "Tool beta"],
      ["gamma", "Tool gamma"],
    ]);
    expect(loaded.categories.map((c) => c.slug)).toEqual(["crm", "ai", "internal"]);
  });

  it("checks an operator's entries too, naming the operator's file", async () => {
    const shipped = await catalogDir({ integrations: { alpha: validEntry("alpha") } });
    const operator = await catalogDir({ categories: null, integrations: { beta: validEntry("beta", { categories: ["internal"] }) } });
    const error = await loadError({ shippedDir: shipped, operatorDir: operator });
    expect(error.message).toContain(join(operator, "integrations", "beta.json"));
    expect(error.message).toContain('unknown category "internal"');
  });

  it("refuses a logo that is not an SVG, naming it", async () => {
    const dir = await catalogDir({ integrations: { alpha: validEntry("alpha") } });
    await mkdir(join(dir, "logos"));
    await writeFile(join(dir, "logos", "alpha.svg"), "<html>not a logo</html>");
    expect((await loadError({ shippedDir: dir })).message).toContain(join(dir, "logos", "alpha.svg"));
  });
});

describe("syncCatalogToDatabase", () => {
  let location: StoreLocation;
  let store: Store;
  beforeAll(async () => {
    location = await createStoreLocation();
    store = await location.open();
    await applyMigrations(store);
  });
  afterAll(async () => {
    await store?.close();
    await location?.dispose();
  });

  it("writes every entry once; loading again and syncing again writes nothing", async () => {
    const first = new Catalog(await loadCatalog({}));
    expect(await syncCatalogToDatabase(store.prisma, first)).toEqual({ created: first.size, updated: 0 });
    const before = await store.prisma.integration.findMany({ orderBy: { slug: "asc" } });
    expect(before.map((r) => r.slug)).toEqual(first.all().map((e) => e.slug).sort());

    const second = new Catalog(await loadCatalog({}));
    expect(await syncCatalogToDatabase(store.prisma, second)).toEqual({ created: 0, updated: 0 });
    expect(await syncCatalogToDatabase(store.prisma, second)).toEqual({ created: 0, updated: 0 });
    expect(await store.prisma.integration.findMany({ orderBy: { slug: "asc" } })).toEqual(before);
  });

  it("updates exactly the entries an operator changed, and adds the new ones", async () => {
    const shipped = await loadCatalog({});
    const target = shipped.integrations[0]!;
    const operator = await catalogDir({
      categories: null,
      integrations: {
        [target.slug]: { ...target, name: `${target.name} (patched)` },
        "operator-only": validEntry("operator-only", { categories: [shipped.categories[0]!.slug] }),
      },
    });
    const patched = new Catalog(await loadCatalog({ operatorDir: operator }));
    expect(await syncCatalogToDatabase(store.prisma, patched)).toEqual({ created: 1, updated: 1 });
    const row = await store.prisma.integration.findUniqueOrThrow({ where: { slug: target.slug } });
    expect(row.name).toBe(`${target.name} (patched)`);
    expect(await syncCatalogToDatabase(store.prisma, patched)).toEqual({ created: 0, updated: 0 });
  });
});
