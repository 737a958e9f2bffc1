// `client.proxy()`: call a provider's API as one of your connections; One Runtime adds the
// credential. The provider's answer resolves whatever its status (like fetch); only One Runtime's
// own failures (its `x-one-runtime-proxy-error` header) reject, as OneRuntimeError with their code.
import { OneRuntimeError, toOneRuntimeError } from "./errors.js";

export type ProxyQuery = URLSearchParams | Record<string, string | number | boolean | readonly (string | number | boolean)[] | undefined>;

export type ProxyRequest = {
  connectionId: string;
  /** Default GET. */
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  /** Under the integration's API base URL, as it should go out (encode segments yourself): `/crm/v3/objects/contacts`. */
  path: string;
  query?: ProxyQuery;
  /** Sent to the provider, except Authorization, Cookie, hop-by-hop and forwarding headers. */
  headers?: Record<string, string>;
  /**
   * A string, bytes, a Blob, a web ReadableStream or a Node stream (async iterable of bytes),
   * streamed; a plain object or array is sent as JSON. Bodies up to 1 MB can be resent after a
   * token refresh or for retries; larger ones are sent once.
   */
  body?: string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Record<string, unknown> | unknown[];
  /** Retries on the provider's 429/503, honouring Retry-After (0 to 5; default 0). Idempotent methods only unless `retryNonIdempotent`. */
  retries?: number;
  retryNonIdempotent?: boolean;
  signal?: AbortSignal;
  /** How long to wait for the response's headers, in ms (default 120 000); the body then streams for as long as it takes. */
  timeoutMs?: number;
};

export type ProxyResponse = {
  /** The provider's status. */
  status: number;
  ok: boolean;
  /** The provider's headers (hop-by-hop and Set-Cookie removed) and One Runtime's `x-request-id`. */
  headers: Headers;
  requestId: string | undefined;
  /** The body as it arrives; read it once, by this or by one of the helpers. */
  body: ReadableStream<Uint8Array> | null;
  json<T = unknown>(): Promise<T>;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
};

const DEFAULT_PROXY_TIMEOUT_MS = 120_000;
const OPERATION = "proxy";

function queryString(query: ProxyQuery | undefined): string {
  if (!query) return "";
  const params = query instanceof URLSearchParams ? query : new URLSearchParams();
  if (!(query instanceof URLSearchParams)) {
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
    }
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

function bodyOf(body: ProxyRequest["body"], headers: Headers): { body?: BodyInit; duplex?: "half" } {
  if (body === undefined) return {};
  if (typeof body === "string" || body instanceof Uint8Array || body instanceof ArrayBuffer || body instanceof Blob) return { body: body as BodyInit };
  if (body instanceof ReadableStream || Symbol.asyncIterator in (body as object)) return { body: body as unknown as BodyInit, duplex: "half" };
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  return { body: JSON.stringify(body) };
}

export function createProxy(proxyBase: string, apiKey: string, fetchImpl: typeof fetch): (request: ProxyRequest) => Promise<ProxyResponse> {
  return async (request) => {
    if (!request.connectionId || /[/?#]/.test(request.connectionId)) throw new TypeError("proxy: connectionId is required (a connection's id)");
    // fetch's URL parser would resolve them silently, sending the request somewhere else.
    if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(request.path)) throw new TypeError("proxy: path may not hold . or .. segments");
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${apiKey}`);
    if (request.retries !== undefined) headers.set("x-one-runtime-retries", String(request.retries));
    if (request.retryNonIdempotent) headers.set("x-one-runtime-retry-non-idempotent", "true");
    const url = `${proxyBase}${encodeURIComponent(request.connectionId)}/${request.path.replace(/^\/+/, "")}${queryString(request.query)}`;
    // The deadline covers the response's headers only: a large body may stream for longer.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(Object.assign(new Error("timeout"), { name: "TimeoutError" })), request.timeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS);
    const signal = request.signal ? AbortSignal.any([deadline.signal, request.signal]) : deadline.signal;
    let response: Response;
    try {
      response = await fetchImpl(url, { method: request.method ?? "GET", headers, ...bodyOf(request.body, headers), signal, redirect: "manual" } as RequestInit);
    } catch (error) {
      throw toOneRuntimeError(request.signal?.aborted ? error : deadline.signal.aborted ? deadline.signal.reason : error, OPERATION, request.signal);
    } finally {
      clearTimeout(timer);
    }
    const requestId = response.headers.get("x-request-id") ?? undefined;
    const proxyError = response.headers.get("x-one-runtime-proxy-error");
    if (proxyError) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
      const retryAfter = response.headers.get("retry-after");
      throw new OneRuntimeError({
        code: proxyError,
        message: body.error?.message ?? `One Runtime's proxy answered ${proxyError}`,
        operation: OPERATION,
        status: response.status,
        requestId,
        retryAfterSeconds: retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined,
      });
    }
    return {
      status: response.status,
      ok: response.ok,
      headers: response.headers,
      requestId,
      body: response.body,
      json: <T>() => response.json() as Promise<T>,
      text: () => response.text(),
      arrayBuffer: () => response.arrayBuffer(),
    };
  };
}
