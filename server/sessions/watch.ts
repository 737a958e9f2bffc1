// Watching one session for the SDK: its current state first, then every change, ending after a
// terminal state, or at once when the subscriber leaves (socket closed, `complete`, SSE stream
// cancelled). Events only say "look again"; each yield is the row as the database has it.
import { ServiceError } from "../errors.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { assertOpen, expireIfDue, isTerminal } from "./lifecycle.js";

/** Open watchers per session, across instances; a popup needs one, a retrying SDK a few. */
export const MAX_WATCHERS_PER_SESSION = 5;

/**
 * Checks happen before the stream exists, so a refusal (an expired session, too many watchers) is
 * a plain typed error rather than an event.
 */
export async function watchSession(services: Services, session: HostedConnectionSession): Promise<AsyncGenerator<HostedConnectionSession>> {
  if (session.status === "EXPIRED") assertOpen(session);
  const slot = await services.watcherSlots.acquire(session.id, MAX_WATCHERS_PER_SESSION);
  if (!slot) throw new ServiceError("RATE_LIMITED", "Too many subscriptions for this session");
  return endingOnReturn((signal) => watchChanges(services, session.id, signal), () => slot.release());
}

/**
 * An async generator whose return() ends it at once. A generator's own return() waits until the
 * body reaches a `yield`, and a watcher yields only on a change: without the signal, a subscriber
 * that leaves would keep its watcher (and its slot) until the session next changes. `release` runs
 * exactly once, however the stream ends (finished, failed, returned, or never started).
 */
function endingOnReturn<T>(start: (signal: AbortSignal) => AsyncGenerator<T>, release: () => Promise<void>): AsyncGenerator<T> {
  const controller = new AbortController();
  const inner = start(controller.signal);
  let released: Promise<void> | undefined;
  const releaseOnce = () => (released ??= release());
  const stop = () => {
    controller.abort();
    return releaseOnce();
  };
  const iterator: AsyncGenerator<T> = {
    async next() {
      try {
        const result = await inner.next();
        if (result.done) await releaseOnce();
        return result;
      } catch (e) {
        await stop();
        throw e;
      }
    },
    async return(value) {
      await stop();
      return inner.return(value as never);
    },
    async throw(e) {
      await stop();
      return inner.throw(e);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * Whether a subscriber can see a difference: the fields the session's type shows that ever change.
 * Bookkeeping (the popup's page, a close it reported) touches the row without being news.
 */
function seenChange(a: HostedConnectionSession, b: HostedConnectionSession): boolean {
  return (
    a.status !== b.status ||
    a.errorCode !== b.errorCode ||
    a.errorMessage !== b.errorMessage ||
    a.connectionId !== b.connectionId ||
    a.connectionName !== b.connectionName ||
    a.expiresAt.getTime() !== b.expiresAt.getTime() ||
    a.completedAt?.getTime() !== b.completedAt?.getTime()
  );
}

const readSession = (services: Services, id: string) => services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id } });

async function* watchChanges(services: Services, sessionId: string, signal: AbortSignal): AsyncGenerator<HostedConnectionSession> {
  // Listen before reading, so a change between the read and the listen cannot be missed.
  const changes = services.events.watch(sessionId, { signal });
  let expiryTimer: NodeJS.Timeout | undefined;
  try {
    let current = await readSession(services, sessionId);
    if (signal.aborted) return;
    yield current;
    if (isTerminal(current.status)) return;
    // Push the expiry the moment it happens, even if no sweep runs.
    const untilExpiry = Math.min(current.expiresAt.getTime() - Date.now() + 50, 2 ** 31 - 1);
    const expiring = current;
    expiryTimer = setTimeout(() => {
      expireIfDue(services, expiring).catch((e: Error) => services.logger.warn({ sessionId, err: { message: e.message } }, "expiring a watched session failed"));
    }, Math.max(untilExpiry, 0));
    // Ends when the signal aborts: the events' watch returns from its wait.
    for await (const latest of changes) {
      // The change's own row when it came alone and is not older than what we showed.
      const row = latest as HostedConnectionSession | undefined;
      const fresh = row && row.updatedAt.getTime() >= current.updatedAt.getTime() ? row : await readSession(services, sessionId);
      const next = await expireIfDue(services, fresh);
      if (signal.aborted) return;
      if (seenChange(current, next)) {
        current = next;
        yield current;
      }
      if (isTerminal(current.status)) return;
    }
  } finally {
    clearTimeout(expiryTimer);
    await changes.return();
  }
}
