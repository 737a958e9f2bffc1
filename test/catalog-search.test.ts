// The catalog's search index on a small synthetic catalog where every ranking tier is built on
// purpose: exact slug or name, prefix, word/keyword/category, word prefix, description, one typo.
import { describe, expect, it } from "vitest";
import { integrationEntrySchema, type IntegrationEntry } from "../server/catalog/entry-schema.js";
import { CatalogIndex, withinOneEdit } from "../server/catalog/search-index.js";

const categories = [
  { slug: "email", name: "E-mail", featured: false },
  { slug: "crm", name: "CRM", featured: true },
  { slug: "weather", name: "Weather", featured: false },
];

function entry(slug: string, name: string, extra: Partial<Record<keyof IntegrationEntry, unknown>> = {}): IntegrationEntry {
  return integrationEntrySchema.parse({
    slug,
    name,
    description: "A synthetic entry.",
    categories: ["crm"],
    authType: "NONE",
    docsUrl: "https://example.com/docs",
    ...extra,
  });
}

// Every entry below matches "mail" through exactly one tier (noted), or not at all.
const entries = [
  entry("mail", "Mail"), // exact slug and name
  entry("post-office", "MAIL"), // exact name, other case: also exact
  entry("mailchimp", "Mailchimp"), // prefix
  entry("mailgun", "Mailgun", { featured: true }), // prefix, featured
  entry("super-mail", "Super Mail"), // whole name word
  entry("postbox", "Postbox", { keywords: ["mail"] }), // keyword
  entry("inbox-zero", "Inbox Zero", { categories: ["email"] }), // category name word ("E-mail" gives "mail")
  entry("acme-mailer", "Acme Mailer"), // word prefix
  entry("courier", "Courier", { description: "Sends mail to your customers." }), // description word
  entry("maul", "Maul", { featured: true }), // one typo, featured: still after every better tier
  entry("open-meteo", "Open Meteo", { categories: ["weather"], authType: "NONE" }), // no match
  entry("twilio", "Twilio", { authType: "API_KEY", credentialFields: [{ key: "apiKey", label: "API key", secret: true }] }), // no match
];
const index = new CatalogIndex(entries, categories);
const slugs = (search: string, extra: { category?: string; authType?: "NONE" | "API_KEY" } = {}) => index.query({ search, ...extra }).map((e) => e.slug);

describe("CatalogIndex ranking", () => {
  it("orders exact, then prefix, then word/keyword/category, then word prefix, then description, then one-typo matches", () => {
    expect(slugs("mail")).toEqual([
      // exact: name, then slug, within the tier
      "mail",
      "post-office",
      // prefix: featured first, then by name
      "mailgun",
      "mailchimp",
      // whole words: name word, keyword, category name; by name
      "inbox-zero",
      "postbox",
      "super-mail",
      // word prefix
      "acme-mailer",
      // description
      "courier",
      // one typo (featured, yet after every better match)
      "maul",
    ]);
  });

  it("is case-insensitive and ignores surrounding and repeated whitespace", () => {
    expect(slugs("  MaIl ")).toEqual(slugs("mail"));
    expect(slugs("super    MAIL")[0]).toBe("super-mail");
  });

  it("an exact slug match ranks first even when another entry's name merely starts with it", () => {
    expect(slugs("super-mail")[0]).toBe("super-mail");
    expect(slugs("open-meteo")).toEqual(["open-meteo"]);
  });

  it("matches multi-word searches word by word, in any order", () => {
    expect(slugs("mail super")).toContain("super-mail");
    expect(slugs("zero inbox")).toEqual(["inbox-zero"]);
  });

  it("finds a category's entries by the category's slug and name words", () => {
    expect(slugs("crm")).toEqual(expect.arrayContaining(entries.filter((e) => e.categories.includes("crm")).map((e) => e.slug)));
    expect(slugs("weather")).toEqual(["open-meteo"]);
  });

  it("tolerates one typo of each kind: substitution, insertion, deletion, adjacent swap", () => {
    expect(slugs("twilii")).toEqual(["twilio"]); // substitution
    expect(slugs("twillio")).toEqual(["twilio"]); // insertion
    expect(slugs("twlio")).toEqual(["twilio"]); // deletion
    expect(slugs("twiilo")).toEqual(["twilio"]); // adjacent swap
  });

  it("matches a typo of a multi-word name written as one word", () => {
    expect(slugs("openmteo")).toEqual(["open-meteo"]);
  });

  it("does not tolerate two typos, nor any typo in a search shorter than four characters", () => {
    expect(slugs("twiiloo")).toEqual([]);
    expect(slugs("twl")).toEqual([]);
    expect(slugs("mal")).toEqual([]);
  });

  it("finds nothing for a search that matches no entry", () => {
    expect(slugs("zzzzzz")).toEqual([]);
  });

  it("combines search with the category and auth type filters", () => {
    expect(slugs("mail", { category: "email" })).toEqual(["inbox-zero"]);
    expect(slugs("twilio", { authType: "NONE" })).toEqual([]);
    expect(slugs("twilio", { authType: "API_KEY" })).toEqual(["twilio"]);
  });
});

describe("CatalogIndex listing", () => {
  it("without a search lists every entry by name (any case), then slug", () => {
    expect(index.query({}).map((e) => e.slug)).toEqual([
      "acme-mailer",
      "courier",
      "inbox-zero",
      "mail", // "Mail" and "MAIL" tie on name: slug decides
      "post-office",
      "mailchimp",
      "mailgun",
      "maul",
      "open-meteo",
      "postbox",
      "super-mail",
      "twilio",
    ]);
  });

  it("filters by category and counts each category's entries", () => {
    expect(index.query({ category: "weather" }).map((e) => e.slug)).toEqual(["open-meteo"]);
    expect(index.countInCategory("crm")).toBe(entries.filter((e) => e.categories.includes("crm")).length);
    expect(index.countInCategory("email")).toBe(1);
  });

  it("an unknown category is an empty list, not an error", () => {
    expect(index.query({ category: "no-such-category" })).toEqual([]);
    expect(index.countInCategory("no-such-category")).toBe(0);
  });

  it("gives the same order on every call", () => {
    expect(slugs("mail")).toEqual(slugs("mail"));
    expect(new CatalogIndex([...entries].reverse(), categories).query({ search: "mail" }).map((e) => e.slug)).toEqual(slugs("mail"));
  });
});

describe("withinOneEdit", () => {
  it.each([
    ["hubspot", "hubspot", true],
    ["hubspot", "hubsopt", true], // adjacent swap
    ["hubspot", "hubspit", true], // substitution
    ["hubspot", "hubspott", true], // insertion
    ["hubspot", "hubspt", true], // deletion
    ["hubspot", "ubspot", true], // first character deleted
    ["hubspot", "hubspo", true], // last character deleted
    ["", "a", true],
    ["hubspot", "hbuspto", false], // two swaps
    ["hubspot", "hubspotxx", false], // two insertions
    ["hubspot", "hub", false],
    ["abcd", "cbad", false], // a swap of characters that are not adjacent
    ["", "ab", false],
  ])("%s vs %s: %s", (a, b, expected) => {
    expect(withinOneEdit(a, b)).toBe(expected);
    expect(withinOneEdit(b, a)).toBe(expected);
  });
});
