// Hosted connection sessions: created by a backend (API key); read, finished and cancelled by
// the popup (session token); watched by the SDK over a subscription.
import { sha256Hex } from "../crypto-tokens.js";
import { ServiceError } from "../errors.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import { SessionStatus } from "../generated/prisma/enums.js";
import { cancelHostedConnectionSession, completeHostedConnectionSession, sessionReadByPopup } from "../sessions/complete.js";
import { createHostedConnectionSession } from "../sessions/create.js";
import { sessionForToken } from "../sessions/lifecycle.js";
import { watchSession } from "../sessions/watch.js";
import { builder } from "./builder.js";
import { IntegrationRef } from "./catalog.js";
import { requireOrganization, requireSession, type Context } from "./context.js";

export const SessionStatusEnum = builder.enumType(SessionStatus, { name: "HostedConnectionSessionStatus" });

export const EndUserRef = builder.objectRef<{ id: string; name: string | null; email: string | null }>("EndUser").implement({
  fields: (t) => ({
    id: t.exposeString("id"),
    name: t.exposeString("name", { nullable: true }),
    email: t.exposeString("email", { nullable: true }),
  }),
});

const SessionErrorRef = builder.objectRef<{ code: string; message: string }>("HostedConnectionSessionError").implement({
  fields: (t) => ({ code: t.exposeString("code"), message: t.exposeString("message") }),
});

export const HostedConnectionSessionRef = builder.prismaObject("HostedConnectionSession", {
  fields: (t) => ({
    id: t.exposeID("id"),
    status: t.field({ type: SessionStatusEnum, resolve: (s) => s.status }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true }),
    integration: t.field({
      type: IntegrationRef,
      resolve: (s, _, ctx) => ctx.services.catalog.require(s.integrationSlug),
    }),
    endUser: t.field({ type: EndUserRef, resolve: (s) => ({ id: s.endUserId, name: s.endUserName, email: s.endUserEmail }) }),
    suggestedConnectionName: t.exposeString("suggestedConnectionName", { nullable: true }),
    connectionName: t.exposeString("connectionName", { nullable: true, description: "The name the connection got, once CONNECTED." }),
    connectionId: t.exposeID("connectionId", {
      nullable: true,
      description: "Once CONNECTED: the connection created or re-authorized. Set from the start when re-authorizing.",
    }),
    error: t.field({
      type: SessionErrorRef,
      nullable: true,
      resolve: (s) => (s.errorCode ? { code: s.errorCode, message: s.errorMessage ?? s.errorCode } : null),
    }),
  }),
});

const CreatePayloadRef = builder
  .objectRef<{ sessionToken: string; expiresAt: Date; session: HostedConnectionSession }>("CreateHostedConnectionSessionPayload")
  .implement({
    fields: (t) => ({
      sessionToken: t.exposeString("sessionToken", { description: "Give this to your page; it is shown only once." }),
      expiresAt: t.expose("expiresAt", { type: "DateTime" }),
      session: t.field({ type: HostedConnectionSessionRef, resolve: (p) => p.session }),
    }),
  });

const CreateInput = builder.inputType("CreateHostedConnectionSessionInput", {
  fields: (t) => ({
    integrationSlug: t.string({ required: true }),
    endUserId: t.string({ required: true, description: "Your identifier for the end user." }),
    endUserName: t.string(),
    endUserEmail: t.string(),
    suggestedConnectionName: t.string(),
    expiresInSeconds: t.int({ description: "Default 1800 (30 minutes); 60 to 86400." }),
    connectionId: t.id({ description: "Re-authorize this existing connection in place (same id, new credentials)." }),
  }),
});

export const CredentialValueInput = builder.inputType("CredentialValueInput", {
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

const CompleteInput = builder.inputType("CompleteHostedConnectionSessionInput", {
  fields: (t) => ({
    connectionName: t.string(),
    credentials: t.field({ type: [CredentialValueInput], description: "The integration's credential fields; empty for no-credential integrations." }),
  }),
});

builder.queryFields((t) => ({
  hostedConnectionSession: t.field({
    type: HostedConnectionSessionRef,
    description: "The popup's session, from `Authorization: Bearer <session token>`. After the flow ends it still reads the final state.",
    resolve: (_, __, ctx) => sessionReadByPopup(ctx.services, requireSession(ctx), ctx.popupPageId),
  }),
}));

builder.mutationFields((t) => ({
  createHostedConnectionSession: t.field({
    type: CreatePayloadRef,
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: (_, { input }, ctx) => createHostedConnectionSession(ctx.services, requireOrganization(ctx), input),
  }),
  completeHostedConnectionSession: t.field({
    type: HostedConnectionSessionRef,
    description: "Popup (session token): finish an API key, basic or no-credential flow. Field problems come back as BAD_USER_INPUT with `fieldErrors`.",
    args: { input: t.arg({ type: CompleteInput, required: true }) },
    resolve: (_, { input }, ctx) => completeHostedConnectionSession(ctx.services, requireSession(ctx), input),
  }),
  cancelHostedConnectionSession: t.field({
    type: HostedConnectionSessionRef,
    description: "Popup or SDK (session token): the end user gave up.",
    resolve: (_, __, ctx) => cancelHostedConnectionSession(ctx.services, requireSession(ctx)),
  }),
}));

/**
 * The session a subscription watches: the caller's own (the SDK authenticates in graphql-ws's
 * connection_init, like any HTTP call), or, for clients that still pass it, the token argument.
 */
async function watchedSession(ctx: Context, sessionToken: string | null | undefined): Promise<HostedConnectionSession> {
  if (ctx.principal.kind === "session") {
    if (sessionToken != null && sha256Hex(sessionToken) !== ctx.principal.session.tokenHash) {
      throw new ServiceError("FORBIDDEN", "sessionToken names another session than the one this connection authenticated with");
    }
    return ctx.principal.session;
  }
  if (sessionToken == null) return requireSession(ctx);
  return sessionForToken(ctx.services, sessionToken);
}

builder.subscriptionFields((t) => ({
  hostedConnectionSession: t.field({
    type: HostedConnectionSessionRef,
    description:
      "The session's current state first, then every change; completes after a terminal state. Authenticate with the session token (graphql-ws `connection_init` payload `{ authorization: \"Bearer <session token>\" }`, or the Authorization header over HTTP).",
    args: {
      sessionToken: t.arg.string({ required: false, deprecationReason: "Authenticate the connection with the session token instead (connection_init payload or Authorization header)." }),
    },
    subscribe: async (_, { sessionToken }, ctx) => watchSession(ctx.services, await watchedSession(ctx, sessionToken)),
    resolve: (s) => s,
  }),
}));
