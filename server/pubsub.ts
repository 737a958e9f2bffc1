// The one publish/subscribe interface for session status changes. Events carry only the session
// id: a watcher re-reads the row, so what reaches the SDK is always the database's truth. In
// process by default; over Redis (REDIS_URL) when several instances share the work. A watcher
// also wakes on a slow timer, so an event lost in transit (a Redis reconnect, the moment between
// SUBSCRIBE and its confirmation) delays an update by seconds instead of losing it.

/** The part of EventTarget we use; satisfied by node's EventTarget and @graphql-yoga/redis-event-target. */
export type SessionEventTarget = {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
};

export type SessionEvents = {
  publish(sessionId: string): void;
  /**
   * Listens from the moment of the call; yields whenever the session may have changed. Ends (and
   * stops listening) as soon as `signal` aborts, even while waiting: a caller's return() on an
   * async generator only runs once it reaches a `yield`, so the signal is what ends a wait.
   */
  watch(sessionId: string, opts?: { resyncMs?: number; signal?: AbortSignal }): AsyncGenerator<void, void, unknown>;
  close(): Promise<void>;
};

const topic = (sessionId: string) => `session:${sessionId}`;

export function createSessionEvents(
  target: SessionEventTarget = new EventTarget(),
  close: () => Promise<void> = async () => {},
): SessionEvents {
  return {
    publish: (sessionId) => {
      target.dispatchEvent(new CustomEvent(topic(sessionId), { detail: { sessionId } }));
    },
    watch: (sessionId, { resyncMs = 2_000, signal } = {}) => {
      let pending = false;
      let wake: (() => void) | undefined;
      const onEvent = () => {
        pending = true;
        wake?.();
      };
      const onAbort = () => wake?.();
      target.addEventListener(topic(sessionId), onEvent);
      signal?.addEventListener("abort", onAbort);
      const stopListening = () => {
        target.removeEventListener(topic(sessionId), onEvent);
        signal?.removeEventListener("abort", onAbort);
      };
      const generator = (async function* () {
        try {
          for (;;) {
            if (signal?.aborted) return;
            if (!pending) {
              let timer: NodeJS.Timeout | undefined;
              await new Promise<void>((resolve) => {
                wake = resolve;
                timer = setTimeout(resolve, resyncMs);
              });
              clearTimeout(timer);
              wake = undefined;
              if (signal?.aborted) return;
            }
            pending = false;
            yield;
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
    close,
  };
}
