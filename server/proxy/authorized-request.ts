// Sending one request to a connection's provider API with its credential added by us: the
// credentials opened (an OAuth2 token refreshed ahead of expiry, once across instances), the URL
// kept under the catalog's base URL, the destination checked after DNS resolution, a provider 401
// answered by one refresh and one retry, and opt-in retries on 429/503. The HTTP proxy endpoint
// and the connection health checks both call `sendAuthorizedRequest`.
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { StoredCredentials } from "../connections/credentials.js";
import { openConnectionCredentials } from "../connections/read-credentials.js";
import { egressRequest, EgressTimeout, isDestinationBlocked, retryAfterMs } from "../egress.js";
import { ServiceError } from "../errors.js";
import { canRenew, refreshIfDue } from "../oauth/refresh.js";
import type { Services } from "../services.js";
import { apiBaseUrl, apiOf, credentialPlacement, targetUrl, targetValues } from "./api-target.js";
import { IDEMPOTENT_METHODS, isRetryableStatus, MAX_RETRIES, MAX_RETRY_WAIT_MS, retryDelayMs } from "./retry-policy.js";

export const PROXY_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Never forwarded either way: hop-by-hop (RFC 9110 §7.6.1) and what would carry our or the caller's session. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
const NOT_FORWARDED = new Set([...HOP_BY_HOP, "host", "authorization", "cookie", "expect", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"]);
const NOT_RETURNED = new Set([...HOP_BY_HOP, "set-cookie", "set-cookie2"]);
const USER_AGENT = "one-runtime-proxy";

/** Header maps as node's HTTP modules give and take them (names in lowercase). */
type HeaderMap = Record<string, string | string[] | number | undefined>;

export type ProviderRequest = {
  /** Default GET; one of PROXY_METHODS. */
  method?: string;
  /** Relative to the integration's API base URL, percent-encoded as it should go out: `/crm/v3/objects/contacts`. */
  path: string;
  /** The raw query string, without `?`, sent as is (the credential's own parameter, if any, replaces the caller's). */
  query?: string;
  /** The caller's headers; hop-by-hop, Authorization, Cookie, Host, forwarding and `x-one-runtime-*` headers are dropped. */
  headers?: HeaderMap;
  /** A buffer can be sent again (401 refresh, retries); a stream is sent once. */
  body?: Buffer | Readable;
  /** Sends again on 429/503, up to this many times (at most MAX_RETRIES). Default 0. */
  retries?: number;
  /** Retries POST and PATCH too (default: idempotent methods only). */
  retryNonIdempotent?: boolean;
  /** At most the configured proxy timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
};

export type ProviderResponse = {
  status: number;
  /** The provider's headers, hop-by-hop and Set-Cookie removed. */
  headers: Record<string, string | string[]>;
  /** The provider's body, unread: consume or destroy it. */
  body: Readable;
  integration: string;
  /** The connection's API base URL (origin and path), which every proxied path is relative to. */
  baseUrl: string;
  /** Requests sent to the provider (retries and the post-refresh retry included). */
  attempts: number;
};

function forwardedHeaders(given: ProviderRequest["headers"], defaults: Record<string, string>, credential: [string, string] | undefined): HeaderMap {
  const headers: HeaderMap = {};
  for (const [name, value] of Object.entries(defaults)) headers[name.toLowerCase()] = value;
  const named = new Set(String(given?.connection ?? "").toLowerCase().split(",").map((s) => s.trim()));
  for (const [rawName, value] of Object.entries(given ?? {})) {
    const name = rawName.toLowerCase();
    if (value === undefined || NOT_FORWARDED.has(name) || named.has(name) || name.startsWith("x-one-runtime-")) continue;
    headers[name] = value;
  }
  headers["user-agent"] ??= USER_AGENT;
  if (credential) headers[credential[0]] = credential[1];
  return headers;
}

export function returnedHeaders(given: HeaderMap): Record<string, string | string[]> {
  const named = new Set(String(given.connection ?? "").toLowerCase().split(",").map((s) => s.trim()));
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(given)) if (value !== undefined && !NOT_RETURNED.has(name) && !named.has(name)) out[name] = typeof value === "number" ? String(value) : value;
  return out;
}

function providerFailure(error: unknown): unknown {
  if (error instanceof ServiceError || (error as Error)?.name === "AbortError") return error;
  if (isDestinationBlocked(error)) return new ServiceError("DESTINATION_BLOCKED", "The integration's API address is not one this service may call");
  if (error instanceof EgressTimeout) return new ServiceError("PROVIDER_TIMEOUT", "The provider's API did not answer in time");
  return new ServiceError("PROVIDER_UNREACHABLE", `The provider's API could not be reached (${(error as NodeJS.ErrnoException)?.code ?? "network error"})`);
}

/**
 * Sends `request` to the connection's provider API as the connection, for its own organization
 * (another organization's connection is NOT_FOUND, like an unknown one). Resolves with the
 * provider's answer, whatever its status; throws a ServiceError for the proxy's own failures:
 * NOT_FOUND, NEEDS_REAUTH, PROXY_NOT_SUPPORTED, PATH_REFUSED, DESTINATION_BLOCKED,
 * PROVIDER_UNREACHABLE, PROVIDER_TIMEOUT, CREDENTIALS_UNREADABLE, PROVIDER_ERROR.
 */
export async function sendAuthorizedRequest(services: Services, organizationId: string, connectionId: string, request: ProviderRequest): Promise<ProviderResponse> {
  const method = (request.method ?? "GET").toUpperCase();
  if (!PROXY_METHODS.has(method)) throw new ServiceError("BAD_USER_INPUT", `The method ${method} cannot be proxied`);
  const opened = await openConnectionCredentials(services, organizationId, connectionId);
  const entry = services.catalog.require(opened.integrationSlug);
  const api = apiOf(entry);
  let stored: StoredCredentials = opened.stored;
  const base = apiBaseUrl(api, targetValues(entry, stored, opened.metadata, services.publicUrl()));
  const url = targetUrl(base, request.path, request.query ?? "");
  const replayable = request.body === undefined || Buffer.isBuffer(request.body);
  const retries = replayable && (IDEMPOTENT_METHODS.has(method) || request.retryNonIdempotent) ? Math.min(Math.max(0, Math.floor(request.retries ?? 0)), MAX_RETRIES) : 0;
  const timeoutMs = Math.min(request.timeoutMs ?? Infinity, services.config.proxy.timeoutMs);
  let refreshed = false;
  let retried = 0;
  for (let attempts = 1; ; attempts++) {
    const placement = credentialPlacement(entry, api, stored);
    const target = new URL(url);
    if (placement.query) {
      target.searchParams.delete(placement.query[0]);
      target.searchParams.append(...placement.query);
    }
    const headers = forwardedHeaders(request.headers, api.headers, placement.header);
    let res;
    try {
      res = await egressRequest(target, services.egress, { method, headers, body: request.body, timeoutMs, signal: request.signal });
    } catch (error) {
      throw providerFailure(error);
    }
    const status = res.statusCode ?? 502;
    if (status === 401 && !refreshed && replayable && stored.type === "OAUTH2" && canRenew(stored)) {
      // The token may have been revoked or rotated early: refresh once (the one-refresh path, so
      // concurrent 401s across instances cause one refresh) and send once more.
      refreshed = true;
      res.resume();
      stored = (await refreshIfDue(services, opened.id, { organizationId, rejectedAccessToken: stored.tokens.accessToken })) ?? stored;
      continue;
    }
    if (isRetryableStatus(status) && retried < retries) {
      const wait = retryDelayMs(retried + 1, retryAfterMs(res.headers["retry-after"]));
      if (wait <= MAX_RETRY_WAIT_MS) {
        retried++;
        res.resume();
        await sleep(wait, undefined, { signal: request.signal });
        continue;
      }
    }
    return { status, headers: returnedHeaders(res.headers), body: res, integration: entry.slug, baseUrl: base.origin + base.pathname, attempts };
  }
}
