// Watches one hosted connection session over WebSocket (the graphql-transport-ws protocol, the
// few messages we need: a full client would triple connect.js). The session token authenticates
// the connection, in connection_init, so it never appears in an operation. Any drop that is not
// the end of the flow reconnects with backoff and resubscribes, which re-reads the current state,
// so an event missed while disconnected is never lost. Gives up after a minute of continuous failure.
import { WatchSessionDocument, type HostedConnectionSessionStatus, type SessionStateFragment, type WatchSessionSubscription } from "../generated/operations.js";

export type SessionStatus = HostedConnectionSessionStatus;
export type SessionState = SessionStateFragment;
export type GraphQLErrorLike = { message?: string; extensions?: { code?: string } };

export type WatchHandlers = {
  /** Every state the server reports, the current one first. */
  state(session: SessionState): void;
  /** The server refused the subscription for good (bad or expired token). */
  refused(errors: GraphQLErrorLike[]): void;
  /** No contact with the server for `giveUpMs`. */
  unreachable(): void;
};

/** Errors that retrying cannot fix. */
const FINAL_CODES = ["UNAUTHENTICATED", "SESSION_EXPIRED", "FORBIDDEN"];

export const WATCH_TIMING = {
  backoffMs: [250, 500, 1000, 2000, 5000],
  /** Connected but not acknowledged in this long: treat as dropped. */
  ackTimeoutMs: 10_000,
  giveUpMs: 60_000,
};

export function watchSession(wsUrl: string, token: string, on: WatchHandlers): { close(): void } {
  let socket: { close(): void } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let failingSince: number | undefined;
  let stopped = false;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close();
  };

  const retry = () => {
    if (stopped) return;
    const now = Date.now();
    failingSince ??= now;
    if (now - failingSince >= WATCH_TIMING.giveUpMs) {
      stop();
      return on.unreachable();
    }
    const steps = WATCH_TIMING.backoffMs;
    const base = steps[Math.min(attempt++, steps.length - 1)]!;
    // Jitter spreads the reconnects of many pages after a server restart.
    timer = setTimeout(connect, attempt === 1 ? base : base * (0.75 + Math.random() / 2));
  };

  function connect() {
    if (stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl, "graphql-transport-ws");
    } catch {
      return retry();
    }
    socket = subscribe(ws, token, {
      state(session) {
        attempt = 0;
        failingSince = undefined;
        on.state(session);
      },
      refused(errors) {
        stop();
        on.refused(errors);
      },
      dropped() {
        socket = undefined;
        retry();
      },
    });
  }

  connect();
  return { close: stop };
}

/** What one socket reports: `dropped` once it ended or misbehaved, unless closed by us first. */
type SocketEvents = Pick<WatchHandlers, "state" | "refused"> & { dropped(): void };

/** Speaks the protocol on one socket: authenticates, subscribes, and reports what arrives. */
function subscribe(ws: WebSocket, token: string, events: SocketEvents): { close(): void } {
  /** Closed by us, or dropped: nothing more from this socket counts. */
  let done = false;
  const send = (message: object) => ws.readyState === 1 && ws.send(JSON.stringify(message));
  const close = (code?: number) => {
    done = true;
    clearTimeout(ackTimer);
    try {
      ws.close(code);
    } catch {
      // already closing, or nothing to close
    }
  };
  const dropped = () => {
    if (done) return;
    close();
    events.dropped();
  };
  const refusedOrRetry = (errors: GraphQLErrorLike[] | undefined) => {
    const list = Array.isArray(errors) ? errors : [];
    if (list.some((e) => FINAL_CODES.includes(e?.extensions?.code ?? ""))) return events.refused(list);
    dropped(); // e.g. RATE_LIMITED while an old socket of ours is still being cleaned up
  };
  const ackTimer = setTimeout(dropped, WATCH_TIMING.ackTimeoutMs);
  ws.onopen = () => send({ type: "connection_init", payload: { authorization: `Bearer ${token}` } });
  ws.onclose = dropped;
  ws.onmessage = (event) => {
    if (done) return;
    let message: { type?: string; id?: string; payload?: any };
    try {
      message = JSON.parse(String(event.data));
    } catch {
      return dropped();
    }
    switch (message.type) {
      case "connection_ack":
        clearTimeout(ackTimer);
        return void send({ id: "1", type: "subscribe", payload: { query: WatchSessionDocument } });
      case "ping":
        return void send({ type: "pong", payload: message.payload });
      case "next": {
        const session = (message.payload?.data as WatchSessionSubscription | null | undefined)?.hostedConnectionSession;
        return session ? events.state(session) : refusedOrRetry(message.payload?.errors);
      }
      case "error":
        return refusedOrRetry(message.payload);
      case "complete":
        // The server completes after a terminal state, which settled the flow already; a
        // completion without one means the stream ended early: read the state again.
        return dropped();
    }
  };
  return { close: () => close(1000) };
}
