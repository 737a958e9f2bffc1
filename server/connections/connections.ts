// The customer backend's view of its connections: list, read, delete. Every query carries the
// caller's organization, so another organization's id behaves exactly like an unknown one.
import type { Connection, Prisma } from "../generated/prisma/client.js";
import { checkPageSize, type Page } from "../catalog/catalog.js";
import { badInput } from "../errors.js";
import { revokeAtProvider, type RevocationOutcome } from "../oauth/revoke.js";
import type { Services } from "../services.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);

const encodeCursor = (c: Pick<Connection, "createdAt" | "id">) => Buffer.from(`connection:${c.createdAt.toISOString()}|${c.id}`).toString("base64url");
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const m = /^connection:([^|]+)\|(.+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  const createdAt = m ? new Date(m[1]!) : undefined;
  if (!m || !createdAt || Number.isNaN(createdAt.getTime()) || !isUuid(m[2]!)) {
    throw badInput("Invalid cursor", [{ field: "after", message: "not a cursor from this list" }]);
  }
  return { createdAt, id: m[2]! };
}

export async function listConnections(
  services: Services,
  organizationId: string,
  args: { endUserId?: string | null; integrationSlug?: string | null; first?: number | null; after?: string | null },
  query: { include?: Prisma.ConnectionInclude; select?: Prisma.ConnectionSelect } = {},
): Promise<Page<Connection>> {
  const size = checkPageSize(args.first);
  const where: Prisma.ConnectionWhereInput = {
    organizationId,
    ...(args.endUserId != null ? { endUserId: args.endUserId } : {}),
    ...(args.integrationSlug != null ? { integrationSlug: args.integrationSlug } : {}),
  };
  const after = args.after ? decodeCursor(args.after) : undefined;
  // Newest first, by (createdAt, id): a keyset that stays stable while rows are added.
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
  const nodes = rows.slice(0, size) as Connection[];
  const last = nodes.at(-1);
  return { nodes, totalCount, pageInfo: { hasNextPage: rows.length > size, endCursor: last ? encodeCursor(last) : null } };
}

export async function findConnection(services: Services, organizationId: string, id: string, query: object = {}): Promise<Connection | null> {
  if (!isUuid(id)) return null;
  return services.prisma.connection.findFirst({ ...query, where: { id, organizationId } }) as Promise<Connection | null>;
}

export async function deleteConnection(
  services: Services,
  organizationId: string,
  id: string,
): Promise<{ connection: Connection; revocation: RevocationOutcome } | null> {
  const existing = await findConnection(services, organizationId, id);
  if (!existing) return null;
  const revocation = await revokeAtProvider(services, existing);
  const { count } = await services.prisma.connection.deleteMany({ where: { id, organizationId } });
  if (count === 0) return null;
  services.logger.info({ connectionId: id, organizationId, revoked: revocation.succeeded }, "connection deleted");
  return { connection: existing, revocation };
}
