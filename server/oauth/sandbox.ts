// The OAuth2 sandbox's catalog entry and client: a development-only integration whose
// authorization server runs inside One Runtime (server/http/oauth-sandbox.ts), so a newcomer
// completes a real OAuth2 flow with no outside account.
import type { IntegrationEntry } from "../catalog/entry-schema.js";

export const SANDBOX_SLUG = "oauth2-sandbox";
export const SANDBOX_CLIENT = { clientId: "one-runtime-sandbox", clientSecret: "sandbox-secret-for-local-development" };

export const sandboxEntry: IntegrationEntry = {
  slug: SANDBOX_SLUG,
  name: "OAuth2 Sandbox",
  description: "A local OAuth2 authorization server for trying the OAuth2 flow without an outside account. Development only.",
  categories: ["developer-tools"],
  authType: "OAUTH2",
  docsUrl: "https://www.rfc-editor.org/rfc/rfc9700",
  keywords: ["sandbox", "oauth", "oauth2", "test", "development", "demo"],
  featured: false,
  brandColor: "#7c3aed",
  sandbox: true,
  unverified: [],
  credentialFields: [],
  oauth2: {
    grantType: "authorization_code",
    clientCredentialsFrom: "organization",
    tokenParams: {},
    authorizationUrl: "{publicUrl}/sandbox/oauth/authorize",
    tokenUrl: "{publicUrl}/sandbox/oauth/token",
    revocationUrl: "{publicUrl}/sandbox/oauth/revoke",
    defaultScopes: ["profile", "read"],
    scopeSeparator: " ",
    scopeParam: "scope",
    authorizationParams: {},
    tokenEndpointAuthMethod: "client_secret_basic",
    tokenRequestFormat: "form",
    pkce: true,
    tokenResponseMetadata: [],
    callbackMetadata: [],
    userInputs: [],
    refreshTokens: true,
  },
  // A small protected API (server/http/oauth-sandbox.ts) that takes the tokens it issued.
  api: { baseUrl: "{publicUrl}/sandbox/api", headers: {}, healthCheck: { method: "GET", path: "/me" } },
};
