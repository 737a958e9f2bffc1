// One log line and one metrics sample per HTTP request: method, path WITHOUT its query string,
// status, duration and request id. Never headers, bodies or query strings (OAuth codes, state and
// tokens travel there).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../logger.js";
import type { RequestSample } from "./metrics.js";

/** Paths load balancers and scrapers hit every few seconds: logged at debug, not info. */
const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);
const MAX_PATH_LOGGED = 256;

export type RequestObserver = (req: IncomingMessage, res: ServerResponse, requestId: string) => void;

/** The path part of a request target, never its query string or fragment. */
export function pathOf(target: string | undefined): string {
  const raw = target ?? "/";
  const end = raw.search(/[?#]/);
  return (end === -1 ? raw : raw.slice(0, end)).slice(0, MAX_PATH_LOGGED) || "/";
}

/**
 * Observes every request once it ends (finished or aborted). `routeOf` turns a path into a label
 * of bounded cardinality for metrics (unknown paths share one label).
 */
export function createRequestObserver(opts: {
  logger: Logger;
  routeOf: (path: string) => string;
  started?: () => void;
  record?: (sample: RequestSample) => void;
}): RequestObserver {
  return (req, res, requestId) => {
    opts.started?.();
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    const path = pathOf(req.url);
    res.once("close", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const aborted = !res.writableFinished;
      // A client that went away before the response: logged as 499 (nginx's "client closed request").
      const status = aborted && !res.headersSent ? 499 : res.statusCode;
      const line = { requestId, method, path, status, durationMs: Math.round(durationMs * 10) / 10, ...(aborted ? { aborted: true } : {}) };
      if (PROBES.has(path) && status < 500) opts.logger.debug(line, "request");
      else opts.logger.info(line, "request");
      opts.record?.({ route: opts.routeOf(path), method, status, durationMs, aborted });
    });
  };
}
