// The GraphQL context: the services, the caller (resolved once by the transport, see
// server/principal.ts) and the request id; and the checks a field makes on the caller.
import { ServiceError } from "../errors.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { AuthenticatedOrganization } from "../organizations/api-keys.js";
import type { Principal } from "../principal.js";
import type { Services } from "../services.js";

export type Context = {
  services: Services;
  principal: Principal;
  requestId: string;
  /** The popup page making the call (its `x-one-runtime-popup-page` header), when the popup calls. */
  popupPageId?: string | null;
};

export function requireOrganization(ctx: Context): AuthenticatedOrganization {
  if (ctx.principal.kind === "organization") return ctx.principal.organization;
  if (ctx.principal.kind === "session") throw new ServiceError("FORBIDDEN", "A session token cannot call this operation; use an API key from your backend");
  throw new ServiceError("UNAUTHENTICATED", "An API key is required: send `Authorization: Bearer <API key>`");
}

export function requireSession(ctx: Context): HostedConnectionSession {
  if (ctx.principal.kind === "session") return ctx.principal.session;
  if (ctx.principal.kind === "organization") throw new ServiceError("FORBIDDEN", "This operation is for the hosted popup and takes a session token");
  throw new ServiceError("UNAUTHENTICATED", "A session token is required: send `Authorization: Bearer <session token>`");
}
