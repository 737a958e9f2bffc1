// Scheduled health checks, on every instance: each pass claims due connections (FOR UPDATE SKIP
// LOCKED, then a lease longer than a check can take), so one instance checks a connection at a
// time; each check sets the next one an interval on, give or take 10 %, so checks spread out.
import type { Services } from "../services.js";
import { CHECKED_STATUSES, probeConnection, recordHealth } from "./check.js";

const UTC_NOW = `(now() AT TIME ZONE 'UTC')`;
const CLAIM = `
UPDATE "Connection" c
SET "healthCheckLeaseUntil" = ${UTC_NOW} + make_interval(secs => $3::float8)
FROM (
  SELECT id FROM "Connection"
  WHERE status::text = ANY ($4::text[]) AND "integrationSlug" = ANY ($1::text[])
    AND "healthCheckDueAt" <= ${UTC_NOW} AND ("healthCheckLeaseUntil" IS NULL OR "healthCheckLeaseUntil" <= ${UTC_NOW})
  ORDER BY "healthCheckDueAt"
  LIMIT $2::int
  FOR UPDATE SKIP LOCKED
) due
WHERE c.id = due.id
RETURNING c.id, c."organizationId", c."integrationSlug"`;

/** Connections one pass of one instance checks at most. */
export const PASS_LIMIT = 50;
/** Connections one instance checks at once. */
const CONCURRENCY = 8;

export type HealthCheckJob = { stop(): Promise<void> };

/** One pass: claims what is due (at most `limit`) and checks it; returns how many were checked. */
export async function runDueHealthChecks(services: Services, limit = PASS_LIMIT): Promise<number> {
  const settings = services.config.healthChecks;
  const slugs = services.catalog.all().filter((e) => e.api?.healthCheck).map((e) => e.slug);
  if (!slugs.length) return 0;
  const lease = (2 * settings.timeoutMs + 30_000) / 1000;
  const claimed = await services.prisma.$queryRawUnsafe<{ id: string; organizationId: string; integrationSlug: string }[]>(CLAIM, slugs, limit, lease, CHECKED_STATUSES);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, claimed.length) }, async () => {
      while (next < claimed.length) {
        const c = claimed[next++]!;
        try {
          await recordHealth(services, c.id, await probeConnection(services, c));
        } catch (e) {
          services.logger.warn({ connectionId: c.id, err: { message: (e as Error).message } }, "health check failed to run");
        }
      }
    }),
  );
  return claimed.length;
}

/**
 * A pass every `pollIntervalMs` until stopped, each checking at most PASS_LIMIT connections: a
 * backlog (every connection due at once after an upgrade) is worked off at that pace rather than
 * in a burst at the providers, and the checks it makes are then an interval apart, spread out.
 */
export function startHealthChecks(services: Services): HealthCheckJob {
  const settings = services.config.healthChecks;
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        await runDueHealthChecks(services);
      } catch (e) {
        if (!stopped) services.logger.warn({ err: { message: (e as Error).message } }, "health check pass failed");
      }
      if (!stopped) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, settings.pollIntervalMs).unref();
        });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
