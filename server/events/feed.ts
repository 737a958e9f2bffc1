// The live event feed of one organization (the `events` subscription): every event committed
// after it starts, oldest first, each once. Woken by the doorbell (server/events/notices.ts) and
// by a slow timer. Events are timestamped when written but become visible at commit, so each
// read looks back OVERLAP_MS and skips the ids it has already sent.
import type { Event } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { createDoorbell } from "./doorbell.js";
import { eventWhere, type EventFilter } from "./log.js";

const RESYNC_MS = 2_000;
/** Longer than any transaction that writes an event may run (they time out sooner). */
const OVERLAP_MS = 30_000;
const BATCH = 500;

export function watchEvents(services: Services, organizationId: string, filter: EventFilter): AsyncGenerator<Event> {
  const controller = new AbortController();
  const { signal } = controller;
  const doorbell = createDoorbell();
  const unsubscribe = services.eventNotices.subscribe((n) => n.organizationId === organizationId && doorbell.ring());
  signal.addEventListener("abort", () => doorbell.ring());

  async function* run(): AsyncGenerator<Event> {
    const start = new Date();
    const seen = new Map<string, number>();
    let floor = start.getTime();
    let newest = start.getTime();
    try {
      while (!signal.aborted) {
        await doorbell.wait(RESYNC_MS);
        if (signal.aborted) return;
        const rows = await services.prisma.event.findMany({
          where: { ...eventWhere(organizationId, filter), createdAt: { gte: new Date(floor) } },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          take: BATCH,
        });
        for (const row of rows) {
          if (seen.has(row.id)) continue;
          seen.set(row.id, row.createdAt.getTime());
          newest = Math.max(newest, row.createdAt.getTime());
          if (signal.aborted) return;
          yield row;
        }
        floor = Math.max(start.getTime(), newest - OVERLAP_MS);
        if (rows.length === BATCH) {
          floor = Math.max(floor, rows.at(-1)!.createdAt.getTime());
          doorbell.ring();
        }
        for (const [id, at] of seen) if (at < floor) seen.delete(id);
      }
    } finally {
      unsubscribe();
    }
  }

  const generator = run();
  // A generator waiting for a doorbell would only see return() at its next yield: abort wakes it.
  const originalReturn = generator.return.bind(generator);
  generator.return = (value) => {
    controller.abort();
    unsubscribe();
    return originalReturn(value);
  };
  return generator;
}
