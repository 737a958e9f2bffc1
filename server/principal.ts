// Who is calling, resolved once per HTTP request or WebSocket operation from its bearer
// credential: an organization (API key), one hosted connection session (its token, used by the
// popup and the SDK: the session is loaded here, once), or nobody yet.
import { ServiceError } from "./errors.js";
import type { HostedConnectionSession } from "./generated/prisma/client.js";
import type { AuthenticatedOrganization } from "./organizations/api-keys.js";
import type { Services } from "./services.js";
import { sessionForToken } from "./sessions/lifecycle.js";
import { SESSION_TOKEN_PREFIX } from "./sessions/tokens.js";

export type Principal =
  | { kind: "anonymous" }
  | { kind: "organization"; organization: AuthenticatedOrganization }
  | { kind: "session"; session: HostedConnectionSession };

/** Parses `Bearer <credential>`; a malformed header is refused, not ignored. */
export async function resolvePrincipal(services: Services, authorization: string | null | undefined): Promise<Principal> {
  if (authorization == null || authorization === "") return { kind: "anonymous" };
  const match = /^Bearer ([\x21-\x7e]{1,200})$/.exec(authorization.trim());
  if (!match) throw new ServiceError("UNAUTHENTICATED", "The Authorization header must be `Bearer <API key>`");
  const credential = match[1]!;
  if (credential.startsWith(SESSION_TOKEN_PREFIX)) return { kind: "session", session: await sessionForToken(services, credential) };
  return { kind: "organization", organization: await services.apiKeys.verify(credential) };
}

/** IPv4 callers count as themselves whether they came over IPv4 or as IPv6-mapped addresses. */
const addressKey = (address: string | undefined) => (address ? address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "") : "unknown");

/**
 * The caller, once it has spent one request of its budget: its API key's, its session's, or
 * (no credential, or a refused one) its address's. A spent budget refuses the operation before
 * anything executes: RATE_LIMITED, HTTP 429 with Retry-After (an operation error on a WebSocket).
 */
export async function resolveCaller(services: Services, authorization: string | null, clientAddress: string | undefined): Promise<Principal> {
  let principal: Principal;
  try {
    principal = await resolvePrincipal(services, authorization);
  } catch (e) {
    await services.rateLimits.consume("anonymous", addressKey(clientAddress));
    throw e;
  }
  if (principal.kind === "organization") await services.rateLimits.consume("apiKey", principal.organization.apiKeyId);
  else if (principal.kind === "session") await services.rateLimits.consume("session", principal.session.id);
  else await services.rateLimits.consume("anonymous", addressKey(clientAddress));
  return principal;
}
