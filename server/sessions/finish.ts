// Ends a session with a connection: creates it (or re-authorizes the one the session names)
// and marks the session CONNECTED in one transaction. Racing finishers: exactly one wins; the
// others roll back and learn the session's real state.
import { randomUUID } from "node:crypto";
import type { HostedConnectionSession, Prisma } from "../generated/prisma/client.js";
import type { SessionStatus } from "../generated/prisma/enums.js";
import type { IntegrationEntry } from "../catalog/entry-schema.js";
import { sealCredentials, type StoredCredentials } from "../connections/credentials.js";
import type { Services } from "../services.js";
import { POOL_WAIT_MS } from "../db/store.js";
import { recordEvent } from "../events/record.js";
import { assertOpen, transitionSession } from "./lifecycle.js";

class LostRace extends Error {}

export type FinishDetails = {
  connectionName: string | null | undefined;
  scopes?: string[];
  tokenExpiresAt?: Date | null;
  metadata?: Record<string, string>;
};

export function defaultConnectionName(session: HostedConnectionSession, integration: IntegrationEntry, chosen: string | null | undefined): string {
  return chosen?.trim() || session.suggestedConnectionName || integration.name;
}

export async function finishSessionWithConnection(
  services: Services,
  session: HostedConnectionSession,
  integration: IntegrationEntry,
  credentials: StoredCredentials,
  details: FinishDetails,
  from: SessionStatus[] = ["PENDING"],
): Promise<HostedConnectionSession> {
  const reconnecting = session.connectionId;
  const connectionId = reconnecting ?? randomUUID();
  const sealed = sealCredentials(services.vault, { organizationId: session.organizationId, id: connectionId }, credentials);
  const name = defaultConnectionName(session, integration, details.connectionName);
  const common = {
    encryptionKeyId: sealed.keyId,
    credentialsEnc: sealed.ciphertext,
    tokenExpiresAt: details.tokenExpiresAt ?? null,
    scopes: details.scopes ?? [],
    metadata: details.metadata ?? {},
    lastRefreshedAt: integration.authType === "OAUTH2" ? new Date() : null,
  };
  let finished: HostedConnectionSession;
  try {
    finished = await services.prisma.$transaction(async (tx) => {
      if (reconnecting) {
        const { count } = await tx.connection.updateMany({
          where: { id: reconnecting, organizationId: session.organizationId },
          data: { ...common, status: "ACTIVE", statusReason: null, ...(details.connectionName?.trim() ? { name } : {}) },
        });
        if (count !== 1) throw new LostRace(); // deleted meanwhile
      } else {
        await tx.connection.create({
          data: {
            ...common,
            id: connectionId,
            organizationId: session.organizationId,
            integrationSlug: integration.slug,
            endUserId: session.endUserId,
            endUserName: session.endUserName,
            endUserEmail: session.endUserEmail,
            name,
            authType: integration.authType,
          },
        });
      }
      const won = await transitionSession(tx, session.id, from, "CONNECTED", {
        connectionId,
        connectionName: name,
        errorCode: null,
        errorMessage: null,
      });
      if (!won) throw new LostRace();
      await recordEvent(tx, {
        type: reconnecting ? "connection.reconnected" : "connection.created",
        organizationId: session.organizationId,
        endUserId: session.endUserId,
        integrationSlug: integration.slug,
        connectionId,
        sessionId: session.id,
      });
      return won;
      // Prisma's defaults (2 s to get a connection) fail a completion in a burst that the
      // pool would serve a moment later; wait as long as any query waits for the pool.
    }, { maxWait: POOL_WAIT_MS, timeout: POOL_WAIT_MS });
  } catch (e) {
    if (!(e instanceof LostRace)) throw e;
    const now = await services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } });
    assertOpen(now); // throws the typed reason
    throw new Error("session changed during completion"); // unreachable in practice: masked if it happens
  }
  services.events.publish(session.id, finished);
  services.logger.info(
    { sessionId: session.id, connectionId, organizationId: session.organizationId, integration: integration.slug, reconnect: Boolean(reconnecting) },
    "connection created",
  );
  return finished;
}

/**
 * Ends an open session without a connection (FAILED or CANCELLED), telling subscribers; only if
 * its row also matches `only`.
 */
export async function endSession(
  services: Services,
  session: Pick<HostedConnectionSession, "id">,
  to: "FAILED" | "CANCELLED",
  error: { code: string; message: string },
  only: Prisma.HostedConnectionSessionWhereInput = {},
): Promise<HostedConnectionSession | null> {
  const ended = await transitionSession(
    services.prisma,
    session.id,
    ["PENDING", "AUTHORIZING"],
    to,
    { errorCode: error.code, errorMessage: error.message.slice(0, 500), oauthStateHash: null },
    only,
  );
  if (ended) {
    services.events.publish(session.id, ended);
    services.logger.info({ sessionId: session.id, status: to, reason: error.code }, "hosted connection session ended");
  }
  return ended;
}
