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

/** A host part an option may put into a URL: DNS labels joined by dots (`eu`, `com.au`). */
const hostPart = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, "lowercase DNS labels joined by dots");

/** A value the end user gives before authorizing (a Zendesk subdomain, a Shopify shop, a region). */
export const oauthUserInputSchema = z
  .strictObject({
    key: z.string().regex(/^[a-z][a-zA-Z0-9_]{0,39}$/),
    label: oneLine(60),
    /** Typed values are pasted into URLs: a pattern is mandatory, and every value must be a DNS label on top of it. */
    pattern: pattern.optional(),
    /** A fixed list instead (a region): rendered as a select; only these values are accepted. */
    options: z.array(z.strictObject({ value: hostPart, label: oneLine(60) })).min(1).max(30).optional(),
    placeholder: oneLine(120).optional(),
    helpText: oneLine(240).optional(),
  })
  .refine((u) => (u.pattern === undefined) !== (u.options === undefined), "give either a pattern (typed values) or options (a select), not both");

const format = z.enum(["form", "json"]);

export const oauth2Schema = z.strictObject({
  /**
   * `authorization_code`: the end user signs in at the provider. `client_credentials`: a
   * server-to-server grant with no provider page; see `clientCredentialsFrom`.
   */
  grantType: z.enum(["authorization_code", "client_credentials"]).default("authorization_code"),
  /** Required for `authorization_code`. */
  authorizationUrl: urlTemplate.optional(),
  tokenUrl: urlTemplate,
  /** Where refresh tokens are spent when that is not the token endpoint (Figma). */
  refreshUrl: urlTemplate.optional(),
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
  tokenRequestFormat: format.default("form"),
  /** Body encoding of revocation requests when it differs from token requests (QuickBooks: JSON). */
  revocationRequestFormat: format.optional(),
  /**
   * Extra parameters of client credentials token requests; `{key}` is filled from the end user's
   * values (the entry's credentialFields), and a parameter whose value is empty is left out.
   */
  tokenParams: z.record(z.string().regex(/^[a-z_]{1,40}$/), z.string().max(200)).default({}),
  /**
   * A field a provider sets to `false` in an HTTP 200 answer that is an error (Slack's `ok`): the
   * answer is then the error its `error` field names.
   */
  successField: z.string().regex(/^[a-z_]{1,40}$/).optional(),
  /** The token response sits under this key, dot-separated (e.g. `data`, `authed_user`). */
  tokenResponsePath: z.string().regex(/^[a-zA-Z0-9_]{1,40}(?:\.[a-zA-Z0-9_]{1,40}){0,3}$/).optional(),
  /** Scopes sent with refresh requests when they differ from the authorization's; unset sends none. */
  refreshScopes: z.array(z.string().min(1).max(300)).max(50).optional(),
  /**
   * The callback query parameter carrying a hex HMAC-SHA256 of the other parameters (sorted by
   * name, form-encoded), keyed with the client secret (Shopify's `hmac`). A missing or wrong one
   * refuses the callback.
   */
  callbackHmacParam: z.string().regex(/^[a-z_]{1,40}$/).optional(),
  /**
   * For `client_credentials`: whose client id and secret are used. `organization`: the OAuth app
   * configured with configureIntegration. `endUser`: the end user enters them in the popup
   * (credentialFields `clientId` and `clientSecret`), as for an in-house integration of their account.
   */
  clientCredentialsFrom: z.enum(["organization", "endUser"]).default("organization"),
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
  /** A cheap authenticated request that tells whether the credential still works (connection health checks). */
  healthCheck: z
    .strictObject({
      method: z.enum(["GET", "POST"]).default("GET"),
      path: z.string().max(200).regex(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/, "a path under the base URL, starting with /"),
      /** For a provider that answers refusals with HTTP 200: this JSON field must be true. */
      successField: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, "a top-level JSON field name").optional(),
    })
    .optional(),
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
      else if (endUserClient(e)) {
        for (const k of ["clientId", "clientSecret"]) if (!keys.includes(k)) issue(["credentialFields"], `client credentials from the end user need a "${k}" field`);
      } else if (e.credentialFields.length) issue(["credentialFields"], "OAUTH2 entries take user inputs in oauth2.userInputs");
    } else if (e.oauth2) {
      issue(["oauth2"], `only allowed when authType is OAUTH2, not ${e.authType}`);
    }
    if (e.authType === "API_KEY" && !e.credentialFields.some((f) => f.secret)) issue(["credentialFields"], "API_KEY entries need at least one secret field");
    if (e.authType === "BASIC") {
      for (const k of ["username", "password"]) if (!keys.includes(k)) issue(["credentialFields"], `BASIC entries need a "${k}" field`);
    }
    if (e.authType === "NONE" && e.credentialFields.length) issue(["credentialFields"], "NONE entries take no credentials");
    if (e.oauth2) {
      const o = e.oauth2;
      if (o.grantType === "authorization_code" && !o.authorizationUrl) issue(["oauth2", "authorizationUrl"], "required for the authorization_code grant");
      if (o.grantType === "client_credentials" && o.userInputs.length) issue(["oauth2", "userInputs"], "client_credentials entries take their values in credentialFields");
      if (o.grantType !== "client_credentials" && o.clientCredentialsFrom === "endUser") issue(["oauth2", "clientCredentialsFrom"], "only for the client_credentials grant");
      if (o.callbackHmacParam && o.grantType !== "authorization_code") issue(["oauth2", "callbackHmacParam"], "only for the authorization_code grant");
      if (Object.keys(o.tokenParams).length && o.grantType !== "client_credentials") issue(["oauth2", "tokenParams"], "only for the client_credentials grant");
      for (const [name, value] of Object.entries(o.tokenParams)) {
        for (const m of value.matchAll(/\{([^}]*)\}/g)) if (!keys.includes(m[1]!)) issue(["oauth2", "tokenParams", name], `placeholder {${m[1]}} has no matching credentialFields entry`);
      }
      const inputs = new Set(e.oauth2.userInputs.map((u) => u.key));
      for (const field of ["authorizationUrl", "tokenUrl", "refreshUrl", "revocationUrl"] as const) {
        for (const m of (e.oauth2[field] ?? "").matchAll(/\{([^}]*)\}/g)) {
          if (!inputs.has(m[1]!)) issue(["oauth2", field], `placeholder {${m[1]}} has no matching oauth2.userInputs entry`);
        }
      }
    }
  });
export type IntegrationEntry = z.infer<typeof integrationEntrySchema>;

/** Whether the end user types the OAuth client id and secret (a client credentials entry's own app). */
export function endUserClient(e: Pick<IntegrationEntry, "oauth2">): boolean {
  return e.oauth2?.grantType === "client_credentials" && e.oauth2.clientCredentialsFrom === "endUser";
}

/** Whether connecting sends the end user to the provider's site (the authorization code grant). */
export function signsInAtProvider(e: Pick<IntegrationEntry, "authType" | "oauth2">): boolean {
  return e.authType === "OAUTH2" && e.oauth2?.grantType !== "client_credentials";
}

export const categorySchema = z.strictObject({
  slug,
  name: oneLine(60),
  /** Featured categories are shown first by pickers such as the example app. */
  featured: z.boolean().default(false),
});
export const categoriesFileSchema = z.array(categorySchema).min(1);
export type Category = z.infer<typeof categorySchema>;
