// `client.proxyPages()`: every page of a paginated provider list, through `proxy()`. By default it
// follows RFC 8288 `Link: <…>; rel="next"` headers (GitHub, Shopify, Zendesk…), only to URLs under
// the connection's API base URL, which the proxy reports on each answer; cursor APIs (Slack's
// `response_metadata.next_cursor`, HubSpot's `paging.next.after`) pass `next` instead.
import type { ProxyRequest, ProxyResponse } from "./proxy.js";

/** What `next` may change for the following request; the rest is kept from the previous one. */
export type ProxyNextRequest = Partial<Omit<ProxyRequest, "connectionId">>;

export type ProxyPage<T = unknown> = {
  status: number;
  headers: Headers;
  requestId: string | undefined;
  /** The page's body, parsed as JSON (undefined when empty). */
  body: T;
  /** The request that produced this page. */
  request: ProxyRequest;
};

export type ProxyPagesRequest<T = unknown> = ProxyRequest & {
  /** The next page's request from this page, or undefined when it was the last. Default: the `Link` header's `rel="next"`. */
  next?: (response: ProxyPage<T>, body: T) => ProxyNextRequest | undefined;
  /** Stop after this many pages even if there are more (default 100). */
  maxPages?: number;
};

/** A page answered with a status outside 2xx: iteration stops there rather than ending as if the list were complete. */
export class ProxyPageError extends Error {
  override readonly name = "ProxyPageError";
  constructor(
    readonly page: ProxyPage,
    readonly pageNumber: number,
  ) {
    super(`Page ${pageNumber} answered ${page.status}`);
  }
}

const DEFAULT_MAX_PAGES = 100;
const API_BASE_HEADER = "x-one-runtime-api-base";

/** The `rel="next"` target of an RFC 8288 Link header, as written (maybe relative). */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const [, target, params] of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params!);
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (relations.includes("next")) return target;
  }
  return undefined;
}

/**
 * The proxy path and raw query for `link` (resolved against the page's own URL), or an error when
 * it is not under the connection's API base URL: a next link must never take the request (and
 * its credential) anywhere else.
 */
function linkToRequest(link: string, baseUrl: string, current: ProxyRequest, currentQuery: string): { path: string; query: string } {
  const base = new URL(baseUrl);
  const here = new URL(current.path.replace(/^\/+/, "") + currentQuery, base);
  let target: URL;
  try {
    target = new URL(link, here);
  } catch {
    throw new TypeError(`proxyPages: the next link ${JSON.stringify(link)} is not a URL`);
  }
  if (target.origin !== base.origin || target.username || target.password || !target.pathname.startsWith(base.pathname)) {
    throw new TypeError(`proxyPages: the next link ${JSON.stringify(link)} is not under the connection's API base URL ${baseUrl}`);
  }
  return { path: `/${target.pathname.slice(base.pathname.length)}`, query: target.search.replace(/^\?/, "") };
}

async function bodyOf(response: ProxyResponse): Promise<unknown> {
  const text = await response.text();
  return text === "" ? undefined : JSON.parse(text);
}

export function createProxyPages(proxy: (request: ProxyRequest) => Promise<ProxyResponse>, queryString: (query: ProxyRequest["query"]) => string) {
  return async function* proxyPages<T = unknown>(request: ProxyPagesRequest<T>): AsyncGenerator<ProxyPage<T>, void, undefined> {
    const { next, maxPages = DEFAULT_MAX_PAGES, ...first } = request;
    if (!Number.isInteger(maxPages) || maxPages < 1) throw new TypeError("proxyPages: maxPages must be a positive integer");
    let current: ProxyRequest = first;
    for (let n = 1; n <= maxPages; n++) {
      const response = await proxy(current);
      const page: ProxyPage<T> = { status: response.status, headers: response.headers, requestId: response.requestId, body: (await bodyOf(response)) as T, request: current };
      if (!response.ok) throw new ProxyPageError(page, n);
      yield page;
      let following: ProxyNextRequest | undefined;
      if (next) following = next(page, page.body);
      else {
        const link = nextLink(response.headers.get("link"));
        const baseUrl = response.headers.get(API_BASE_HEADER);
        if (link !== undefined && !baseUrl) throw new TypeError("proxyPages: the server did not say the connection's API base URL, so a next link cannot be followed");
        if (link !== undefined) following = linkToRequest(link, baseUrl!, current, queryString(current.query));
      }
      if (!following) return;
      current = { ...current, ...following, connectionId: current.connectionId };
    }
  };
}
