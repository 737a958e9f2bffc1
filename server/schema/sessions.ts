// Hosted connection sessions: created by a backend (API key); read, finished and cancelled by
// the popup (session token); watched by the SDK over a subscription.
import { requireOrganization, requireSessionToken } from "../context.js";
import { OneRuntimeError } from "../errors.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import { createHostedConnectionSession } from "../sessions/create.js";
import { assertOpen, expireIfDue, isTerminal, sessionForToken } from "../sessions/lifecycle.js";
import { cancelHostedConnectionSession, completeHostedConnectionSession } from "../sessions/popup.js";
import type { Services } from "../services.js";
import { builder } from "./builder.js";
import { IntegrationRef } from "./catalog.js";

export const SessionStatusEnum = builder.enumType("HostedConnectionSessionStatus", {
  values: ["PENDING", "AUTHORIZING", "CONNECTED", "FAILED", "CANCELLED", "EXPIRED"] as const,
});

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
      resolve: (s, _, ctx) => {
        const entry = ctx.services.catalog.get(s.integrationSlug);
        if (!entry) throw new OneRuntimeError("NOT_FOUND", "This integration is no longer in the catalog");
        return entry;
      },
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
    resolve: (_, __, ctx) => sessionForToken(ctx.services, requireSessionToken(ctx)),
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
    resolve: async (_, { input }, ctx) => {
      const token = requireSessionToken(ctx);
      await completeHostedConnectionSession(ctx.services, token, input);
      return sessionForToken(ctx.services, token);
    },
  }),
  cancelHostedConnectionSession: t.field({
    type: HostedConnectionSessionRef,
    description: "Popup or SDK (session token): the end user gave up.",
    resolve: (_, __, ctx) => cancelHostedConnectionSession(ctx.services, requireSessionToken(ctx)),
  }),
}));

/** Open subscriptions per session on this instance; a popup needs one, a retrying SDK a few. */
const watchersPerSession = new Map<string, number>();
export const MAX_WATCHERS_PER_SESSION = 5;

builder.subscriptionFields((t) => ({
  hostedConnectionSession: t.field({
    type: HostedConnectionSessionRef,
    description: "The session's current state first, then every change; completes after a terminal state.",
    args: { sessionToken: t.arg.string({ required: true }) },
    // Checks happen before the stream exists, so a refusal is a plain error result (one error event).
    subscribe: async (_, { sessionToken }, ctx) => {
      const first = await sessionForToken(ctx.services, sessionToken);
      if (first.status === "EXPIRED") assertOpen(first); // a clear SESSION_EXPIRED error event
      if ((watchersPerSession.get(first.id) ?? 0) >= MAX_WATCHERS_PER_SESSION) {
        throw new OneRuntimeError("RATE_LIMITED", "Too many subscriptions for this session");
      }
      return watchSession(ctx.services, first);
    },
    resolve: (s) => s,
  }),
}));

function watchSession(services: Services, first: HostedConnectionSession): AsyncGenerator<HostedConnectionSession> {
  watchersPerSession.set(first.id, (watchersPerSession.get(first.id) ?? 0) + 1);
  return watchChanges(services, first);
}

async function* watchChanges(services: Services, first: HostedConnectionSession): AsyncGenerator<HostedConnectionSession> {
  // Listen before reading, so a change between the read and the listen cannot be missed.
  const changes = services.events.watch(first.id);
  let expiryTimer: NodeJS.Timeout | undefined;
  try {
    let current = await services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: first.id } });
    yield current;
    if (isTerminal(current.status)) return;
    // Push the expiry the moment it happens, even if no sweep runs.
    const untilExpiry = Math.min(current.expiresAt.getTime() - Date.now() + 50, 2 ** 31 - 1);
    expiryTimer = setTimeout(() => void expireIfDue(services, current).catch(() => {}), Math.max(untilExpiry, 0));
    for await (const _ of changes) {
      const next = await expireIfDue(services, await services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: first.id } }));
      if (next.status !== current.status || next.updatedAt.getTime() !== current.updatedAt.getTime()) {
        current = next;
        yield current;
      }
      if (isTerminal(current.status)) return;
    }
  } finally {
    clearTimeout(expiryTimer);
    await changes.return();
    const left = (watchersPerSession.get(first.id) ?? 1) - 1;
    if (left > 0) watchersPerSession.set(first.id, left);
    else watchersPerSession.delete(first.id);
  }
}
