// The catalog's `api` object: what an entry may say about its API base URL and credential
// placement, checked at load like every other field.
import { describe, expect, it } from "vitest";
import { integrationEntrySchema } from "../../server/catalog/entry-schema.js";
import { loadCatalog } from "../../server/catalog/load.js";

const entry = (extra: Record<string, unknown>) => ({
  slug: "acme",
  name: "Acme",
  description: "d",
  categories: ["crm"],
  authType: "API_KEY",
  docsUrl: "https://acme.example/docs",
  credentialFields: [
    { key: "apiKey", label: "Key", secret: true },
    { key: "region", label: "Region", secret: false },
  ],
  ...extra,
});
const problems = (extra: Record<string, unknown>) => {
  const r = integrationEntrySchema.safeParse(entry(extra));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("the api object of a catalog entry", () => {
  it("takes a base URL with a non-secret field's placeholder and each credential placement", () => {
    for (const auth of [
      undefined,
      { type: "bearer", token: "{apiKey}" },
      { type: "basic", username: "{apiKey}" },
      { type: "header", name: "X-Api-Key", value: "Token {apiKey}" },
      { type: "query", name: "api_key", value: "{apiKey}" },
    ]) {
      expect(problems({ api: { baseUrl: "https://{region}.acme.example/v2", ...(auth ? { auth } : {}) } }), JSON.stringify(auth)).toEqual([]);
    }
  });

  it("refuses a secret or unknown placeholder in the base URL, and unknown credential placeholders", () => {
    expect(problems({ api: { baseUrl: "https://{apiKey}.acme.example" } })).toEqual(["api.baseUrl: placeholder {apiKey} names no user input, non-secret credential field or metadata value"]);
    expect(problems({ api: { baseUrl: "{metadata.instance_url}/api" } })).toEqual(["api.baseUrl: placeholder {metadata.instance_url} names no user input, non-secret credential field or metadata value"]);
    expect(problems({ api: { baseUrl: "https://acme.example", auth: { type: "bearer", token: "{password}" } } })).toEqual(["api.auth.token: placeholder {password} names no credential value"]);
  });

  it("refuses plain http off loopback, a non-URL, and a credential on a NONE entry", () => {
    expect(problems({ api: { baseUrl: "http://acme.example" } })[0]).toMatch(/^api.baseUrl: an https URL/);
    expect(problems({ api: { baseUrl: "acme.example/api" } })[0]).toMatch(/^api.baseUrl: an https URL/);
    expect(problems({ authType: "NONE", credentialFields: [], api: { baseUrl: "https://acme.example", auth: { type: "bearer", token: "x" } } })).toEqual(["api.auth: NONE entries send no credential"]);
  });

  it("takes an OAuth2 metadata value as the base URL's origin", () => {
    const oauth2 = { authorizationUrl: "https://login.acme.example/authorize", tokenUrl: "https://login.acme.example/token", tokenResponseMetadata: ["instance_url"] };
    expect(problems({ authType: "OAUTH2", credentialFields: [], oauth2, api: { baseUrl: "{metadata.instance_url}/services/data/v62.0" } })).toEqual([]);
  });

  it("ships base URLs for HubSpot, Slack, GitHub, Google, Stripe and Notion", async () => {
    const { integrations } = await loadCatalog({});
    const bases = Object.fromEntries(integrations.filter((i) => i.api).map((i) => [i.slug, i.api!.baseUrl]));
    expect(bases).toMatchObject({
      hubspot: "https://api.hubapi.com",
      slack: "https://slack.com/api",
      github: "https://api.github.com",
      gmail: "https://gmail.googleapis.com",
      "google-calendar": "https://www.googleapis.com",
      "google-drive": "https://www.googleapis.com",
      "google-sheets": "https://sheets.googleapis.com",
      stripe: "https://api.stripe.com",
      notion: "https://api.notion.com",
      salesforce: "{metadata.instance_url}",
    });
    expect(integrations.find((i) => i.slug === "notion")!.api!.headers).toEqual({ "Notion-Version": "2022-06-28" });
  });
});
