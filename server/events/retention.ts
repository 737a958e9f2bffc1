// Keeping the event log bounded: events older than the retention (30 days by default) are deleted
// with their webhook deliveries and attempts, in batches so no statement holds locks for long.
// Every instance may run it: a row is deleted once, whoever gets there.
import type { Services } from "../services.js";

const BATCH = 5_000;
const DELETE_BATCH = `
DELETE FROM "Event" WHERE id IN (
  SELECT id FROM "Event" WHERE "createdAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::float8) LIMIT $2::int
)`;

/** Deletes expired events (at most `maxBatches` × 5,000 a pass); returns how many. */
export async function deleteExpiredEvents(services: Pick<Services, "prisma" | "config">, maxBatches = 20): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await services.prisma.$executeRawUnsafe(DELETE_BATCH, services.config.eventRetentionMs / 1000, BATCH);
    deleted += n;
    if (n < BATCH) break;
  }
  return deleted;
}
