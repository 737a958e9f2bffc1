// A hosted connection session's states and the only ways it moves between them:
// PENDING → (AUTHORIZING) → CONNECTED | FAILED | CANCELLED | EXPIRED. Every move is one
// conditional UPDATE, so across any number of instances exactly one caller wins it, and the
// winner publishes the change.
import type { HostedConnectionSession, Prisma } from "../generated/prisma/client.js";
import type { SessionStatus } from "../generated/prisma/enums.js";
import { OneRuntimeError } from "../errors.js";
import type { Services } from "../services.js";
import { SESSION_TOKEN_PATTERN, hashSessionToken } from "./tokens.js";

export const OPEN_STATUSES: SessionStatus[] = ["PENDING", "AUTHORIZING"];
export const isTerminal = (s: SessionStatus) => !OPEN_STATUSES.includes(s);

type Db = Pick<Services["prisma"], "hostedConnectionSession">;

/**
 * Moves a session from one of `from` to `to`; returns false when another caller got there
 * first or the session expired meanwhile (the server's clock decides, not the client's).
 */
export async function transitionSession(
  db: Db,
  sessionId: string,
  from: SessionStatus[],
  to: SessionStatus,
  data: Omit<Prisma.HostedConnectionSessionUncheckedUpdateManyInput, "status"> = {},
): Promise<boolean> {
  const { count } = await db.hostedConnectionSession.updateMany({
    where: { id: sessionId, status: { in: from }, ...(to === "EXPIRED" ? {} : { expiresAt: { gt: new Date() } }) },
    data: { ...data, status: to, ...(isTerminal(to) ? { completedAt: new Date() } : {}) },
  });
  return count === 1;
}

/** Marks an open session past its expiry as EXPIRED (and tells subscribers). */
export async function expireIfDue(services: Services, session: HostedConnectionSession): Promise<HostedConnectionSession> {
  if (isTerminal(session.status) || session.expiresAt.getTime() > Date.now()) return session;
  const won = await services.prisma.hostedConnectionSession.updateMany({
    where: { id: session.id, status: { in: OPEN_STATUSES }, expiresAt: { lte: new Date() } },
    data: { status: "EXPIRED", completedAt: new Date(), errorCode: "session_expired", errorMessage: "The session expired before the flow finished" },
  });
  if (won.count === 1) services.events.publish(session.id);
  return (await services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } }));
}

/** The session a token opens, with its expiry applied. Unknown or malformed: UNAUTHENTICATED. */
export async function sessionForToken(services: Services, token: string): Promise<HostedConnectionSession> {
  if (!SESSION_TOKEN_PATTERN.test(token)) throw new OneRuntimeError("UNAUTHENTICATED", "Malformed session token");
  const row = await services.prisma.hostedConnectionSession.findUnique({ where: { tokenHash: hashSessionToken(token) } });
  if (!row) throw new OneRuntimeError("UNAUTHENTICATED", "Unknown session token");
  return expireIfDue(services, row);
}

/** Throws the typed error that says why a session can no longer change. */
export function assertOpen(session: HostedConnectionSession): void {
  if (session.status === "EXPIRED") throw new OneRuntimeError("SESSION_EXPIRED", "This connection session has expired; ask the app for a new one");
  if (isTerminal(session.status)) {
    throw new OneRuntimeError("SESSION_COMPLETED", `This connection session is already ${session.status.toLowerCase()}`, {
      details: { status: session.status },
    });
  }
}

/** The expiry sweep: safe on every instance at once, since each expiry is a conditional update. */
export async function expireDueSessions(services: Services, limit = 500): Promise<number> {
  const due = await services.prisma.hostedConnectionSession.findMany({
    where: { status: { in: OPEN_STATUSES }, expiresAt: { lte: new Date() } },
    select: { id: true, status: true, expiresAt: true },
    take: limit,
  });
  let expired = 0;
  for (const s of due) {
    const { count } = await services.prisma.hostedConnectionSession.updateMany({
      where: { id: s.id, status: { in: OPEN_STATUSES }, expiresAt: { lte: new Date() } },
      data: { status: "EXPIRED", completedAt: new Date(), errorCode: "session_expired", errorMessage: "The session expired before the flow finished" },
    });
    if (count === 1) {
      expired++;
      services.events.publish(s.id);
    }
  }
  return expired;
}
