// Organizations' own OAuth apps (client id + secret per integration). The secret is sealed by the
// vault and never readable back through any API.
import { z } from "zod";
import { badInput, notFound, OneRuntimeError } from "../errors.js";
import { fieldErrorsOf } from "../sessions/create.js";
import type { IntegrationEntry } from "../catalog/entry-schema.js";
import type { Services } from "../services.js";
import type { OAuthClientCredentials } from "./provider.js";
import { SANDBOX_CLIENT } from "./sandbox.js";

const configureSchema = z.object({
  integrationSlug: z.string().min(1).max(100),
  oauthClientId: z.string().trim().min(1).max(500),
  oauthClientSecret: z.string().min(1).max(2000),
  scopes: z.array(z.string().trim().min(1).max(300)).max(100).nullish(),
  enabled: z.boolean().nullish(),
});

export const redirectUri = (services: Services) => `${services.publicUrl()}/oauth/callback`;

export async function configureIntegration(services: Services, organizationId: string, raw: z.input<typeof configureSchema>) {
  const parsed = configureSchema.safeParse(raw);
  if (!parsed.success) throw badInput("Invalid OAuth app configuration", fieldErrorsOf(parsed.error));
  const input = parsed.data;
  const entry = services.catalog.get(input.integrationSlug);
  if (!entry) throw notFound(`Integration "${input.integrationSlug}"`);
  if (entry.authType !== "OAUTH2") {
    throw badInput(`${entry.name} does not use OAuth2`, [{ field: "integrationSlug", message: "not an OAuth2 integration" }]);
  }
  const existing = await services.prisma.integrationConfig.findUnique({
    where: { organizationId_integrationSlug: { organizationId, integrationSlug: entry.slug } },
    select: { id: true },
  });
  // The row id is part of the secret's binding, so it is fixed before sealing.
  const id = existing?.id ?? crypto.randomUUID();
  const sealed = services.vault.seal(input.oauthClientSecret, { purpose: "oauth-client-secret", organizationId, rowId: id });
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

/** The client credentials a flow for this organization and integration uses. */
export async function oauthClientFor(services: Services, organizationId: string, entry: IntegrationEntry): Promise<OAuthClientCredentials> {
  const row = await services.prisma.integrationConfig.findUnique({
    where: { organizationId_integrationSlug: { organizationId, integrationSlug: entry.slug } },
  });
  if (row?.enabled && row.oauthClientId && row.oauthClientSecretEnc && row.encryptionKeyId) {
    const clientSecret = services.vault.open<string>(
      { ciphertext: row.oauthClientSecretEnc, keyId: row.encryptionKeyId },
      { purpose: "oauth-client-secret", organizationId, rowId: row.id },
    );
    return { clientId: row.oauthClientId, clientSecret, scopes: row.scopes.length ? row.scopes : entry.oauth2!.defaultScopes };
  }
  if (entry.sandbox) return { ...SANDBOX_CLIENT, scopes: entry.oauth2!.defaultScopes };
  throw new OneRuntimeError("INTEGRATION_NOT_CONFIGURED", `Configure your OAuth app for ${entry.name} first (configureIntegration)`);
}
