// Outbound HTTP to destinations a customer or an end user can influence (webhook endpoints,
// proxied provider APIs). The address is checked after DNS resolution, at connect time, so a
// name that resolves to a private, loopback, link-local or metadata address is refused however
// it is spelled; loopback is allowed only behind the development switch.
import type http from "node:http";
import type { LookupFunction } from "node:net";
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
