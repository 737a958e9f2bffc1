// What a webhook carries: the Standard Webhooks shape `{ type, timestamp, data }` plus the event's
// id. The same bytes on every attempt and replay; only the signature's timestamp changes.
import type { Event } from "../generated/prisma/client.js";

export function webhookPayload(event: Event): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    timestamp: event.createdAt.toISOString(),
    data: {
      ...(event.data as Record<string, unknown>),
      organizationId: event.organizationId,
      endUserId: event.endUserId,
      integrationSlug: event.integrationSlug,
      connectionId: event.connectionId,
      sessionId: event.sessionId,
    },
  });
}
