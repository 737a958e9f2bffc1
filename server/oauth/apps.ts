// Organizations' own OAuth apps (client id + secret per integration), and the one answer to "which
// OAuth client and provider endpoints does a flow for this organization and integration use". The
// secret is sealed by the vault and never readable back through any API.
import { z } from "zod";
import type { IntegrationEntry } from "../catalog/entry-schema.js";
import { badInput, ServiceError } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { parseInput } from "../validation.js";
import { oauth2Of, providerFor, type OAuthClientCredentials, type Provider } from "./provider.js";
import { SANDBOX_CLIENT } from "./sandbox.js";

const configureSchema = z.object({
  integrationSlug: z.string().min(1).max(100),
  oauthClientId: z.string().trim().min(1).max(500),
  oauthClientSecret: z.string().min(1).max(2000),
  scopes: z.array(z.string().trim().min(1).max(300)).max(100).nullish(),
  enabled: z.boolean().nullish(),
});

/** A Pothos selection for IntegrationConfig rows. */
type ConfigQuery = { include?: Prisma.IntegrationConfigInclude; select?: Prisma.IntegrationConfigSelect };

export const redirectUri = (services: Services) => `${services.publicUrl()}/oauth/callback`;

/** What an OAuth app's sealed client secret is bound to: its organization and row. */
export const secretBinding = (organizationId: string, rowId: string) => ({ purpose: "oauth-client-secret" as const, organizationId, rowId });

export async function configureIntegration(services: Services, organizationId: string, raw: z.input<typeof configureSchema>) {
  const input = parseInput(configureSchema, raw, "Invalid OAuth app configuration");
  const entry = services.catalog.require(input.integrationSlug);
  if (entry.authType !== "OAUTH2") {
    throw badInput(`${entry.name} does not use OAuth2`, [{ field: "integrationSlug", message: "not an OAuth2 integration" }]);
  }
  const existing = await findIntegrationConfig(services, organizationId, entry.slug, { select: { id: true } });
  // The row id is part of the secret's binding, so it is fixed before sealing.
  const id = existing?.id ?? crypto.randomUUID();
  const sealed = services.vault.seal(input.oauthClientSecret, secretBinding(organizationId, id));
  const data = {
    oauthClientId: input.oauthClientId,
    oauthClientSecretEnc: sealed.ciphertext,
    encryptionKeyId: sealed.keyId,
    scopes: input.scopes ?? [],
    enabled: input.enabled ?? true,
  };
  const row = await services.prisma.integrationConfig.upsert({
    where: { organizationId_integrationSlug: { organizationId, integrationSlug: entry.slug } },
    create: { id, organizationId, integrationSlug: entry.slug, ...data },
    update: data,
  });
  services.logger.info({ organizationId, integration: entry.slug }, "OAuth app configured");
  return row;
}

export function findIntegrationConfig(services: Services, organizationId: string, integrationSlug: string, query: ConfigQuery = {}) {
  return services.prisma.integrationConfig.findUnique({ ...query, where: { organizationId_integrationSlug: { organizationId, integrationSlug } } });
}

export function listIntegrationConfigs(services: Services, organizationId: string, query: ConfigQuery = {}) {
  return services.prisma.integrationConfig.findMany({ ...query, where: { organizationId }, orderBy: { integrationSlug: "asc" } });
}

/**
 * The client credentials a flow for this organization and integration uses: its own enabled app,
 * else the sandbox's built-in client; otherwise INTEGRATION_NOT_CONFIGURED.
 */
export async function oauthClientFor(services: Services, organizationId: string, entry: IntegrationEntry): Promise<OAuthClientCredentials> {
  const defaultScopes = oauth2Of(entry).defaultScopes;
  const row = await findIntegrationConfig(services, organizationId, entry.slug);
  if (row?.enabled && row.oauthClientId && row.oauthClientSecretEnc && row.encryptionKeyId) {
    const clientSecret = services.vault.open<string>({ ciphertext: row.oauthClientSecretEnc, keyId: row.encryptionKeyId }, secretBinding(organizationId, row.id));
    return { clientId: row.oauthClientId, clientSecret, scopes: row.scopes.length ? row.scopes : defaultScopes };
  }
  if (entry.sandbox) return { ...SANDBOX_CLIENT, scopes: defaultScopes };
  throw new ServiceError("INTEGRATION_NOT_CONFIGURED", `Configure your OAuth app for ${entry.name} first (configureIntegration)`);
}

/** The client and the provider's endpoints (filled with the end user's inputs) for one flow. */
export async function oauthProviderFor(
  services: Services,
  organizationId: string,
  entry: IntegrationEntry,
  userInputs: Record<string, string>,
): Promise<{ client: OAuthClientCredentials; provider: Provider }> {
  const client = await oauthClientFor(services, organizationId, entry);
  return { client, provider: providerFor(entry, client, { publicUrl: services.publicUrl(), userInputs }) };
}
