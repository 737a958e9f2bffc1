// Best-effort revocation at the provider when a connection is deleted: the outcome is reported,
// and the local delete happens whatever the provider says.
import * as oauth from "oauth4webapi";
import type { Connection } from "../generated/prisma/client.js";
import type { StoredCredentials } from "../connections/credentials.js";
import type { Services } from "../services.js";
import { oauthClientFor } from "./apps.js";
import { providerErrorCode, providerFor } from "./provider.js";

export type RevocationOutcome = { attempted: boolean; succeeded: boolean; error: string | null };

export async function revokeAtProvider(services: Services, connection: Connection): Promise<RevocationOutcome> {
  const entry = services.catalog.get(connection.integrationSlug);
  if (connection.authType !== "OAUTH2" || !entry?.oauth2?.revocationUrl) return { attempted: false, succeeded: false, error: null };
  try {
    const stored = services.vault.open<StoredCredentials>(
      { ciphertext: connection.credentialsEnc, keyId: connection.encryptionKeyId },
      { purpose: "connection-credentials", organizationId: connection.organizationId, rowId: connection.id },
    );
    if (stored.type !== "OAUTH2") return { attempted: false, succeeded: false, error: null };
    const provider = providerFor(entry, await oauthClientFor(services, connection.organizationId, entry), { publicUrl: services.publicUrl(), userInputs: stored.userInputs });
    // Revoking the refresh token ends the whole grant at most providers; the access token otherwise.
    const token = stored.tokens.refreshToken ?? stored.tokens.accessToken;
    await oauth.processRevocationResponse(await oauth.revocationRequest(provider.as, provider.client, provider.clientAuth, token, provider.requestOptions()));
    return { attempted: true, succeeded: true, error: null };
  } catch (error) {
    const reason = providerErrorCode(error);
    services.logger.warn({ connectionId: connection.id, integration: entry.slug, reason: reason.code }, "token revocation failed");
    return { attempted: true, succeeded: false, error: reason.code === "token_exchange_failed" ? "revocation_failed" : reason.code };
  }
}
