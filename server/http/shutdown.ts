// Graceful close of the HTTP + WebSocket server: stop accepting, tell WebSocket clients to
// reconnect elsewhere (1012), let in-flight requests finish without letting their keep-alive
// connections carry new ones, and cut whatever is left after a grace period.
import type { Server, ServerResponse } from "node:http";
import type { Logger } from "../logger.js";

/** In-flight requests get this long to finish before their connections are cut. */
export const REQUEST_GRACE_MS = 10_000;
const IDLE_SWEEP_MS = 50;

export type GracefulClose = (opts: { closeWebSockets: () => Promise<void>; graceMs?: number; logger: Logger }) => Promise<void>;

/** Call right after createServer: it tracks responses so that close() can drain them. */
export function prepareGracefulClose(server: Server): GracefulClose {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  // Before the app's handler, which may answer synchronously.
  server.prependListener("request", (_req, res: ServerResponse) => {
    if (draining) res.setHeader("connection", "close");
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  });

  return async ({ closeWebSockets, graceMs = REQUEST_GRACE_MS, logger }) => {
    const started = Date.now();
    draining = true;
    // A keep-alive connection would otherwise stay open after its response, waiting for the next
    // request, until keepAliveTimeout; "connection: close" makes the client open a new one elsewhere.
    for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
    const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Connections between two requests (headers already sent when draining began) close as they go idle.
    const sweeper = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const pending = inFlight.size;
    await closeWebSockets();
    const cut = setTimeout(() => {
      logger.warn({ requests: inFlight.size }, "requests still running after the grace period: closing their connections");
      server.closeAllConnections();
    }, Math.max(graceMs - (Date.now() - started), 0));
    try {
      await httpClosed;
    } finally {
      clearTimeout(cut);
      clearInterval(sweeper);
    }
    logger.info({ inFlightAtStart: pending, durationMs: Date.now() - started }, "HTTP and WebSocket server closed");
  };
}
