// Outbound HTTP to destinations a customer or an end user can influence (webhook endpoints,
// proxied provider APIs). The address is checked after DNS resolution, at connect time, so a
// name that resolves to a private, loopback, link-local or metadata address is refused however
// it is spelled; loopback is allowed only behind the development switch.
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import ipaddr from "ipaddr.js";
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from "request-filtering-agent";

export interface EgressPolicy {
  /** Allow 127.0.0.0/8 and ::1, over plain http too (development and tests only). */
  allowLoopback: boolean;
  /** Name resolution; tests pass one that answers chosen addresses for chosen names. */
  lookup?: LookupFunction;
}

/** The destination is not one this service may call; the message says why, with no secret. */
export class DestinationBlocked extends Error {
  override name = "DestinationBlocked";
}

const LOOPBACK = ["127.0.0.0/8", "::1"];

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === "loopback";
}

/**
 * Checks what can be judged from the URL alone: https (plain http only to loopback when allowed),
 * no user name or password in it, no literal address outside the public unicast ranges.
 */
export function checkDestination(url: URL, policy: EgressPolicy): void {
  const loopback = isLoopbackHost(url.hostname);
  if (loopback && !policy.allowLoopback) throw new DestinationBlocked(`${url.hostname} is a loopback address`);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new DestinationBlocked(loopback ? "only http or https URLs" : "only https URLs");
  }
  if (url.username || url.password) throw new DestinationBlocked("a URL may not carry a user name or password");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!loopback && ipaddr.isValid(host) && ipaddr.process(host).range() !== "unicast") {
    throw new DestinationBlocked(`${host} is not a public address`);
  }
}

const agents = new Map<string, http.Agent>();

/**
 * The keep-alive agent for `http.request`/`https.request` to `url`: it re-checks every resolved
 * address when it connects. One agent per scheme and policy, so connections are reused.
 */
export function egressAgent(url: URL, policy: EgressPolicy): http.Agent {
  const https = url.protocol === "https:";
  const key = `${https}:${policy.allowLoopback}`;
  const cacheable = !policy.lookup;
  const cached = cacheable ? agents.get(key) : undefined;
  if (cached) return cached;
  const options = {
    keepAlive: true,
    allowPrivateIPAddress: false,
    allowMetaIPAddress: false,
    allowIPAddressList: policy.allowLoopback ? LOOPBACK : [],
    ...(policy.lookup ? { lookup: policy.lookup } : {}),
  };
  const agent = https ? new RequestFilteringHttpsAgent(options) : new RequestFilteringHttpAgent(options);
  if (cacheable) agents.set(key, agent);
  return agent;
}

/** Whether a request error is the agent refusing the resolved address (not a network failure). */
export function isDestinationBlocked(error: unknown): boolean {
  if (error instanceof DestinationBlocked) return true;
  return error instanceof Error && /^DNS lookup .* is not allowed\./.test(error.message);
}

/** No response (headers) within the deadline, or a response body that stalled as long. */
export class EgressTimeout extends Error {
  override name = "EgressTimeout";
}

export type EgressRequest = {
  method: string;
  headers: http.OutgoingHttpHeaders;
  /** Sent as is: a buffer, or a stream piped with backpressure (whose errors abort the request). */
  body?: Buffer | Readable | undefined;
  /**
   * For each pause while the request body goes out, for the response's headers once it is all
   * sent, then for each pause while the response body streams. A long upload is not a timeout.
   */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
};

/**
 * Sends one request through the guard (checkDestination, then the agent's after-DNS check) and
 * resolves with the response as it arrives, its body unread. Redirects are never followed: a 3xx
 * is a response like any other, so no hop can lead to another host.
 */
export function egressRequest(url: URL, policy: EgressPolicy, request: EgressRequest): Promise<http.IncomingMessage> {
  checkDestination(url, policy);
  const send = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: request.method, headers: request.headers, agent: egressAgent(url, policy), signal: request.signal });
    req.setTimeout(request.timeoutMs, () => req.destroy(new EgressTimeout(`the request stalled for ${request.timeoutMs} ms`)));
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    req.once("finish", () => {
      if (answered) return; // a provider may answer before it has read the whole body
      timer = setTimeout(() => req.destroy(new EgressTimeout(`no response within ${request.timeoutMs} ms`)), request.timeoutMs);
    });
    req.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once("response", (res) => {
      answered = true;
      clearTimeout(timer);
      res.setTimeout(request.timeoutMs, () => res.destroy(new EgressTimeout(`the response stalled for ${request.timeoutMs} ms`)));
      resolve(res);
    });
    const body = request.body;
    if (!body || Buffer.isBuffer(body)) req.end(body);
    else {
      body.once("error", (error) => req.destroy(error));
      body.pipe(req);
    }
  });
}

/**
 * Reads at most `cap` bytes of a response body (what arrived, if it fails midway), then destroys
 * the stream: a provider or receiver cannot make us hold more. `truncated` when there was more.
 */
export async function readCappedBody(body: NodeJS.ReadableStream & { destroy(): void }, cap: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      chunks.push(b);
      size += b.length;
      if (size > cap) break;
    }
  } catch {
    // A body that fails midway still leaves what arrived.
  } finally {
    body.destroy();
  }
  return { text: Buffer.concat(chunks).subarray(0, cap).toString("utf8"), truncated: size > cap };
}

/** A response's Retry-After in milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
