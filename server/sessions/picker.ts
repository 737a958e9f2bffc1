// The picker: a session created with a list of allowed integrations (or none: the whole catalog)
// lets the end user choose which one to connect. What it offers is the allowed list narrowed to
// what this organization can connect now (an OAuth2 app needs its client configured); the choice
// can change until the flow starts (credentials submitted or authorization begun).
import { endUserClient, type IntegrationEntry } from "../catalog/entry-schema.js";
import { badInput, ServiceError } from "../errors.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { assertOpen } from "./lifecycle.js";

/** Whether the end user may still pick (again): a picker session that has not started its flow. */
export const canChooseIntegration = (session: HostedConnectionSession) =>
  session.allowedIntegrationSlugs.length !== 1 && !session.connectionId && session.status === "PENDING";

/** The integration a session connects, once chosen; until then BAD_USER_INPUT (choose first). */
export function chosenIntegration(services: Services, session: HostedConnectionSession): IntegrationEntry {
  if (!session.integrationSlug) throw badInput("Choose an integration first", [{ field: "integrationSlug", message: "no integration chosen yet" }]);
  return services.catalog.require(session.integrationSlug);
}

/** Whether an organization can connect this entry without more set-up on its side. */
function connectableWith(configured: Set<string>) {
  return (entry: IntegrationEntry) => entry.authType !== "OAUTH2" || entry.sandbox || endUserClient(entry) || configured.has(entry.slug);
}

/** What a session's picker offers: a test on catalog entries (one query for the organization's OAuth apps). */
export async function offeredBy(services: Services, session: HostedConnectionSession): Promise<(entry: IntegrationEntry) => boolean> {
  const apps = await services.prisma.integrationConfig.findMany({ where: { organizationId: session.organizationId, enabled: true }, select: { integrationSlug: true } });
  const connectable = connectableWith(new Set(apps.map((a) => a.integrationSlug)));
  const allowed = session.allowedIntegrationSlugs.length ? new Set(session.allowedIntegrationSlugs) : undefined;
  return (entry) => (!allowed || allowed.has(entry.slug)) && connectable(entry);
}

/**
 * The end user's choice. Refused with INTEGRATION_NOT_ALLOWED for a slug the session does not
 * offer (outside its allowed list, unknown, or not connectable by this organization), and with
 * CONFLICT once the flow has started or for a session fixed to one integration.
 */
export async function chooseIntegration(services: Services, session: HostedConnectionSession, slug: string): Promise<HostedConnectionSession> {
  assertOpen(session);
  if (!canChooseIntegration(session)) {
    if (session.integrationSlug === slug) return session;
    throw new ServiceError("CONFLICT", session.status === "PENDING" ? "This session connects one integration only" : "The connection flow has started: the integration can no longer change");
  }
  const entry = services.catalog.find(slug);
  if (!entry || !(await offeredBy(services, session))(entry)) {
    throw new ServiceError("INTEGRATION_NOT_ALLOWED", `This session does not offer "${slug.slice(0, 100)}"`, { fieldErrors: [{ field: "integrationSlug", message: "not one of this session's integrations" }] });
  }
  const [chosen] = await services.prisma.hostedConnectionSession.updateManyAndReturn({
    where: { id: session.id, status: "PENDING", expiresAt: { gt: new Date() } },
    data: { integrationSlug: entry.slug },
  });
  if (!chosen) {
    const now = await services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } });
    assertOpen(now);
    throw new ServiceError("CONFLICT", "The connection flow has started: the integration can no longer change");
  }
  services.events.publish(session.id, chosen);
  services.logger.info({ sessionId: session.id, integration: entry.slug }, "integration chosen in the picker");
  return chosen;
}
