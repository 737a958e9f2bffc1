// The delivery worker every instance runs: claims due deliveries from the shared queue, sends each
// (signed, guarded), records the attempt. Woken by the event doorbell when a delivery is queued,
// and by a poll (retries come due, a doorbell was lost, another instance's lease ran out).
import { createDoorbell } from "../events/doorbell.js";
import type { Services } from "../services.js";
import { signingSecrets } from "./endpoints.js";
import { webhookPayload } from "./payload.js";
import { claimDueDeliveries, recordAttempt, type Claim } from "./queue.js";
import { postWebhook, type AttemptOutcome } from "./send.js";
import { webhookHeaders } from "./signing.js";

/** Deliveries one instance has in flight at once. */
export const DELIVERY_CONCURRENCY = 16;

export type DeliveryWorker = { stop(): Promise<void> };

export function startDeliveryWorker(services: Services): DeliveryWorker {
  const settings = services.config.webhooks;
  let stopped = false;
  const doorbell = createDoorbell();
  const unsubscribe = services.eventNotices.subscribe((n) => n.deliveries > 0 && doorbell.ring());

  // Claims only as many as it has free slots, and claims again as soon as one frees up: a new
  // delivery never waits for a slow receiver's attempt to end.
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    while (!stopped) {
      await doorbell.wait(settings.pollIntervalMs);
      if (stopped) break;
      const free = DELIVERY_CONCURRENCY - inFlight.size;
      if (free <= 0) continue;
      try {
        const claimed = await claimDueDeliveries(services, free);
        for (const c of claimed) {
          const attempt = deliver(services, c)
            .catch((e: Error) => services.logger.warn({ deliveryId: c.id, err: { message: e.message } }, "webhook attempt not recorded"))
            .finally(() => {
              inFlight.delete(attempt);
              doorbell.ring();
            });
          inFlight.add(attempt);
        }
        // All slots taken: more may be due, looked for when one frees up.
        if (claimed.length === free) doorbell.ring();
      } catch (e) {
        if (!stopped) services.logger.warn({ err: { message: (e as Error).message } }, "webhook delivery round failed");
      }
    }
    await Promise.all(inFlight);
  })();

  return {
    async stop() {
      stopped = true;
      unsubscribe();
      doorbell.ring();
      await loop;
    },
  };
}

/** One attempt of one claimed delivery, recorded whatever happens. */
async function deliver(services: Services, claim: Claim): Promise<void> {
  const deliveryId = claim.id;
  const delivery = await services.prisma.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { event: true, endpoint: true } });
  // Its endpoint was deleted, or disabled (which fails its deliveries), since the claim.
  if (!delivery || delivery.status !== "PENDING" || delivery.endpoint.disabledAt) return;
  const startedAt = new Date();
  let outcome: AttemptOutcome;
  try {
    const body = webhookPayload(delivery.event);
    const headers = webhookHeaders(signingSecrets(services.vault, delivery.endpoint), delivery.event.id, Math.floor(startedAt.getTime() / 1000), body);
    outcome = await postWebhook(delivery.endpoint.url, headers, body, {
      policy: services.egress,
      timeoutMs: services.config.webhooks.timeoutMs,
    });
  } catch (e) {
    // The secret did not open (reported by the vault): nothing was sent.
    outcome = { statusCode: null, durationMs: 0, error: `not sent: ${(e as Error).message}`.slice(0, 300), responseExcerpt: null, retryAfterMs: null };
  }
  const status = await recordAttempt(services, delivery, claim, startedAt, outcome);
  services.logger.debug({ deliveryId, eventId: delivery.eventId, attempt: claim.attemptCount, statusCode: outcome.statusCode, status }, "webhook attempt");
}
