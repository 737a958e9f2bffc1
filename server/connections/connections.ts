// The customer backend's view of its connections: list, read, delete. Every query carries the
// caller's organization, so another organization's id behaves exactly like an unknown one.
import type { Connection, Prisma } from "../generated/prisma/client.js";
import { notFound } from "../errors.js";
import { revokeAtProvider, type RevocationOutcome } from "../oauth/revoke.js";
import { checkPageSize, cursorCodec, invalidCursor, pageOf, type Page } from "../paging.js";
import type { Services } from "../services.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);

/** A Pothos selection (`select` or `include`) for the rows a list or read returns. */
export type ConnectionQuery = { include?: Prisma.ConnectionInclude; select?: Prisma.ConnectionSelect };

// Newest first, by (createdAt, id): a keyset that stays stable while rows are added.
const cursors = cursorCodec("connection");
const cursorOf = (c: Pick<Connection, "createdAt" | "id">) => cursors.encode(`${c.createdAt.toISOString()}|${c.id}`);
function positionOf(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = cursors.decode(cursor).split("|");
  const createdAt = new Date(at ?? "");
  if (Number.isNaN(createdAt.getTime()) || !id || !isUuid(id)) throw invalidCursor();
  return { createdAt, id };
}

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
  const after = args.after ? positionOf(args.after) : undefined;
  const [rows, totalCount] = await Promise.all([
    services.prisma.connection.findMany({
      ...query,
      where: after
        ? { AND: [where, { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }] }
        : where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: size + 1,
    }),
    services.prisma.connection.count({ where }),
  ]);
  return pageOf(rows as Connection[], size, totalCount, cursorOf);
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
  const { count } = await services.prisma.connection.deleteMany({ where: { id, organizationId } });
  if (count === 0) throw notFound("Connection"); // deleted by another call meanwhile
  services.logger.info({ connectionId: id, organizationId, revoked: revocation.succeeded }, "connection deleted");
  return { connection: existing, revocation };
}
