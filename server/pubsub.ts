// The one publish/subscribe interface between instances: session status changes, and API key
// revocations (each instance caches key verifications). Session events carry only the session id:
// a watcher re-reads the row, so what reaches the SDK is always the database's truth. In
// process by default, where nothing is lost and an idle watcher costs no work at all; over Redis
// (REDIS_URL) when several instances share the work. Redis pub/sub can lose an event (the moment
// between SUBSCRIBE and its confirmation, an outage), so there a watcher looks once shortly after
// it starts listening, looks again whenever Redis comes back, polls while Redis is down, and
// otherwise only on a slow safety-net timer.

/** The part of EventTarget we use; satisfied by node's EventTarget and @graphql-yoga/redis-event-target. */
export type SessionEventTarget = {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
};

export type SessionEvents = {
  /**
   * `latest`: the row as the change left it (an UPDATE … RETURNING), handed to watchers in this
   * process so they need not read it again; never sent over Redis (watchers there re-read).
   */
  publish(sessionId: string, latest?: object): void;
  /**
   * Listens from the moment of the call; yields whenever the session may have changed. Ends (and
   * stops listening) as soon as `signal` aborts, even while waiting: a caller's return() on an
   * async generator only runs once it reaches a `yield`, so the signal is what ends a wait.
   * Yields the one published row when exactly one change came in since the last yield (the
   * watcher may use it as is), otherwise undefined (read the row again).
   */
  watch(sessionId: string, opts?: { signal?: AbortSignal }): AsyncGenerator<object | undefined, void, unknown>;
  /**
   * The transport lost (true) or regained (false) its link: every watcher looks once at once,
   * and polls while it is lost (events published meanwhile may never arrive).
   */
  setDegraded(degraded: boolean): void;
  /** Tells every instance (this one included) that an API key was revoked. */
  publishApiKeyRevoked(apiKeyId: string): void;
  /** Listens for revocations; returns the function that stops listening. */
  onApiKeyRevoked(listener: (apiKeyId: string) => void): () => void;
  close(): Promise<void>;
};

const REVOKED_TOPIC = "api-key-revoked";
const topic = (sessionId: string) => `session:${sessionId}`;

/** When watchers look without an event: only where events can be lost (Redis). */
export type Resync = {
  /** Once, this long after a watcher starts listening: covers the SUBSCRIBE handshake. */
  firstMs: number;
  /** The safety net while the link is up. */
  everyMs: number;
  /** While the link is down. */
  degradedMs: number;
};

export const REDIS_RESYNC: Resync = { firstMs: 1_000, everyMs: 300_000, degradedMs: 2_000 };

export function createSessionEvents(
  target: SessionEventTarget = new EventTarget(),
  close: () => Promise<void> = async () => {},
  resync?: Resync,
): SessionEvents {
  let degraded = false;
  /** Every watcher's "look now". */
  const lookers = new Set<() => void>();
  // Only in process: over Redis a row would travel as JSON (its dates as strings) for nothing.
  const carryRows = !resync;
  return {
    publish: (sessionId, latest) => {
      target.dispatchEvent(new CustomEvent(topic(sessionId), { detail: carryRows && latest ? { sessionId, latest } : { sessionId } }));
    },
    watch: (sessionId, { signal } = {}) => {
      let pending = false;
      /** The row the only change since the last yield carried; undefined after none or several. */
      let carried: object | undefined;
      let changes = 0;
      let wake: (() => void) | undefined;
      const onEvent = (event?: Event) => {
        pending = true;
        changes++;
        carried = changes === 1 ? ((event as CustomEvent | undefined)?.detail as { latest?: object } | undefined)?.latest : undefined;
        wake?.();
      };
      const onAbort = () => wake?.();
      target.addEventListener(topic(sessionId), onEvent);
      signal?.addEventListener("abort", onAbort);
      const look = () => onEvent();
      lookers.add(look);
      const stopListening = () => {
        target.removeEventListener(topic(sessionId), onEvent);
        signal?.removeEventListener("abort", onAbort);
        lookers.delete(look);
      };
      const startedAt = Date.now();
      let looked = false;
      /** How long the next wait may last without an event; undefined: as long as it takes. */
      const nextLookIn = () => {
        if (!resync) return undefined;
        if (degraded) return resync.degradedMs;
        if (!looked) return Math.max(resync.firstMs - (Date.now() - startedAt), 0);
        return resync.everyMs;
      };
      const generator = (async function* () {
        try {
          for (;;) {
            if (signal?.aborted) return;
            if (!pending) {
              let timer: NodeJS.Timeout | undefined;
              await new Promise<void>((resolve) => {
                wake = resolve;
                const ms = nextLookIn();
                if (ms !== undefined) timer = setTimeout(resolve, ms);
              });
              clearTimeout(timer);
              wake = undefined;
              looked = true;
              if (signal?.aborted) return;
            }
            const latest = carried;
            pending = false;
            carried = undefined;
            changes = 0;
            yield latest;
          }
        } finally {
          stopListening();
        }
      })();
      // A generator never started skips its finally: stop listening on return() regardless.
      const originalReturn = generator.return.bind(generator);
      generator.return = (value) => {
        stopListening();
        return originalReturn(value);
      };
      return generator;
    },
    setDegraded: (now) => {
      if (now === degraded) return;
      degraded = now;
      for (const look of [...lookers]) look();
    },
    publishApiKeyRevoked: (apiKeyId) => {
      target.dispatchEvent(new CustomEvent(REVOKED_TOPIC, { detail: { apiKeyId } }));
    },
    onApiKeyRevoked: (listener) => {
      const onEvent = (event: Event) => {
        const id = ((event as CustomEvent).detail as { apiKeyId?: unknown } | undefined)?.apiKeyId;
        if (typeof id === "string") listener(id);
      };
      target.addEventListener(REVOKED_TOPIC, onEvent);
      return () => target.removeEventListener(REVOKED_TOPIC, onEvent);
    },
    close,
  };
}
