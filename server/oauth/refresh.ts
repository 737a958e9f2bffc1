// Keeping OAuth2 access tokens valid. A read of credentials refreshes a token that has expired or
// expires within 5 minutes; the refresh runs under a row lock (SELECT … FOR UPDATE), so however
// many readers and instances ask at once, the provider sees ONE refresh, and the others read its
// result. A rotated refresh token is committed before the new access token is returned.
// A client credentials connection is renewed by running that grant again. `invalid_grant` (or
// refused client credentials) marks the connection NEEDS_REAUTH. A background job refreshes ahead of expiry,
// skipping rows another instance is refreshing (SKIP LOCKED).
import * as oauth from "oauth4webapi";
import { endUserClient, type IntegrationEntry } from "../catalog/entry-schema.js";
import type { Connection } from "../generated/prisma/client.js";
import { openCredentials, sealCredentials, type StoredCredentials } from "../connections/credentials.js";
import { ServiceError } from "../errors.js";
import { recordEvent } from "../events/record.js";
import type { Services } from "../services.js";
import { oauthClientFor } from "./apps.js";
import { clientCredentialsTokens, grantClient } from "./client-credentials.js";
import { oauth2Of, processOptions, providerErrorCode, providerFor, tokenSetFrom, type OAuthClientCredentials, type TokenSet } from "./provider.js";

export const REFRESH_MARGIN_MS = 5 * 60_000;
export const BACKGROUND_MARGIN_MS = 10 * 60_000;

type Tx = Parameters<Parameters<Services["prisma"]["$transaction"]>[0]>[0];

/** An OAuth2 token we can renew: with a refresh token, or by the client credentials grant again. */
export function canRenew(stored: StoredCredentials): boolean {
  return stored.type === "OAUTH2" && (!!stored.tokens.refreshToken || stored.grant === "client_credentials");
}

/** Due: an OAuth2 token that can be renewed and expires within the margin. */
export function needsRefresh(stored: StoredCredentials, marginMs = REFRESH_MARGIN_MS): boolean {
  if (stored.type !== "OAUTH2" || !stored.tokens.expiresAt) return false;
  return canRenew(stored) && new Date(stored.tokens.expiresAt).getTime() - Date.now() < marginMs;
}

/** A new token set for stored OAuth2 credentials: a refresh grant, or the client credentials grant again. */
async function renewedTokens(services: Services, entry: IntegrationEntry, client: OAuthClientCredentials, stored: Extract<StoredCredentials, { type: "OAUTH2" }>): Promise<TokenSet> {
  const def = oauth2Of(entry);
  if (stored.grant === "client_credentials") return clientCredentialsTokens(services, entry, client, stored.values ?? {});
  const provider = providerFor(entry, client, { publicUrl: services.publicUrl(), userInputs: stored.userInputs });
  const options = provider.requestOptions();
  // Some providers want other scopes on refresh than at authorization; without refreshScopes none are sent (RFC 6749 §6: the same as granted).
  if (def.refreshScopes) options.additionalParameters = { scope: def.refreshScopes.join(def.scopeSeparator) };
  const response = await oauth.refreshTokenGrantRequest(provider.refreshAs, provider.client, provider.clientAuth, stored.tokens.refreshToken!, options);
  return tokenSetFrom(await oauth.processRefreshTokenResponse(provider.refreshAs, provider.client, response, processOptions), stored.tokens, def);
}

async function lockRow(tx: Tx, connectionId: string, organizationId: string | undefined, skipLocked: boolean): Promise<Connection | undefined> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id FROM "Connection" WHERE id = $1::uuid ${organizationId ? `AND "organizationId" = $2::uuid` : ""} FOR UPDATE${skipLocked ? " SKIP LOCKED" : ""}`,
    ...(organizationId ? [connectionId, organizationId] : [connectionId]),
  );
  if (!rows.length) return undefined;
  return (await tx.connection.findUnique({ where: { id: connectionId } })) ?? undefined;
}

/**
 * Refreshes one connection's token if it is due (or is `rejectedAccessToken`), under its row lock. Returns the credentials as
 * they stand afterwards. Throws NEEDS_REAUTH when the provider refuses the refresh token.
 */
export async function refreshIfDue(
  services: Services,
  connectionId: string,
  opts: { organizationId?: string; marginMs?: number; skipLocked?: boolean; rejectedAccessToken?: string } = {},
): Promise<StoredCredentials | undefined> {
  let refused = false;
  let failedWith: string | undefined;
  // Everything that needs the outer client is read before the transaction: on PGlite (one
  // connection) a query outside the transaction would wait for it forever.
  const meta = await services.prisma.connection.findFirst({
    where: { id: connectionId, ...(opts.organizationId ? { organizationId: opts.organizationId } : {}) },
    select: { organizationId: true, integrationSlug: true },
  });
  if (!meta) return undefined;
  const entry = services.catalog.require(meta.integrationSlug);
  if (!entry.oauth2) return undefined;
  // The organization's client is read here; the provider needs the end user's inputs, sealed in
  // the locked row (and so do the end user's own client credentials, for entries that take them).
  const orgClient = endUserClient(entry) ? undefined : await oauthClientFor(services, meta.organizationId, entry);
  const result = await services.prisma.$transaction(
    async (tx) => {
      const row = await lockRow(tx, connectionId, opts.organizationId, opts.skipLocked ?? false);
      if (!row) return undefined;
      const stored = openCredentials(services.vault, row);
      // Whoever held the lock before us may have refreshed already: then there is nothing to do.
      // A token the provider rejected (a proxied call's 401) is due whatever its expiry says,
      // unless another caller already replaced it.
      const due = opts.rejectedAccessToken !== undefined ? canRenew(stored) && stored.type === "OAUTH2" && stored.tokens.accessToken === opts.rejectedAccessToken : needsRefresh(stored, opts.marginMs);
      // A connection the provider refused (NEEDS_REAUTH) is not refreshed; one whose health check
      // failed (DEGRADED, REVOKED) still is: its token may be what recovers it.
      if (stored.type !== "OAUTH2" || row.status === "NEEDS_REAUTH" || !due) return stored;
      try {
        const client = orgClient ?? (await grantClient(services, meta.organizationId, entry, stored.values ?? {}));
        const tokens = await renewedTokens(services, entry, client, stored);
        const next: StoredCredentials = { ...stored, tokens };
        const sealed = sealCredentials(services.vault, row, next);
        await tx.connection.update({
          where: { id: row.id },
          data: { credentialsEnc: sealed.ciphertext, encryptionKeyId: sealed.keyId, tokenExpiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null, scopes: tokens.scopes, lastRefreshedAt: new Date() },
        });
        services.logger.info({ connectionId: row.id, integration: entry.slug }, "OAuth2 token refreshed");
        return next;
      } catch (error) {
        const reason = providerErrorCode(error);
        services.logger.warn({ connectionId: row.id, integration: entry.slug, reason: reason.code }, "OAuth2 token refresh failed");
        const about = { organizationId: row.organizationId, endUserId: row.endUserId, integrationSlug: row.integrationSlug, connectionId: row.id };
        // A refused refresh token, or refused client credentials: only a new authorization helps.
        if (reason.code === "invalid_grant" || (stored.grant === "client_credentials" && reason.code === "invalid_client")) {
          await tx.connection.update({ where: { id: row.id }, data: { status: "NEEDS_REAUTH", statusReason: reason.code } });
          await recordEvent(tx, { ...about, type: "connection.needs_reauth", data: { reason: reason.code } });
          refused = true;
          return stored;
        }
        // The event commits with this transaction; the error (if any) is thrown after it.
        await recordEvent(tx, { ...about, type: "connection.refresh_failed", data: { reason: reason.code } });
        failedWith = reason.code;
        return stored;
      }
    },
    { timeout: 30_000, maxWait: 30_000 },
  );
  if (refused) throw new ServiceError("NEEDS_REAUTH", "The provider refused the refresh token; re-authorize this connection (createHostedConnectionSession with connectionId)");
  // A provider hiccup: a token that is still valid is still useful.
  if (failedWith && result?.type === "OAUTH2" && !(result.tokens.expiresAt && new Date(result.tokens.expiresAt).getTime() > Date.now())) {
    throw new ServiceError("PROVIDER_ERROR", `Could not refresh the token: ${failedWith}`);
  }
  return result;
}

/** One pass of the background refresher: tokens expiring soon, each under its own lock. */
export async function refreshExpiringTokens(services: Services, limit = 100): Promise<number> {
  const due = await services.prisma.connection.findMany({
    where: { status: { not: "NEEDS_REAUTH" }, authType: "OAUTH2", tokenExpiresAt: { lt: new Date(Date.now() + BACKGROUND_MARGIN_MS) } },
    select: { id: true },
    orderBy: { tokenExpiresAt: "asc" },
    take: limit,
  });
  let refreshed = 0;
  for (const { id } of due) {
    try {
      const before = Date.now();
      const after = await refreshIfDue(services, id, { marginMs: BACKGROUND_MARGIN_MS, skipLocked: true });
      if (after?.type === "OAUTH2" && after.tokens.expiresAt && new Date(after.tokens.expiresAt).getTime() > before + BACKGROUND_MARGIN_MS) refreshed++;
    } catch {
      // Logged inside; NEEDS_REAUTH is recorded on the row. The next pass moves on.
    }
  }
  return refreshed;
}
