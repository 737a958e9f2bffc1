// The shape of a catalog file, checked at load so a bad entry stops start-up with its file and
// field named. Provider quirks are data here (separators, extra parameters, client
// authentication, PKCE, values the end user supplies first), never code branches.
import { z } from "zod";

export const AUTH_TYPES = ["OAUTH2", "API_KEY", "BASIC", "NONE"] as const;
export type AuthTypeName = (typeof AUTH_TYPES)[number];

const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, "lowercase letters, digits and dashes");
const httpsUrl = z.url({ protocol: /^https$/, message: "an https URL" });
/** True for http URLs on this machine only (a local authorization server in development or tests). */
export function isLoopbackHttp(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  } catch {
    return false;
  }
}
/**
 * An OAuth2 endpoint: https, or http on loopback only; may contain `{key}` placeholders filled
 * from the end user's inputs.
 */
const urlTemplate = z.string().refine((s) => {
  const filled = s.replace(/\{[a-z][a-zA-Z0-9_]*\}/g, "x");
  return httpsUrl.safeParse(filled).success || isLoopbackHttp(filled);
}, "an https URL (placeholders allowed; plain http only on 127.0.0.1 or localhost)");
const oneLine = (max: number) => z.string().min(1).max(max).regex(/^[^\n\r]*$/, "one line");
const pattern = z.string().refine((p) => {
  try {
    new RegExp(`^(?:${p})$`, "u");
    return true;
  } catch {
    return false;
  }
}, "a valid regular expression");

export const credentialFieldSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-zA-Z0-9_]{0,39}$/, "camelCase or snake_case identifier"),
  label: oneLine(60),
  secret: z.boolean(),
  optional: z.boolean().default(false),
  placeholder: oneLine(120).optional(),
  /** Anchored on both ends when checked: the whole value must match. */
  pattern: pattern.optional(),
  /** Shown under the input; say where the user finds the value. */
  helpText: oneLine(240).optional(),
  helpUrl: httpsUrl.optional(),
  /** When set, the value must be one of these (rendered as a select). */
  options: z.array(z.strictObject({ value: z.string().min(1).max(200), label: oneLine(60) })).min(1).optional(),
  defaultValue: z.string().max(200).optional(),
});
export type CredentialField = z.infer<typeof credentialFieldSchema>;

/** A value the end user gives before authorizing (a Zendesk subdomain, a Shopify shop). */
export const oauthUserInputSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-zA-Z0-9_]{0,39}$/),
  label: oneLine(60),
  /** Mandatory: these values are pasted into URLs. On top of it, every value must be a DNS label. */
  pattern,
  placeholder: oneLine(120).optional(),
  helpText: oneLine(240).optional(),
});

export const oauth2Schema = z.strictObject({
  authorizationUrl: urlTemplate,
  tokenUrl: urlTemplate,
  revocationUrl: urlTemplate.optional(),
  /** Checked against the callback's `iss` parameter when the provider sends one (RFC 9207). */
  issuer: z.string().url().optional(),
  defaultScopes: z.array(z.string().min(1).max(300)).default([]),
  scopeSeparator: z.enum([" ", ",", "+"]).default(" "),
  /** Name of the authorization parameter carrying scopes (Slack's user scopes go elsewhere). */
  scopeParam: z.string().default("scope"),
  /** Extra authorization request parameters, e.g. access_type=offline, prompt=consent. */
  authorizationParams: z.record(z.string(), z.string()).default({}),
  tokenEndpointAuthMethod: z.enum(["client_secret_post", "client_secret_basic"]).default("client_secret_post"),
  /** Body encoding of token requests; Notion wants JSON. */
  tokenRequestFormat: z.enum(["form", "json"]).default("form"),
  pkce: z.boolean().default(true),
  /** Token response fields kept as connection metadata (Salesforce instance_url, Pipedrive api_domain). */
  tokenResponseMetadata: z.array(z.string()).default([]),
  /** Callback query parameters kept as connection metadata (QuickBooks realmId). */
  callbackMetadata: z.array(z.string()).default([]),
  /** Values the end user supplies before authorizing, filling `{key}` in the URLs above. */
  userInputs: z.array(oauthUserInputSchema).default([]),
  /** Whether the provider issues refresh tokens (with the parameters above). */
  refreshTokens: z.boolean().default(true),
});
export type OAuth2Definition = z.infer<typeof oauth2Schema>;

/**
 * How the proxy reaches the integration's API (docs/catalog.md, "API object"): the base URL, with
 * `{key}` placeholders from the end user's non-secret inputs or `{metadata.key}` from the
 * connection's metadata, and how the credential is placed, as templates over its values.
 */
const valueTemplate = oneLine(300);
const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "a header name");
export const apiSchema = z.strictObject({
  baseUrl: z.string().max(300).refine((s) => {
    const filled = s.replace(/^\{[^}]*\}/, "https://placeholder.example").replace(/\{[^}]*\}/g, "x");
    return httpsUrl.safeParse(filled).success || isLoopbackHttp(filled);
  }, "an https URL (placeholders allowed; a leading one must hold an https origin; plain http only on 127.0.0.1 or localhost)"),
  /** Defaults by authType: OAUTH2 bearer {accessToken}, API_KEY bearer {first secret field}, BASIC basic {username}:{password}. */
  auth: z
    .discriminatedUnion("type", [
      z.strictObject({ type: z.literal("bearer"), token: valueTemplate }),
      z.strictObject({ type: z.literal("basic"), username: valueTemplate, password: z.string().max(300).default("") }),
      z.strictObject({ type: z.literal("header"), name: headerName, value: valueTemplate }),
      z.strictObject({ type: z.literal("query"), name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a query parameter name"), value: valueTemplate }),
    ])
    .optional(),
  /** Sent when the caller does not set them (Notion-Version). */
  headers: z.record(headerName, oneLine(200)).default({}),
});
export type ApiDefinition = z.infer<typeof apiSchema>;

/** The placeholders a template uses: `{key}` or `{metadata.key}`. */
const placeholdersOf = (template: string) => [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);

/** The problems of an entry's `api` object against its other fields (placeholders that name nothing). */
function apiIssues(e: { authType: AuthTypeName; credentialFields: CredentialField[]; oauth2?: OAuth2Definition | undefined; api?: ApiDefinition | undefined }): [string[], string][] {
  if (!e.api) return [];
  const issues: [string[], string][] = [];
  const metadata = [...(e.oauth2?.tokenResponseMetadata ?? []), ...(e.oauth2?.callbackMetadata ?? [])].map((k) => `metadata.${k}`);
  const urlKeys = new Set([...(e.oauth2?.userInputs ?? []).map((u) => u.key), ...e.credentialFields.filter((f) => !f.secret).map((f) => f.key), ...metadata]);
  for (const p of placeholdersOf(e.api.baseUrl)) if (!urlKeys.has(p)) issues.push([["api", "baseUrl"], `placeholder {${p}} names no user input, non-secret credential field or metadata value`]);
  const credentialKeys = new Set(e.authType === "OAUTH2" ? ["accessToken"] : e.credentialFields.map((f) => f.key));
  const auth = e.api.auth;
  if (auth && e.authType === "NONE") issues.push([["api", "auth"], "NONE entries send no credential"]);
  for (const [field, value] of Object.entries(auth ?? {})) {
    if (field === "type" || field === "name") continue;
    for (const p of placeholdersOf(String(value))) if (!credentialKeys.has(p)) issues.push([["api", "auth", field], `placeholder {${p}} names no credential value`]);
  }
  return issues;
}

export const integrationEntrySchema = z
  .strictObject({
    slug,
    name: oneLine(80),
    description: oneLine(200),
    categories: z.array(slug).min(1).max(4),
    authType: z.enum(AUTH_TYPES),
    docsUrl: httpsUrl,
    keywords: z.array(z.string().min(1).max(40)).max(30).default([]),
    featured: z.boolean().default(false),
    /** Brand colour of the generated monogram when no SVG logo ships. */
    brandColor: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional(),
    /** Marks a development-only entry (the local OAuth2 sandbox). */
    sandbox: z.boolean().default(false),
    /**
     * Facts of this entry that could not be checked against the provider's documentation, each
     * naming the field and why. Any here makes the entry `verified: false` in the API; nothing is
     * guessed silently.
     */
    unverified: z.array(oneLine(200)).max(10).default([]),
    credentialFields: z.array(credentialFieldSchema).max(8).default([]),
    oauth2: oauth2Schema.optional(),
    api: apiSchema.optional(),
  })
  .superRefine((e, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    for (const [path, message] of apiIssues(e)) issue(path, message);
    const keys = e.credentialFields.map((f) => f.key);
    keys.forEach((k, i) => keys.indexOf(k) !== i && issue(["credentialFields", i, "key"], `duplicate key "${k}"`));
    if (e.authType === "OAUTH2") {
      if (!e.oauth2) issue(["oauth2"], "required when authType is OAUTH2");
      if (e.credentialFields.length) issue(["credentialFields"], "OAUTH2 entries take user inputs in oauth2.userInputs");
    } else if (e.oauth2) {
      issue(["oauth2"], `only allowed when authType is OAUTH2, not ${e.authType}`);
    }
    if (e.authType === "API_KEY" && !e.credentialFields.some((f) => f.secret)) issue(["credentialFields"], "API_KEY entries need at least one secret field");
    if (e.authType === "BASIC") {
      for (const k of ["username", "password"]) if (!keys.includes(k)) issue(["credentialFields"], `BASIC entries need a "${k}" field`);
    }
    if (e.authType === "NONE" && e.credentialFields.length) issue(["credentialFields"], "NONE entries take no credentials");
    if (e.oauth2) {
      const inputs = new Set(e.oauth2.userInputs.map((u) => u.key));
      for (const field of ["authorizationUrl", "tokenUrl", "revocationUrl"] as const) {
        for (const m of (e.oauth2[field] ?? "").matchAll(/\{([^}]*)\}/g)) {
          if (!inputs.has(m[1]!)) issue(["oauth2", field], `placeholder {${m[1]}} has no matching oauth2.userInputs entry`);
        }
      }
    }
  });
export type IntegrationEntry = z.infer<typeof integrationEntrySchema>;

export const categorySchema = z.strictObject({
  slug,
  name: oneLine(60),
  /** Featured categories are shown first by pickers such as the example app. */
  featured: z.boolean().default(false),
});
export const categoriesFileSchema = z.array(categorySchema).min(1);
export type Category = z.infer<typeof categorySchema>;
