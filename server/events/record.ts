// Writing an event: one statement that inserts the event, queues one delivery per webhook
// endpoint that takes its type, and rings the `one_runtime_events` doorbell (NOTIFY). Callers run
// it inside the transaction that makes the fact true, so the fact, its event and its deliveries
// commit together or not at all, and the doorbell rings only on commit.
import { randomUUID } from "node:crypto";
import type { EventType } from "./types.js";

/** The PostgreSQL channel that carries "organization X has new events" between instances. */
export const EVENT_CHANNEL = "one_runtime_events";

export type NewEvent = {
  type: EventType;
  organizationId: string;
  endUserId?: string | null;
  integrationSlug?: string | null;
  connectionId?: string | null;
  sessionId?: string | null;
  /** Type-specific details (a reason, a status); never a secret. */
  data?: Record<string, unknown>;
};

/** The transaction (or the client, for a fact that is this one statement) the event is written in. */
export type EventWriter = { $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> };

// clock_timestamp, not now(): now() is the transaction's start, which would order a long
// transaction's event before ones that committed earlier. Stored as UTC like every Prisma DateTime.
const RECORD = `
WITH e AS (
  INSERT INTO "Event" (id, "organizationId", type, "endUserId", "integrationSlug", "connectionId", "sessionId", data, "createdAt")
  VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::uuid, $7::uuid, $8::jsonb, clock_timestamp() AT TIME ZONE 'UTC')
  RETURNING id, "organizationId", type, "createdAt"
), d AS (
  INSERT INTO "WebhookDelivery" (id, "organizationId", "eventId", "endpointId", "nextAttemptAt", "createdAt", "updatedAt")
  SELECT gen_random_uuid(), e."organizationId", e.id, w.id, e."createdAt", e."createdAt", e."createdAt"
  FROM e JOIN "WebhookEndpoint" w
    ON w."organizationId" = e."organizationId" AND w."disabledAt" IS NULL
   AND (cardinality(w."eventTypes") = 0 OR e.type = ANY (w."eventTypes"))
  RETURNING 1
)
SELECT pg_notify('${EVENT_CHANNEL}', (SELECT "organizationId"::text FROM e) || ':' || (SELECT count(*) FROM d)::text)`;

/** Records one event in `db`'s transaction; returns its id. */
export async function recordEvent(db: EventWriter, event: NewEvent): Promise<string> {
  const id = randomUUID();
  await db.$executeRawUnsafe(
    RECORD,
    id,
    event.organizationId,
    event.type,
    event.endUserId ?? null,
    event.integrationSlug ?? null,
    event.connectionId ?? null,
    event.sessionId ?? null,
    JSON.stringify(event.data ?? {}),
  );
  return id;
}

/** A doorbell message: the organization, and whether any webhook delivery was queued. */
export function parseNotice(payload: string): { organizationId: string; deliveries: number } | undefined {
  const [organizationId, count] = payload.split(":");
  if (!organizationId) return undefined;
  return { organizationId, deliveries: Number(count) || 0 };
}
