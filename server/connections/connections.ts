// The customer backend's view of its connections: list, read, delete. Every query carries the
// caller's organization, so another organization's id behaves exactly like an unknown one.
import type { Connection, Prisma } from "../generated/prisma/client.js";
import { notFound } from "../errors.js";
import { recordEvent } from "../events/record.js";
import { revokeAtProvider, type RevocationOutcome } from "../oauth/revoke.js";
import { checkPageSize, pageOf, timeOrderedCursors, type Page } from "../paging.js";
import type { Services } from "../services.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);

/** A Pothos selection (`select` or `include`) for the rows a list or read returns. */
export type ConnectionQuery = { include?: Prisma.ConnectionInclude; select?: Prisma.ConnectionSelect };

// Newest first, by (createdAt, id).
const cursors = timeOrderedCursors("connection");

export async function listConnections(
  services: Services,
  organizationId: string,
  args: { endUserId?: string | null; integrationSlug?: string | null; first?: number | null; after?: string | null },
  query: ConnectionQuery = {},
): Promise<Page<Connection>> {
  const size = checkPageSize(args.first);
  const where: Prisma.ConnectionWhereInput = {
    organizationId,
    ...(args.endUserId != null ? { endUserId: args.endUserId } : {}),
    ...(args.integrationSlug != null ? { integrationSlug: args.integrationSlug } : {}),
  };
  const after = args.after ? cursors.decode(args.after) : undefined;
  const [rows, totalCount] = await Promise.all([
    services.prisma.connection.findMany({
      ...query,
      where: after ? { AND: [where, cursors.after(after, "desc")] } : where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: size + 1,
    }),
    services.prisma.connection.count({ where }),
  ]);
  return pageOf(rows as Connection[], size, totalCount, cursors.encode);
}

/** One connection of this organization, or null: `connection(id)` answers null for an unknown id. */
export async function findConnection(services: Services, organizationId: string, id: string, query: ConnectionQuery = {}): Promise<Connection | null> {
  if (!isUuid(id)) return null;
  return services.prisma.connection.findFirst({ ...query, where: { id, organizationId } }) as Promise<Connection | null>;
}

/** Revokes the token at the provider (best effort, reported), then deletes; NOT_FOUND when it is not there. */
export async function deleteConnection(services: Services, organizationId: string, id: string): Promise<{ connection: Connection; revocation: RevocationOutcome }> {
  const existing = await findConnection(services, organizationId, id);
  if (!existing) throw notFound("Connection");
  const revocation = await revokeAtProvider(services, existing);
  const deleted = await services.prisma.$transaction(async (tx) => {
    const { count } = await tx.connection.deleteMany({ where: { id, organizationId } });
    if (count === 1) {
      await recordEvent(tx, {
        type: "connection.deleted",
        organizationId,
        endUserId: existing.endUserId,
        integrationSlug: existing.integrationSlug,
        connectionId: id,
        data: { revoked: revocation.succeeded },
      });
    }
    return count === 1;
  });
  if (!deleted) throw notFound("Connection"); // deleted by another call meanwhile
  services.logger.info({ connectionId: id, organizationId, revoked: revocation.succeeded }, "connection deleted");
  return { connection: existing, revocation };
}
