// A hosted connection session's states and the only ways it moves between them:
// PENDING → (AUTHORIZING) → CONNECTED | FAILED | CANCELLED | EXPIRED. Every move is one
// conditional UPDATE, so across any number of instances exactly one caller wins it, and the
// winner publishes the change.
import type { HostedConnectionSession, Prisma } from "../generated/prisma/client.js";
import type { SessionStatus } from "../generated/prisma/enums.js";
import { ServiceError } from "../errors.js";
import { recordEvent, type EventWriter } from "../events/record.js";
import type { Services } from "../services.js";
import { SESSION_TOKEN_PATTERN, hashSessionToken } from "./tokens.js";

export const OPEN_STATUSES: SessionStatus[] = ["PENDING", "AUTHORIZING"];
export const isTerminal = (s: SessionStatus) => !OPEN_STATUSES.includes(s);

type Db = Pick<Services["prisma"], "hostedConnectionSession"> & EventWriter & { $transaction?: Services["prisma"]["$transaction"] };

/** The moves a customer backend hears of (a CONNECTED session's event is its connection's). */
const SESSION_EVENTS: Partial<Record<SessionStatus, "session.failed" | "session.cancelled" | "session.expired">> = {
  FAILED: "session.failed",
  CANCELLED: "session.cancelled",
  EXPIRED: "session.expired",
};

/**
 * Moves a session from one of `from` to `to` and returns it as it now is; null when another
 * caller got there first, the session expired meanwhile (the server's clock decides, not the
 * client's), or the row does not also match `only`.
 */
export async function transitionSession(
  db: Db,
  sessionId: string,
  from: SessionStatus[],
  to: SessionStatus,
  data: Omit<Prisma.HostedConnectionSessionUncheckedUpdateManyInput, "status"> = {},
  only: Prisma.HostedConnectionSessionWhereInput = {},
): Promise<HostedConnectionSession | null> {
  const move = async (tx: Db) => {
    const [moved] = await tx.hostedConnectionSession.updateManyAndReturn({
      where: { ...only, id: sessionId, status: { in: from }, ...(to === "EXPIRED" ? { expiresAt: { lte: new Date() } } : { expiresAt: { gt: new Date() } }) },
      data: { ...data, status: to, ...(isTerminal(to) ? { completedAt: new Date() } : {}) },
    });
    const type = SESSION_EVENTS[to];
    if (moved && type) await recordEvent(tx, sessionEvent(type, moved));
    return moved ?? null;
  };
  // The event commits with the move: in the caller's transaction, or in one of its own.
  return SESSION_EVENTS[to] && db.$transaction ? db.$transaction((tx) => move(tx)) : move(db);
}

function sessionEvent(type: "session.failed" | "session.cancelled" | "session.expired", s: HostedConnectionSession) {
  return {
    type,
    organizationId: s.organizationId,
    endUserId: s.endUserId,
    integrationSlug: s.integrationSlug,
    connectionId: s.connectionId,
    sessionId: s.id,
    data: { errorCode: s.errorCode, errorMessage: s.errorMessage },
  };
}

const EXPIRY = { errorCode: "session_expired", errorMessage: "The session expired before the flow finished" };

/** Marks an open session past its expiry as EXPIRED (and tells subscribers); the winner publishes. */
async function expire(services: Services, sessionId: string): Promise<HostedConnectionSession | null> {
  const expired = await transitionSession(services.prisma, sessionId, OPEN_STATUSES, "EXPIRED", EXPIRY);
  if (expired) services.events.publish(sessionId, expired);
  return expired;
}

/** The session with its expiry applied: an open session past its time is EXPIRED from now on. */
export async function expireIfDue(services: Services, session: HostedConnectionSession): Promise<HostedConnectionSession> {
  if (isTerminal(session.status) || session.expiresAt.getTime() > Date.now()) return session;
  return (await expire(services, session.id)) ?? services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } });
}

/**
 * The one resolution of a session token: its format checked, hashed, its session loaded with the
 * expiry applied. Unknown or malformed: UNAUTHENTICATED.
 */
export async function sessionForToken(services: Services, token: string): Promise<HostedConnectionSession> {
  if (!SESSION_TOKEN_PATTERN.test(token)) throw new ServiceError("UNAUTHENTICATED", "Malformed session token");
  const row = await services.prisma.hostedConnectionSession.findUnique({ where: { tokenHash: hashSessionToken(token) } });
  if (!row) throw new ServiceError("UNAUTHENTICATED", "Unknown session token");
  return expireIfDue(services, row);
}

/** Throws the typed error that says why a session can no longer change. */
export function assertOpen(session: HostedConnectionSession): void {
  if (session.status === "EXPIRED") throw new ServiceError("SESSION_EXPIRED", "This connection session has expired; ask the app for a new one");
  if (isTerminal(session.status)) {
    throw new ServiceError("SESSION_COMPLETED", `This connection session is already ${session.status.toLowerCase()}`, {
      details: { status: session.status },
    });
  }
}

/** The expiry sweep: safe on every instance at once, since each expiry is a conditional update. */
export async function expireDueSessions(services: Services, limit = 500): Promise<number> {
  const due = await services.prisma.hostedConnectionSession.findMany({
    where: { status: { in: OPEN_STATUSES }, expiresAt: { lte: new Date() } },
    select: { id: true },
    take: limit,
  });
  let expired = 0;
  for (const s of due) if (await expire(services, s.id)) expired++;
  return expired;
}

/** Sessions in the database by status (the metrics gauge): one groupBy. */
export async function countSessionsByStatus(services: Pick<Services, "prisma">): Promise<{ status: SessionStatus; count: number }[]> {
  const groups = await services.prisma.hostedConnectionSession.groupBy({ by: ["status"], _count: { _all: true } });
  return groups.map((g) => ({ status: g.status, count: g._count._all }));
}
