// The shipped catalog data itself: every file parses and validates against the entry schema, file
// names match slugs, categories exist and are all used, OAuth2 endpoints are https, patterns compile,
// and each auth type carries the fields it needs. Reads the files directly (no server, no store).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { categoriesFileSchema, endUserClient, integrationEntrySchema, type IntegrationEntry } from "../server/catalog/entry-schema.js";

const ROOT = join(import.meta.dirname, "..", "catalog");
const DIR = join(ROOT, "integrations");
const files = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort();

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

const categories = categoriesFileSchema.parse(readJson(join(ROOT, "categories.json")));
const entries: { file: string; entry: IntegrationEntry }[] = files.map((file) => {
  const parsed = integrationEntrySchema.safeParse(readJson(join(DIR, file)));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { file, entry: parsed.data };
});
const bySlug = new Map(entries.map(({ entry }) => [entry.slug, entry]));
const oauthEntries = entries.map((e) => e.entry).filter((e) => e.authType === "OAUTH2");

describe("catalog data files", () => {
  it("has only JSON files in catalog/integrations, each parsing", () => {
    expect(readdirSync(DIR).filter((f) => !f.endsWith(".json"))).toEqual([]);
    for (const file of files) expect(() => readJson(join(DIR, file)), file).not.toThrow();
  });

  it("names every file after its slug, with unique slugs", () => {
    for (const { file, entry } of entries) expect(file, entry.slug).toBe(`${entry.slug}.json`);
    expect(bySlug.size).toBe(entries.length);
  });

  it("has at least 60 integrations", () => {
    expect(entries.length).toBeGreaterThanOrEqual(60);
  });

  it("has unique categories, at least 8, each with at least one integration", () => {
    const slugs = categories.map((c) => c.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(categories.length).toBeGreaterThanOrEqual(8);
    for (const c of categories) expect(entries.filter(({ entry }) => entry.categories.includes(c.slug)).length, c.slug).toBeGreaterThan(0);
  });

  it("refers only to categories that exist, without repeating one", () => {
    const known = new Set(categories.map((c) => c.slug));
    for (const { entry } of entries) {
      for (const c of entry.categories) expect(known.has(c), `${entry.slug} → ${c}`).toBe(true);
      expect(new Set(entry.categories).size, entry.slug).toBe(entry.categories.length);
    }
  });

  it("marks some integrations and categories as featured", () => {
    expect(entries.filter(({ entry }) => entry.featured).length).toBeGreaterThanOrEqual(6);
    expect(categories.filter((c) => c.featured).length).toBeGreaterThanOrEqual(3);
  });

  it("keeps keywords lowercase and unique", () => {
    for (const { entry } of entries) {
      for (const k of entry.keywords) expect(k, entry.slug).toBe(k.toLowerCase());
      expect(new Set(entry.keywords).size, entry.slug).toBe(entry.keywords.length);
    }
  });

  it("gives every OAuth2 entry https endpoints: an authorization endpoint unless it is a client credentials grant", () => {
    expect(oauthEntries.length).toBeGreaterThan(0);
    for (const e of oauthEntries) {
      const codeGrant = e.oauth2!.grantType === "authorization_code";
      for (const field of ["authorizationUrl", "tokenUrl", "refreshUrl", "revocationUrl"] as const) {
        const template = e.oauth2![field];
        if (field === "tokenUrl" || (field === "authorizationUrl" && codeGrant)) expect(template, `${e.slug}.${field}`).toBeTruthy();
        if (!template) continue;
        const url = new URL(template.replace(/\{[a-zA-Z0-9_]+\}/g, "placeholder"));
        expect(url.protocol, `${e.slug}.${field}`).toBe("https:");
      }
      if (!endUserClient(e)) expect(e.credentialFields, e.slug).toEqual([]);
    }
  });

  it("declares a user input for every URL placeholder, and uses every user input", () => {
    for (const e of oauthEntries) {
      const def = e.oauth2!;
      const used = new Set([def.authorizationUrl ?? "", def.tokenUrl, def.refreshUrl ?? "", def.revocationUrl ?? ""].flatMap((u) => [...u.matchAll(/\{([a-zA-Z0-9_]+)\}/g)].map((m) => m[1])));
      const inputs = new Set(def.userInputs.map((u) => u.key));
      expect([...used].sort(), e.slug).toEqual([...inputs].sort());
    }
  });

  it("compiles every credential and user-input pattern, anchored and with the u flag", () => {
    const patterns = entries.flatMap(({ entry }) => [
      ...entry.credentialFields.filter((f) => f.pattern).map((f) => [`${entry.slug}.${f.key}`, f.pattern!] as const),
      ...(entry.oauth2?.userInputs ?? []).filter((u) => u.pattern).map((u) => [`${entry.slug}.oauth2.${u.key}`, u.pattern!] as const),
    ]);
    expect(patterns.length).toBeGreaterThan(0);
    for (const [where, p] of patterns) {
      expect(() => new RegExp(`^(?:${p})$`, "u"), where).not.toThrow();
      expect(p.startsWith("^") || p.endsWith("$"), `${where} must not carry its own anchors`).toBe(false);
    }
  });

  it("accepts the documented example values with the patterns", () => {
    const ok = (slug: string, key: string, value: string) => {
      const f = bySlug.get(slug)!.credentialFields.find((x) => x.key === key)!;
      expect(new RegExp(`^(?:${f.pattern})$`, "u").test(value), `${slug}.${key} ${value}`).toBe(true);
    };
    ok("openai", "apiKey", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abc");
    ok("anthropic", "apiKey", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx-yz0123456789");
    ok("twilio", "username", "AC0123456789abcdef0123456789abcdef");
    ok("stripe-key", "username", "rk_test_51Hc0123456789ABCDEFGHIJ");
    ok("github-pat", "apiKey", "ghp_0123456789abcdefghijABCDEFGHIJ012345");
    ok("sendgrid", "apiKey", "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");
  });

  it("gives every API_KEY entry a secret field, and select fields a valid default", () => {
    for (const { entry } of entries) {
      if (entry.authType === "API_KEY") expect(entry.credentialFields.some((f) => f.secret), entry.slug).toBe(true);
      for (const f of entry.credentialFields) {
        if (f.options && f.defaultValue !== undefined) expect(f.options.map((o) => o.value), `${entry.slug}.${f.key}`).toContain(f.defaultValue);
      }
    }
  });

  it("gives every BASIC entry username and password fields, and NONE entries no fields", () => {
    for (const { entry } of entries) {
      const keys = entry.credentialFields.map((f) => f.key);
      if (entry.authType === "BASIC") expect(keys, entry.slug).toEqual(expect.arrayContaining(["username", "password"]));
      if (entry.authType === "NONE") expect(keys, entry.slug).toEqual([]);
      if (entry.authType !== "OAUTH2") expect(entry.oauth2, entry.slug).toBeUndefined();
    }
  });

  it("ships the providers the product promises", () => {
    for (const slug of ["hubspot", "salesforce", "slack", "gmail", "github", "stripe-key", "openai", "twilio", "open-meteo", "rest-countries", "hacker-news", "nager-date", "wikipedia"]) {
      expect(bySlug.has(slug), slug).toBe(true);
    }
  });

  it("keeps https links for docs and help", () => {
    for (const { entry } of entries) {
      expect(entry.docsUrl.startsWith("https://"), entry.slug).toBe(true);
      for (const f of entry.credentialFields) if (f.helpUrl) expect(f.helpUrl.startsWith("https://"), `${entry.slug}.${f.key}`).toBe(true);
    }
  });
});
