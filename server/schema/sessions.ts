// Hosted connection sessions: created by a backend (API key); read, finished and cancelled by
// the popup (session token); watched by the SDK over a subscription.
import { sha256Hex } from "../crypto-tokens.js";
import { ServiceError } from "../errors.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import { SessionStatus } from "../generated/prisma/enums.js";
import { cancelHostedConnectionSession, completeHostedConnectionSession, sessionReadByPopup } from "../sessions/complete.js";
import { createHostedConnectionSession, MAX_ALLOWED_INTEGRATIONS } from "../sessions/create.js";
import { canChooseIntegration, chooseIntegration, offeredBy } from "../sessions/picker.js";
import { sessionForToken } from "../sessions/lifecycle.js";
import { watchSession } from "../sessions/watch.js";
import { builder } from "./builder.js";
import { CategoryRef, IntegrationPageRef, IntegrationRef } from "./catalog.js";
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
      nullable: true,
      description: "The integration being connected; null until the end user picks one in a picker session.",
      resolve: (s, _, ctx) => (s.integrationSlug ? ctx.services.catalog.require(s.integrationSlug) : null),
    }),
    integrationSlug: t.exposeString("integrationSlug", { nullable: true, description: "The chosen integration's slug (null until chosen)." }),
    allowedIntegrationSlugs: t.exposeStringList("allowedIntegrationSlugs", {
      description: "The integrations the session was created for: one, several (a picker), or none listed (a picker over the whole catalog).",
    }),
    canChooseIntegration: t.boolean({
      description: "Whether the end user may pick (or pick again) the integration: a picker session whose flow has not started.",
      resolve: (s) => canChooseIntegration(s),
    }),
    availableCategories: t.field({
      type: [CategoryRef],
      description: "The picker's categories: those holding an integration this session offers, with `integrationCount` counting only those.",
      resolve: async (s, _, ctx) => {
        const offered = await offeredBy(ctx.services, s);
        return ctx.services.catalog.categoriesWithin(offered).map(({ category, count }) => ({ ...category, count }));
      },
    }),
    availableIntegrations: t.field({
      type: IntegrationPageRef,
      description:
        "The integrations this session offers (its allowed list, or the catalog, narrowed to what the organization can connect), with the same ranked, typo-tolerant `search` as `integrations`.",
      args: {
        category: t.arg.string({ required: false }),
        search: t.arg.string({ required: false }),
        first: t.arg.int({ required: false }),
        after: t.arg.string({ required: false }),
      },
      resolve: async (s, args, ctx) => ctx.services.catalog.page({ ...args, only: await offeredBy(ctx.services, s) }),
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
    integrationSlug: t.string({ description: "The integration to connect. Leave it out to let the end user pick (see allowedIntegrations)." }),
    allowedIntegrations: t.stringList({
      description: `Instead of integrationSlug: the slugs the end user may pick from in the popup (1 to ${MAX_ALLOWED_INTEGRATIONS}; one means no picker). Neither: the whole catalog. OAuth2 integrations need your OAuth app configured.`,
    }),
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

const ChooseInput = builder.inputType("ChooseHostedConnectionIntegrationInput", {
  fields: (t) => ({ integrationSlug: t.string({ required: true }) }),
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
  chooseHostedConnectionIntegration: t.field({
    type: HostedConnectionSessionRef,
    description:
      "Popup (session token): the end user picks the integration to connect in a picker session. INTEGRATION_NOT_ALLOWED for one the session does not offer; CONFLICT once the flow has started.",
    args: { input: t.arg({ type: ChooseInput, required: true }) },
    resolve: (_, { input }, ctx) => chooseIntegration(ctx.services, requireSession(ctx), input.integrationSlug),
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
