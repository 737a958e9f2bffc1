// createHostedConnectionSession: a customer backend asks for a short-lived session for one end
// user and one integration (or a choice of several, or the whole catalog: the popup's picker),
// and gets its token once.
import { z } from "zod";
import { endUserClient, type IntegrationEntry } from "../catalog/entry-schema.js";
import { badInput, notFound, type FieldError } from "../errors.js";
import { oauthClientFor } from "../oauth/apps.js";
import type { AuthenticatedOrganization } from "../organizations/api-keys.js";
import type { Services } from "../services.js";
import { parseInput, printable } from "../validation.js";
import { newSessionToken } from "./tokens.js";

export const DEFAULT_SESSION_SECONDS = 30 * 60;
export const MIN_SESSION_SECONDS = 60;
export const MAX_SESSION_SECONDS = 24 * 60 * 60;

/** A picker offers at most this many integrations by name (the whole catalog needs no list). */
export const MAX_ALLOWED_INTEGRATIONS = 500;

const inputSchema = z.object({
  integrationSlug: z.string().min(1).max(100).nullish(),
  allowedIntegrations: z.array(z.string().min(1).max(100)).min(1).max(MAX_ALLOWED_INTEGRATIONS).nullish(),
  endUserId: printable(200),
  endUserName: printable(200).nullish(),
  endUserEmail: z.email().max(254).nullish(),
  suggestedConnectionName: printable(100).nullish(),
  expiresInSeconds: z.number().int().min(MIN_SESSION_SECONDS).max(MAX_SESSION_SECONDS).nullish(),
  connectionId: z.uuid().nullish(),
});
export type CreateSessionInput = z.input<typeof inputSchema>;

/** The integrations a session offers, checked: unique, in the catalog, each connectable by this organization. */
async function checkedAllowedList(services: Services, organizationId: string, slugs: string[]): Promise<IntegrationEntry[]> {
  const errors: FieldError[] = [];
  const entries: IntegrationEntry[] = [];
  slugs.forEach((slug, i) => {
    const entry = services.catalog.find(slug);
    if (!entry) errors.push({ field: `allowedIntegrations.${i}`, message: `"${slug.slice(0, 100)}" is not in the catalog` });
    else if (entries.includes(entry)) errors.push({ field: `allowedIntegrations.${i}`, message: `"${slug}" is listed twice` });
    else entries.push(entry);
  });
  if (errors.length) throw badInput("Invalid allowedIntegrations", errors);
  // Refused now rather than in the popup: the end user cannot fix a missing OAuth app.
  for (const entry of entries) if (entry.authType === "OAUTH2" && !endUserClient(entry)) await oauthClientFor(services, organizationId, entry);
  return entries;
}

export async function createHostedConnectionSession(services: Services, org: AuthenticatedOrganization, raw: CreateSessionInput) {
  const input = parseInput(inputSchema, raw, "Invalid session input");
  if (input.integrationSlug && input.allowedIntegrations) {
    throw badInput("Give integrationSlug or allowedIntegrations, not both", [{ field: "allowedIntegrations", message: "not with integrationSlug" }]);
  }
  if (input.connectionId && !input.integrationSlug) {
    throw badInput("Re-authorizing a connection needs its integrationSlug", [{ field: "integrationSlug", message: "required with connectionId" }]);
  }
  // One integration (named, or a list of one): chosen from the start. Several, or none listed (the
  // whole catalog): the end user picks in the popup.
  // An unknown integrationSlug is NOT_FOUND; unknown entries of a list are field errors.
  if (input.integrationSlug) services.catalog.require(input.integrationSlug);
  const listed = input.integrationSlug ? [input.integrationSlug] : (input.allowedIntegrations ?? []);
  const allowed = await checkedAllowedList(services, org.organizationId, listed);
  const integration = allowed.length === 1 ? allowed[0]! : null;

  if (input.connectionId && integration) {
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

  const { token, hash } = newSessionToken();
  const expiresAt = new Date(Date.now() + (input.expiresInSeconds ?? DEFAULT_SESSION_SECONDS) * 1000);
  const session = await services.prisma.hostedConnectionSession.create({
    data: {
      organizationId: org.organizationId,
      integrationSlug: integration?.slug ?? null,
      allowedIntegrationSlugs: allowed.map((e) => e.slug),
      tokenHash: hash,
      endUserId: input.endUserId,
      endUserName: input.endUserName ?? null,
      endUserEmail: input.endUserEmail ?? null,
      suggestedConnectionName: input.suggestedConnectionName ?? null,
      connectionId: input.connectionId ?? null,
      expiresAt,
    },
  });
  services.logger.info(
    { sessionId: session.id, organizationId: org.organizationId, integration: integration?.slug ?? null, allowed: allowed.length || "catalog" },
    "hosted connection session created",
  );
  return { sessionToken: token, expiresAt, session };
}
