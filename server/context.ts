// Who is calling: an organization (API key), one hosted connection session (its token, used by
// the popup), or nobody yet. Resolved once per request or WebSocket subscription.
import { OneRuntimeError } from "./errors.js";
import { authenticateApiKey, type AuthenticatedOrganization } from "./organizations/api-keys.js";
import { SESSION_TOKEN_PREFIX } from "./sessions/tokens.js";
import type { Services } from "./services.js";

export type Principal =
  | { kind: "anonymous" }
  | { kind: "organization"; organization: AuthenticatedOrganization }
  | { kind: "session"; token: string };

export type Context = { services: Services; principal: Principal; requestId: string };

/** Parses `Authorization: Bearer <credential>`; a malformed header is refused, not ignored. */
export async function resolvePrincipal(services: Services, authorization: string | null | undefined): Promise<Principal> {
  if (authorization == null || authorization === "") return { kind: "anonymous" };
  const match = /^Bearer ([\x21-\x7e]{1,200})$/.exec(authorization.trim());
  if (!match) throw new OneRuntimeError("UNAUTHENTICATED", "The Authorization header must be `Bearer <API key>`");
  const credential = match[1]!;
  if (credential.startsWith(SESSION_TOKEN_PREFIX)) return { kind: "session", token: credential };
  return { kind: "organization", organization: await authenticateApiKey(services.prisma, credential) };
}

export function requireOrganization(ctx: Context): AuthenticatedOrganization {
  if (ctx.principal.kind === "organization") return ctx.principal.organization;
  if (ctx.principal.kind === "session") throw new OneRuntimeError("FORBIDDEN", "A session token cannot call this operation; use an API key from your backend");
  throw new OneRuntimeError("UNAUTHENTICATED", "An API key is required: send `Authorization: Bearer <API key>`");
}

export function requireSessionToken(ctx: Context): string {
  if (ctx.principal.kind === "session") return ctx.principal.token;
  if (ctx.principal.kind === "organization") throw new OneRuntimeError("FORBIDDEN", "This operation is for the hosted popup and takes a session token");
  throw new OneRuntimeError("UNAUTHENTICATED", "A session token is required: send `Authorization: Bearer <session token>`");
}
