// Best-effort revocation at the provider when a connection is deleted: the outcome is reported,
// and the local delete happens whatever the provider says.
import * as oauth from "oauth4webapi";
import type { Connection } from "../generated/prisma/client.js";
import { openCredentials } from "../connections/credentials.js";
import type { Services } from "../services.js";
import { grantClient } from "./client-credentials.js";
import { providerErrorCode, providerFor } from "./provider.js";

export type RevocationOutcome = { attempted: boolean; succeeded: boolean; error: string | null };
const NOT_ATTEMPTED: RevocationOutcome = { attempted: false, succeeded: false, error: null };

export async function revokeAtProvider(services: Services, connection: Connection): Promise<RevocationOutcome> {
  if (connection.authType !== "OAUTH2") return NOT_ATTEMPTED;
  // A connection must stay deletable when its integration left the catalog: nothing to revoke at then.
  const entry = services.catalog.find(connection.integrationSlug);
  if (!entry?.oauth2?.revocationUrl) return NOT_ATTEMPTED;
  try {
    const stored = openCredentials(services.vault, connection);
    if (stored.type !== "OAUTH2") return NOT_ATTEMPTED;
    const client = await grantClient(services, connection.organizationId, entry, stored.values ?? {});
    const provider = providerFor(entry, client, { publicUrl: services.publicUrl(), userInputs: stored.userInputs });
    // Revoking the refresh token ends the whole grant at most providers; the access token otherwise.
    const token = stored.tokens.refreshToken ?? stored.tokens.accessToken;
    await oauth.processRevocationResponse(await oauth.revocationRequest(provider.as, provider.client, provider.clientAuth, token, provider.requestOptions("revocation")));
    return { attempted: true, succeeded: true, error: null };
  } catch (error) {
    const reason = providerErrorCode(error);
    services.logger.warn({ connectionId: connection.id, integration: entry.slug, reason: reason.code }, "token revocation failed");
    return { attempted: true, succeeded: false, error: reason.code === "token_exchange_failed" ? "revocation_failed" : reason.code };
  }
}
