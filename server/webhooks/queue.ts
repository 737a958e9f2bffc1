// The delivery queue, in the database every instance shares: one row per event and endpoint.
// An instance claims due rows with FOR UPDATE SKIP LOCKED and leases them (`lockedUntil`) for
// longer than an attempt can take, so exactly one attempt per row is in flight across instances;
// a row whose instance died is claimed again once its lease runs out (at least once, same id).
import type { Prisma, WebhookDelivery, WebhookDeliveryStatus } from "../generated/prisma/client.js";
import { isUuid } from "../connections/connections.js";
import { badInput, notFound } from "../errors.js";
import { EVENT_CHANNEL, recordEvent } from "../events/record.js";
import { checkPageSize, pageOf, timeOrderedCursors, type Page } from "../paging.js";
import type { Services } from "../services.js";
import type { WebhookSettings } from "../config.js";
import { markDisabled } from "./endpoints.js";
import type { AttemptOutcome } from "./send.js";

const UTC_NOW = `(now() AT TIME ZONE 'UTC')`;

const CLAIM = `
UPDATE "WebhookDelivery" d
SET "lockedUntil" = ${UTC_NOW} + make_interval(secs => $2::float8), "attemptCount" = d."attemptCount" + 1, "updatedAt" = ${UTC_NOW}
FROM (
  SELECT id FROM "WebhookDelivery"
  WHERE status = 'PENDING' AND "nextAttemptAt" <= ${UTC_NOW} AND ("lockedUntil" IS NULL OR "lockedUntil" <= ${UTC_NOW})
  ORDER BY "nextAttemptAt"
  LIMIT $1::int
  FOR UPDATE SKIP LOCKED
) due
WHERE d.id = due.id
RETURNING d.id, d."attemptCount", d."replayCount"`;

/** How long a claim holds a row: both of an attempt's deadlines, and room to record it. */
export const leaseMs = (settings: WebhookSettings) => 2 * settings.timeoutMs + 30_000;

/** What a claim holds: the row, the attempt number it is, and the replays the row had when claimed. */
export type Claim = { id: string; attemptCount: number; replayCount: number };

/** Claims up to `limit` due deliveries for this instance. */
export async function claimDueDeliveries(services: Services, limit: number): Promise<Claim[]> {
  return services.prisma.$queryRawUnsafe<Claim[]>(CLAIM, limit, leaseMs(services.config.webhooks) / 1000);
}

/** Exponential backoff with jitter: the n-th retry waits between half and all of base·2^(n-1), capped. */
export function backoffMs(attempt: number, settings: Pick<WebhookSettings, "backoffBaseMs" | "backoffMaxMs">, random = Math.random): number {
  const ceiling = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Records one attempt and moves the delivery on: SUCCEEDED, PENDING again at its next time (the
 * receiver's Retry-After when it gave one), or FAILED once that is past the retry window. A
 * failure counts against the endpoint, which is disabled (with an event saying so) at the bound.
 * Only the claim that made the attempt (same attempt number) may move the row; a replay that came
 * while the attempt was in flight keeps it due (the lease is released, the status left PENDING).
 */
export async function recordAttempt(
  services: Services,
  delivery: Pick<WebhookDelivery, "id" | "organizationId" | "endpointId" | "createdAt" | "retryUntil">,
  claim: Pick<Claim, "attemptCount" | "replayCount">,
  startedAt: Date,
  outcome: AttemptOutcome,
): Promise<WebhookDeliveryStatus> {
  const { attemptCount } = claim;
  const settings = services.config.webhooks;
  const succeeded = outcome.error === null;
  const now = Date.now();
  const retryUntil = delivery.retryUntil ?? new Date(delivery.createdAt.getTime() + settings.retryWindowMs);
  const nextAt = new Date(now + (outcome.retryAfterMs ?? backoffMs(attemptCount, settings)));
  const status: WebhookDeliveryStatus = succeeded ? "SUCCEEDED" : nextAt > retryUntil ? "FAILED" : "PENDING";
  await services.prisma.$transaction(async (tx) => {
    await tx.webhookAttempt.create({
      data: {
        deliveryId: delivery.id,
        startedAt,
        durationMs: outcome.durationMs,
        statusCode: outcome.statusCode,
        error: outcome.error,
        responseExcerpt: outcome.responseExcerpt,
      },
    });
    const last = { lockedUntil: null, lastAttemptAt: startedAt, lastStatusCode: outcome.statusCode, lastError: outcome.error };
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: delivery.id, attemptCount, replayCount: claim.replayCount },
      data: { ...last, status, ...(status === "PENDING" ? { nextAttemptAt: nextAt } : {}) },
    });
    if (count === 0) await tx.webhookDelivery.updateMany({ where: { id: delivery.id, attemptCount }, data: last });
    if (succeeded) {
      await tx.webhookEndpoint.updateMany({ where: { id: delivery.endpointId, consecutiveFailures: { gt: 0 } }, data: { consecutiveFailures: 0 } });
      return;
    }
    const endpoint = await tx.webhookEndpoint.update({ where: { id: delivery.endpointId }, data: { consecutiveFailures: { increment: 1 } } });
    if (!endpoint.disabledAt && endpoint.consecutiveFailures >= settings.disableAfterFailures) {
      const reason = `${endpoint.consecutiveFailures} consecutive failed attempts`;
      await markDisabled(tx, endpoint.id, reason);
      await recordEvent(tx, { type: "webhook_endpoint.disabled", organizationId: endpoint.organizationId, data: { webhookEndpointId: endpoint.id, url: endpoint.url, reason } });
      services.logger.warn({ organizationId: endpoint.organizationId, webhookEndpointId: endpoint.id, failures: endpoint.consecutiveFailures }, "webhook endpoint disabled");
    }
  });
  return status;
}

const REPLAY = `
INSERT INTO "WebhookDelivery" (id, "organizationId", "eventId", "endpointId", "nextAttemptAt", "retryUntil", "createdAt", "updatedAt")
SELECT gen_random_uuid(), e."organizationId", e.id, w.id, ${UTC_NOW}, ${UTC_NOW} + make_interval(secs => $5::float8), ${UTC_NOW}, ${UTC_NOW}
FROM "Event" e JOIN "WebhookEndpoint" w
  ON w."organizationId" = e."organizationId" AND w."disabledAt" IS NULL
 AND (cardinality(w."eventTypes") = 0 OR e.type = ANY (w."eventTypes"))
WHERE e."organizationId" = $1::uuid
  AND ($2::uuid IS NULL OR e.id = $2::uuid)
  AND ($3::timestamp IS NULL OR e."createdAt" >= $3::timestamp) AND ($4::timestamp IS NULL OR e."createdAt" < $4::timestamp)
  AND ($6::uuid IS NULL OR w.id = $6::uuid)
ON CONFLICT ("eventId", "endpointId") DO UPDATE
SET status = 'PENDING', "nextAttemptAt" = EXCLUDED."nextAttemptAt", "retryUntil" = EXCLUDED."retryUntil", "updatedAt" = EXCLUDED."updatedAt",
    "replayCount" = "WebhookDelivery"."replayCount" + 1`;

/** At most this many events in one replay of a time range. */
export const MAX_REPLAY_EVENTS = 10_000;

/**
 * Queues again one event, or every event in [from, to), to every enabled endpoint that takes its
 * type (or to one endpoint): each delivery as new, with the same event id and a fresh retry window.
 * Returns how many deliveries were queued.
 */
export async function replayEvents(
  services: Services,
  organizationId: string,
  what: { eventId?: string | null; from?: Date | null; to?: Date | null; endpointId?: string | null },
): Promise<number> {
  if (what.eventId != null) {
    if (!isUuid(what.eventId) || !(await services.prisma.event.findFirst({ where: { id: what.eventId, organizationId }, select: { id: true } }))) throw notFound("Event");
  } else {
    if (!what.from || !what.to || what.from >= what.to) throw badInput("Give an eventId, or a time range with from before to", [{ field: "from", message: "from and to, from < to" }]);
    const count = await services.prisma.event.count({ where: { organizationId, createdAt: { gte: what.from, lt: what.to } } });
    if (count > MAX_REPLAY_EVENTS) throw badInput(`At most ${MAX_REPLAY_EVENTS} events per replay: narrow the range`, [{ field: "from", message: `${count} events in range` }]);
  }
  if (what.endpointId != null) {
    const endpoint = isUuid(what.endpointId) ? await services.prisma.webhookEndpoint.findFirst({ where: { id: what.endpointId, organizationId } }) : null;
    if (!endpoint) throw notFound("Webhook endpoint");
    if (endpoint.disabledAt) throw badInput("This webhook endpoint is disabled: enable it first", [{ field: "endpointId", message: "disabled" }]);
  }
  const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace("T", " ").replace("Z", "") : null);
  const queued = await services.prisma.$executeRawUnsafe(
    REPLAY,
    organizationId,
    what.eventId ?? null,
    what.eventId != null ? null : iso(what.from),
    what.eventId != null ? null : iso(what.to),
    services.config.webhooks.retryWindowMs / 1000,
    what.endpointId ?? null,
  );
  if (queued) await services.prisma.$executeRawUnsafe(`SELECT pg_notify('${EVENT_CHANNEL}', $1::text || ':' || $2::text)`, organizationId, String(queued));
  services.logger.info({ organizationId, queued, eventId: what.eventId, endpointId: what.endpointId }, "webhook deliveries replayed");
  return queued;
}

export type DeliveryFilter = { endpointId?: string | null; eventId?: string | null; status?: WebhookDeliveryStatus | null };

const cursors = timeOrderedCursors("webhook-delivery");

/** Deliveries newest first, with the ids of what they deliver; attempts are read per delivery. */
export async function listDeliveries(
  services: Services,
  organizationId: string,
  args: DeliveryFilter & { first?: number | null; after?: string | null },
): Promise<Page<WebhookDelivery>> {
  const size = checkPageSize(args.first);
  const none = "00000000-0000-0000-0000-000000000000";
  const where: Prisma.WebhookDeliveryWhereInput = {
    organizationId,
    ...(args.endpointId != null ? { endpointId: isUuid(args.endpointId) ? args.endpointId : none } : {}),
    ...(args.eventId != null ? { eventId: isUuid(args.eventId) ? args.eventId : none } : {}),
    ...(args.status ? { status: args.status } : {}),
  };
  const after = args.after ? cursors.after(cursors.decode(args.after), "desc") : undefined;
  const [rows, totalCount] = await Promise.all([
    services.prisma.webhookDelivery.findMany({ where: after ? { AND: [where, after] } : where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: size + 1 }),
    services.prisma.webhookDelivery.count({ where }),
  ]);
  return pageOf(rows, size, totalCount, cursors.encode);
}
