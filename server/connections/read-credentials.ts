// Decrypts a connection's credentials for its own organization's backend.
import { notFound, ServiceError } from "../errors.js";
import type { Connection } from "../generated/prisma/client.js";
import { needsRefresh, refreshIfDue } from "../oauth/refresh.js";
import type { Services } from "../services.js";
import { isUuid } from "./connections.js";
import { openCredentials, type StoredCredentials } from "./credentials.js";

export type CredentialsView = {
  authType: "OAUTH2" | "API_KEY" | "BASIC" | "NONE";
  values: { key: string; value: string }[];
  apiKey: string | null;
  username: string | null;
  password: string | null;
  accessToken: string | null;
  tokenType: string | null;
  expiresAt: Date | null;
  scopes: string[];
};

export function credentialsView(services: Services, slug: string, stored: StoredCredentials): CredentialsView {
  const empty = { values: [], apiKey: null, username: null, password: null, accessToken: null, tokenType: null, expiresAt: null, scopes: [] };
  switch (stored.type) {
    case "NONE":
      return { authType: "NONE", ...empty };
    case "OAUTH2":
      return {
        authType: "OAUTH2",
        ...empty,
        accessToken: stored.tokens.accessToken,
        tokenType: stored.tokens.tokenType,
        expiresAt: stored.tokens.expiresAt ? new Date(stored.tokens.expiresAt) : null,
        scopes: stored.tokens.scopes,
      };
    default: {
      const fields = services.catalog.require(slug).credentialFields;
      const firstSecret = fields.find((f) => f.secret && f.key in stored.values)?.key;
      return {
        authType: stored.type,
        ...empty,
        values: Object.entries(stored.values).map(([key, value]) => ({ key, value })),
        apiKey: stored.type === "API_KEY" && firstSecret ? stored.values[firstSecret]! : null,
        username: stored.type === "BASIC" ? (stored.values.username ?? null) : null,
        password: stored.type === "BASIC" ? (stored.values.password ?? "") : null,
      };
    }
  }
}

type CredentialsRow = Pick<Connection, "id" | "integrationSlug" | "credentialsEnc" | "encryptionKeyId" | "status">;

/** A row's credentials opened; an OAuth2 token near expiry is refreshed first (one refresh across readers and instances). */
async function openRow(services: Services, organizationId: string, row: CredentialsRow): Promise<StoredCredentials> {
  if (row.status === "NEEDS_REAUTH") {
    throw new ServiceError("NEEDS_REAUTH", "This connection needs to be re-authorized (createHostedConnectionSession with connectionId)");
  }
  const stored = openCredentials(services.vault, { ...row, organizationId });
  // The common case reads without a lock; only a token near expiry takes the refresh path.
  if (needsRefresh(stored)) return (await refreshIfDue(services, row.id, { organizationId })) ?? stored;
  return stored;
}

/**
 * The credentials of a connection row already read for its organization (the `connection` query's
 * own row: no second read). Refreshes an OAuth2 token first when it is near expiry.
 */
export async function readConnectionCredentials(services: Services, organizationId: string, row: CredentialsRow): Promise<CredentialsView> {
  return credentialsView(services, row.integrationSlug, await openRow(services, organizationId, row));
}

/**
 * A connection of this organization, read by id, with its credentials opened as above. Another
 * organization's connection is NOT_FOUND, like an unknown one.
 */
export async function openConnectionCredentials(
  services: Services,
  organizationId: string,
  connectionId: string,
): Promise<{ id: string; integrationSlug: string; metadata: unknown; stored: StoredCredentials }> {
  const row = isUuid(connectionId)
    ? await services.prisma.connection.findFirst({
        where: { id: connectionId, organizationId },
        select: { id: true, integrationSlug: true, credentialsEnc: true, encryptionKeyId: true, status: true, metadata: true },
      })
    : null;
  if (!row) throw notFound("Connection");
  return { id: row.id, integrationSlug: row.integrationSlug, metadata: row.metadata, stored: await openRow(services, organizationId, row) };
}
