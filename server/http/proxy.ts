// /proxy/<connectionId>/<path>: a customer backend calls a provider's API as one of its
// connections, with its own API key; we add the connection's credential (server/proxy/). Bodies
// stream both ways with backpressure, within size caps. The provider's status, headers and body
// pass through; the proxy's own failures are JSON `{ error: { code, message, requestId } }` with
// `x-one-runtime-proxy-error: <code>`, so a caller can always tell whose answer it holds.
// Options ride in `x-one-runtime-*` headers (never forwarded): the query string is the provider's.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ServiceError, type ErrorCode } from "../errors.js";
import { PROXY_METHODS, sendAuthorizedRequest, type ProviderResponse } from "../proxy/authorized-request.js";
import { MAX_RETRIES } from "../proxy/retry-policy.js";
import type { Services } from "../services.js";
import { resolveCaller } from "../principal.js";
import type { Metrics } from "./metrics.js";
import { BASE_HEADERS, readBody, type RouteHandler } from "./responses.js";

export const PROXY_PREFIX = "/proxy/";
/** Request and response bodies are capped at this size each. */
export const MAX_PROXY_BODY_BYTES = 100 * 1024 * 1024;
/** Bodies up to this size are held in memory so a 401 refresh or a retry can send them again; larger ones stream once. */
export const REPLAYABLE_BODY_BYTES = 1024 * 1024;
export const PROXY_ERROR_HEADER = "x-one-runtime-proxy-error";
const MAX_PATH_LOGGED = 256;

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  PATH_REFUSED: 400,
  BAD_REQUEST: 405,
  PAYLOAD_TOO_LARGE: 413,
  PROXY_NOT_SUPPORTED: 422,
  NEEDS_REAUTH: 424,
  RATE_LIMITED: 429,
  CREDENTIALS_UNREADABLE: 500,
  DESTINATION_BLOCKED: 502,
  PROVIDER_UNREACHABLE: 502,
  PROVIDER_ERROR: 502,
  PROVIDER_TIMEOUT: 504,
};

class ProxyRefusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Counts bytes through; fails past `limit` (the flag tells the failure from a network error). */
function capped(limit: number, onOver: () => void): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) {
        onOver();
        return done(new Error(`body over ${limit} bytes`));
      }
      done(null, chunk);
    },
  });
}

function options(req: IncomingMessage): { retries: number; retryNonIdempotent: boolean } {
  const raw = req.headers["x-one-runtime-retries"];
  const retries = raw === undefined ? 0 : Number(raw);
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) throw new ProxyRefusal("BAD_USER_INPUT", `x-one-runtime-retries must be an integer from 0 to ${MAX_RETRIES}`);
  return { retries, retryNonIdempotent: req.headers["x-one-runtime-retry-non-idempotent"] === "true" };
}

/** The request body as the domain takes it: nothing, a buffer (small, replayable) or a capped stream. */
async function bodyOf(req: IncomingMessage, onOver: () => void): Promise<Buffer | Readable | undefined> {
  const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
  if (declared !== undefined && declared > MAX_PROXY_BODY_BYTES) throw new ProxyRefusal("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_PROXY_BODY_BYTES} bytes`);
  if (declared === 0 || (declared === undefined && req.headers["transfer-encoding"] === undefined)) return undefined;
  if (declared !== undefined && declared <= REPLAYABLE_BODY_BYTES) {
    const body = await readBody(req, REPLAYABLE_BODY_BYTES);
    if (!body) throw new ProxyRefusal("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_PROXY_BODY_BYTES} bytes`);
    return body;
  }
  return req.pipe(capped(MAX_PROXY_BODY_BYTES, onOver));
}

export function proxyEndpoint(services: Services, metrics: Metrics): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = String(res.getHeader("x-request-id") ?? "");
    const method = (req.method ?? "GET").toUpperCase();
    // The raw target, not the parsed URL: a parser would already have resolved `..` and decoded escapes.
    const raw = req.url ?? "";
    const match = /^\/proxy\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(raw);
    const connectionId = match?.[1] ?? "";
    const path = match?.[2] ?? "";
    let integration = "unknown";
    let attempts = 0;
    let bodyTooLarge = false;
    const aborted = new AbortController();
    let outcome: { origin: "provider" | "proxy"; code?: string } | undefined;
    const finish = (origin: "provider" | "proxy", code?: string) => void (outcome = { origin, code });
    // One listener for the end, whichever way it comes: the caller gone (stop the provider call),
    // then the log line and the metrics sample.
    res.once("close", () => {
      if (!res.writableFinished) aborted.abort();
      const { origin, code } = outcome ?? { origin: "proxy" as const, code: "CLIENT_CLOSED" };
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const status = res.headersSent ? res.statusCode : 499;
      metrics.observeProxy({ integration, origin, status, code, attempts, durationMs });
      // Never the query string, headers or bodies: tokens and personal data travel there.
      services.logger.info(
        { requestId, connectionId: connectionId.slice(0, 64), integration, method, path: path.slice(0, MAX_PATH_LOGGED) || "/", status, origin, ...(code ? { code } : {}), attempts, durationMs: Math.round(durationMs * 10) / 10, ...(res.writableFinished ? {} : { aborted: true }) },
        "proxy request",
      );
    });

    const fail = (code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
      finish("proxy", code);
      if (res.headersSent) return void res.destroy();
      // An unread request body would otherwise keep the connection busy; close it instead.
      if (!req.readableEnded) headers.connection = "close";
      res.writeHead(STATUS[code] ?? 500, { ...BASE_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store", [PROXY_ERROR_HEADER]: code, ...headers });
      res.end(JSON.stringify({ error: { code, message, requestId } }));
    };

    let response: ProviderResponse;
    try {
      if (!PROXY_METHODS.has(method)) throw new ProxyRefusal("BAD_REQUEST", `The proxy takes ${[...PROXY_METHODS].join(", ")}`);
      const principal = await resolveCaller(services, req.headers.authorization ?? null, req.socket.remoteAddress);
      if (principal.kind === "anonymous") throw new ServiceError("UNAUTHENTICATED", "The proxy needs `Authorization: Bearer <API key>`");
      if (principal.kind !== "organization") throw new ServiceError("FORBIDDEN", "The proxy takes an organization's API key, not a session token");
      if (!match || !connectionId) throw new ServiceError("NOT_FOUND", "Connection not found");
      const opts = options(req);
      const body = await bodyOf(req, () => (bodyTooLarge = true));
      response = await sendAuthorizedRequest(services, principal.organization.organizationId, connectionId, {
        method,
        path,
        query: match[3] ?? "",
        headers: req.headers,
        body,
        ...opts,
        signal: aborted.signal,
      });
      integration = response.integration;
      attempts = response.attempts;
    } catch (error) {
      if (aborted.signal.aborted) return;
      if (bodyTooLarge) return fail("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_PROXY_BODY_BYTES} bytes`);
      if (error instanceof ProxyRefusal) return fail(error.code, error.message);
      if (error instanceof ServiceError) {
        const retryAfter = (error.extensions.http as { headers?: Record<string, string> } | undefined)?.headers?.["Retry-After"];
        return fail(error.code, error.message, retryAfter ? { "retry-after": retryAfter } : {});
      }
      services.logger.error({ err: error, requestId, connectionId: connectionId.slice(0, 64) }, "proxy request failed");
      return fail("INTERNAL_SERVER_ERROR", "Unexpected failure; quote the request id");
    }

    const declared = Number(response.headers["content-length"] ?? 0);
    if (declared > MAX_PROXY_BODY_BYTES) {
      response.body.destroy();
      return fail("PROVIDER_ERROR", `The provider's response is over ${MAX_PROXY_BODY_BYTES} bytes`);
    }
    finish("provider");
    res.writeHead(response.status, { ...response.headers, "x-request-id": requestId });
    try {
      await pipeline(response.body, capped(MAX_PROXY_BODY_BYTES, () => {}), res);
    } catch {
      // The provider broke off, stalled, or sent too much, or our caller left: the status is
      // out already, so the only honest signal left is a cut connection.
      res.destroy();
    }
  };
}
