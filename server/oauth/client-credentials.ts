// The client credentials grant (RFC 6749 §4.4) for server-to-server integrations (Greenhouse,
// Personio): no page at the provider. The popup asks only for what the entry needs (the end
// user's own client id and secret, or nothing when the organization's OAuth app is used), and the
// token is fetched before the connection is stored: credentials the provider refuses store nothing.
import * as oauth from "oauth4webapi";
import { endUserClient, type IntegrationEntry } from "../catalog/entry-schema.js";
import type { StoredCredentials } from "../connections/credentials.js";
import { badInput, ServiceError } from "../errors.js";
import type { Services } from "../services.js";
import { oauthClientFor } from "./apps.js";
import { oauth2Of, processOptions, providerErrorCode, providerFor, tokenParamsFor, tokenSetFrom, type OAuthClientCredentials, type TokenSet } from "./provider.js";

/** Errors by which a provider says the client id or secret is wrong: the end user can fix those. */
const REFUSED_CLIENT = new Set(["invalid_client", "unauthorized_client", "access_denied"]);

/** The client a grant uses: the end user's values (clientId, clientSecret), or the organization's OAuth app. */
export async function grantClient(services: Services, organizationId: string, entry: IntegrationEntry, values: Record<string, string>): Promise<OAuthClientCredentials> {
  if (!endUserClient(entry)) return oauthClientFor(services, organizationId, entry);
  return { clientId: values.clientId ?? "", clientSecret: values.clientSecret ?? "", scopes: oauth2Of(entry).defaultScopes };
}

/** One client credentials token request, with the entry's extra parameters and scopes. */
export async function clientCredentialsTokens(services: Services, entry: IntegrationEntry, client: OAuthClientCredentials, values: Record<string, string>): Promise<TokenSet> {
  const def = oauth2Of(entry);
  const provider = providerFor(entry, client, { publicUrl: services.publicUrl(), userInputs: {} });
  const params = tokenParamsFor(def, values);
  if (client.scopes.length) params.scope = client.scopes.join(def.scopeSeparator);
  const response = await oauth.clientCredentialsGrantRequest(provider.as, provider.client, provider.clientAuth, params, provider.requestOptions());
  const result = await oauth.processClientCredentialsResponse(provider.as, provider.client, response, processOptions);
  return tokenSetFrom(result, { refreshToken: null, scopes: client.scopes }, def);
}

/**
 * The popup's submission for a client credentials entry: the first token, then the connection.
 * A refusal of the end user's own credentials comes back as a field error on the secret, so they
 * can fix it; any other failure is PROVIDER_ERROR with the provider's error code. Either way the
 * session stays open and nothing is stored.
 */
export async function connectWithClientCredentials(
  services: Services,
  organizationId: string,
  entry: IntegrationEntry,
  values: Record<string, string>,
): Promise<{ stored: StoredCredentials; tokens: TokenSet }> {
  const client = await grantClient(services, organizationId, entry, values);
  let tokens: TokenSet;
  try {
    tokens = await clientCredentialsTokens(services, entry, client, values);
  } catch (error) {
    const reason = providerErrorCode(error);
    services.logger.warn({ organizationId, integration: entry.slug, reason: reason.code }, "client credentials grant failed");
    if (endUserClient(entry) && REFUSED_CLIENT.has(reason.code)) {
      throw badInput(`${entry.name} refused these credentials (${reason.code})`, [{ field: "clientSecret", message: `${entry.name} refused this client ID and secret` }]);
    }
    throw new ServiceError("PROVIDER_ERROR", `${entry.name} refused the connection: ${reason.code}`);
  }
  const stored: StoredCredentials = { type: "OAUTH2", tokens, userInputs: {}, grant: "client_credentials", ...(endUserClient(entry) ? { values } : {}) };
  return { stored, tokens };
}
