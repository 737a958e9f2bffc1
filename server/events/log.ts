// The per-organization event log, newest first, paged with the one pager.
import type { Event, Prisma } from "../generated/prisma/client.js";
import { isUuid } from "../connections/connections.js";
import { checkPageSize, pageOf, timeOrderedCursors, type Page } from "../paging.js";
import type { Services } from "../services.js";
import type { EventType } from "./types.js";

export type EventFilter = { type?: EventType | null; connectionId?: string | null };

const cursors = timeOrderedCursors("event");

export function eventWhere(organizationId: string, filter: EventFilter): Prisma.EventWhereInput {
  return {
    organizationId,
    ...(filter.type ? { type: filter.type } : {}),
    // An id that is no uuid matches nothing, like an unknown one.
    ...(filter.connectionId != null ? { connectionId: isUuid(filter.connectionId) ? filter.connectionId : "00000000-0000-0000-0000-000000000000" } : {}),
  };
}

export async function listEvents(
  services: Services,
  organizationId: string,
  args: EventFilter & { first?: number | null; after?: string | null },
): Promise<Page<Event>> {
  const size = checkPageSize(args.first);
  const where = eventWhere(organizationId, args);
  const after = args.after ? cursors.decode(args.after) : undefined;
  const [rows, totalCount] = await Promise.all([
    services.prisma.event.findMany({
      where: after ? { AND: [where, cursors.after(after, "desc")] } : where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: size + 1,
    }),
    services.prisma.event.count({ where }),
  ]);
  return pageOf(rows, size, totalCount, cursors.encode);
}

/** One event of this organization, or null. */
export async function findEvent(services: Services, organizationId: string, id: string): Promise<Event | null> {
  if (!isUuid(id)) return null;
  return services.prisma.event.findFirst({ where: { id, organizationId } });
}
