// createHostedConnectionSession: a customer backend asks for a short-lived session for one end
// user and one integration, and gets its token once.
import { z } from "zod";
import { endUserClient } from "../catalog/entry-schema.js";
import { badInput, notFound } from "../errors.js";
import { oauthClientFor } from "../oauth/apps.js";
import type { AuthenticatedOrganization } from "../organizations/api-keys.js";
import type { Services } from "../services.js";
import { parseInput, printable } from "../validation.js";
import { newSessionToken } from "./tokens.js";

export const DEFAULT_SESSION_SECONDS = 30 * 60;
export const MIN_SESSION_SECONDS = 60;
export const MAX_SESSION_SECONDS = 24 * 60 * 60;

const inputSchema = z.object({
  integrationSlug: z.string().min(1).max(100),
  endUserId: printable(200),
  endUserName: printable(200).nullish(),
  endUserEmail: z.email().max(254).nullish(),
  suggestedConnectionName: printable(100).nullish(),
  expiresInSeconds: z.number().int().min(MIN_SESSION_SECONDS).max(MAX_SESSION_SECONDS).nullish(),
  connectionId: z.uuid().nullish(),
});
export type CreateSessionInput = z.input<typeof inputSchema>;

export async function createHostedConnectionSession(services: Services, org: AuthenticatedOrganization, raw: CreateSessionInput) {
  const input = parseInput(inputSchema, raw, "Invalid session input");
  const integration = services.catalog.require(input.integrationSlug);

  if (input.connectionId) {
    // Re-authorizing in place: the connection must be this organization's, for this integration and end user.
    const existing = await services.prisma.connection.findFirst({
      where: { id: input.connectionId, organizationId: org.organizationId },
      select: { integrationSlug: true, endUserId: true },
    });
    if (!existing) throw notFound("Connection");
    if (existing.integrationSlug !== integration.slug || existing.endUserId !== input.endUserId) {
      throw badInput("connectionId belongs to another integration or end user", [
        { field: "connectionId", message: "must match integrationSlug and endUserId" },
      ]);
    }
  }
  // Refused now rather than in the popup: the end user cannot fix a missing OAuth app.
  if (integration.authType === "OAUTH2" && !endUserClient(integration)) await oauthClientFor(services, org.organizationId, integration);

  const { token, hash } = newSessionToken();
  const expiresAt = new Date(Date.now() + (input.expiresInSeconds ?? DEFAULT_SESSION_SECONDS) * 1000);
  const session = await services.prisma.hostedConnectionSession.create({
    data: {
      organizationId: org.organizationId,
      integrationSlug: integration.slug,
      tokenHash: hash,
      endUserId: input.endUserId,
      endUserName: input.endUserName ?? null,
      endUserEmail: input.endUserEmail ?? null,
      suggestedConnectionName: input.suggestedConnectionName ?? null,
      connectionId: input.connectionId ?? null,
      expiresAt,
    },
  });
  services.logger.info({ sessionId: session.id, organizationId: org.organizationId, integration: integration.slug }, "hosted connection session created");
  return { sessionToken: token, expiresAt, session };
}
