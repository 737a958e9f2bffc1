// Webhook endpoints and their deliveries, for the customer backend (API key): manage endpoints,
// read every attempt, replay events. Payloads and signatures follow Standard Webhooks.
import type { WebhookEndpoint } from "../generated/prisma/client.js";
import { WebhookDeliveryStatus } from "../generated/prisma/enums.js";
import type { EventType } from "../events/types.js";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  findWebhookEndpoint,
  listWebhookEndpoints,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from "../webhooks/endpoints.js";
import { listDeliveries, replayEvents } from "../webhooks/queue.js";
import { builder } from "./builder.js";
import { requireOrganization } from "./context.js";
import { EventTypeEnum } from "./events.js";
import { pageType } from "./paging.js";

const WebhookEndpointRef = builder.prismaObject("WebhookEndpoint", {
  fields: (t) => ({
    id: t.exposeID("id"),
    url: t.exposeString("url"),
    description: t.exposeString("description", { nullable: true }),
    eventTypes: t.field({ type: [EventTypeEnum], description: "Empty: every type.", resolve: (e) => e.eventTypes as EventType[] }),
    enabled: t.boolean({ resolve: (e) => e.disabledAt === null }),
    disabledAt: t.expose("disabledAt", { type: "DateTime", nullable: true }),
    disabledReason: t.exposeString("disabledReason", { nullable: true }),
    consecutiveFailures: t.exposeInt("consecutiveFailures", { description: "Failed attempts since the last success; the endpoint is disabled at the server's bound." }),
    previousSecretValidUntil: t.field({
      type: "DateTime",
      nullable: true,
      description: "After a rotation: until when deliveries are also signed with the previous secret.",
      resolve: (e) => (e.previousSecretUntil && e.previousSecretUntil > new Date() ? e.previousSecretUntil : null),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

const WebhookEndpointPageRef = pageType("WebhookEndpointPage", WebhookEndpointRef);

const WebhookSecretPayloadRef = builder.objectRef<{ endpoint: WebhookEndpoint; secret: string }>("WebhookEndpointWithSecret").implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (p) => p.endpoint }),
    secret: t.exposeString("secret", { description: "The `whsec_` signing secret: shown now only. Verify deliveries with it (the client's verifyWebhook)." }),
  }),
});

const DeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, { name: "WebhookDeliveryStatus" });

builder.prismaObject("WebhookAttempt", {
  fields: (t) => ({
    id: t.exposeID("id"),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    durationMs: t.exposeInt("durationMs"),
    statusCode: t.exposeInt("statusCode", { nullable: true, description: "Null when no response came." }),
    error: t.exposeString("error", { nullable: true }),
    responseExcerpt: t.exposeString("responseExcerpt", { nullable: true, description: "The start of the response body (at most 2 KB)." }),
  }),
});

const WebhookDeliveryRef = builder.prismaObject("WebhookDelivery", {
  fields: (t) => ({
    id: t.exposeID("id"),
    event: t.relation("event"),
    endpointId: t.exposeID("endpointId"),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    attemptCount: t.exposeInt("attemptCount"),
    nextAttemptAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => (d.status === "PENDING" ? d.nextAttemptAt : null) }),
    lastAttemptAt: t.expose("lastAttemptAt", { type: "DateTime", nullable: true }),
    lastStatusCode: t.exposeInt("lastStatusCode", { nullable: true }),
    lastError: t.exposeString("lastError", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    attempts: t.relation("attempts", { description: "Every attempt, oldest first.", query: { orderBy: { startedAt: "asc" } } }),
  }),
});

const WebhookDeliveryPageRef = pageType("WebhookDeliveryPage", WebhookDeliveryRef);

const ReplayPayloadRef = builder.objectRef<{ queued: number }>("ReplayWebhookEventsPayload").implement({
  fields: (t) => ({ queued: t.exposeInt("queued", { description: "Deliveries queued (events × endpoints)." }) }),
});

const org = (ctx: Parameters<typeof requireOrganization>[0]) => requireOrganization(ctx).organizationId;

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    type: WebhookEndpointPageRef,
    description: "Oldest first. `first` defaults to 50, at most 100.",
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (_, args, ctx) => listWebhookEndpoints(ctx.services, org(ctx), args),
  }),
  webhookEndpoint: t.field({
    type: WebhookEndpointRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => findWebhookEndpoint(ctx.services, org(ctx), String(id)),
  }),
  webhookDeliveries: t.field({
    type: WebhookDeliveryPageRef,
    description: "Deliveries newest first, each with every attempt. `first` defaults to 50, at most 100.",
    args: { endpointId: t.arg.id(), eventId: t.arg.id(), status: t.arg({ type: DeliveryStatusEnum }), first: t.arg.int(), after: t.arg.string() },
    resolve: (_, args, ctx) =>
      listDeliveries(ctx.services, org(ctx), {
        ...args,
        endpointId: args.endpointId == null ? null : String(args.endpointId),
        eventId: args.eventId == null ? null : String(args.eventId),
      }),
  }),
}));

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: WebhookSecretPayloadRef,
    description: "https URLs only (plain http to loopback only where the server allows it). `eventTypes` empty or omitted: every type.",
    args: { url: t.arg.string({ required: true }), eventTypes: t.arg({ type: [EventTypeEnum] }), description: t.arg.string() },
    resolve: (_, args, ctx) => createWebhookEndpoint(ctx.services, org(ctx), args),
  }),
  updateWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    description: "Changes what is given. `enabled: true` re-enables a disabled endpoint (failed deliveries stay failed: replay them).",
    args: {
      id: t.arg.id({ required: true }),
      url: t.arg.string(),
      eventTypes: t.arg({ type: [EventTypeEnum] }),
      description: t.arg.string(),
      enabled: t.arg.boolean(),
    },
    resolve: (_, { id, ...input }, ctx) => updateWebhookEndpoint(ctx.services, org(ctx), String(id), input),
  }),
  disableWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    description: "Stops deliveries to this endpoint; pending ones fail (replay them after enabling it again).",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => updateWebhookEndpoint(ctx.services, org(ctx), String(id), { enabled: false }),
  }),
  rotateWebhookSecret: t.field({
    type: WebhookSecretPayloadRef,
    description: "A new secret, shown once. The previous one still signs deliveries beside it until `previousSecretValidUntil`.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => rotateWebhookSecret(ctx.services, org(ctx), String(id)),
  }),
  deleteWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    description: "Deletes the endpoint with its deliveries' records; returns it as it was.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => deleteWebhookEndpoint(ctx.services, org(ctx), String(id)),
  }),
  replayWebhookEvents: t.field({
    type: ReplayPayloadRef,
    description: "Delivers again one event (`eventId`) or every event in [`from`, `to`), to every enabled endpoint that takes its type, or to `endpointId` only. Same event ids: receivers de-duplicate.",
    args: { eventId: t.arg.id(), from: t.arg({ type: "DateTime" }), to: t.arg({ type: "DateTime" }), endpointId: t.arg.id() },
    resolve: async (_, args, ctx) => ({
      queued: await replayEvents(ctx.services, org(ctx), {
        eventId: args.eventId == null ? null : String(args.eventId),
        from: args.from,
        to: args.to,
        endpointId: args.endpointId == null ? null : String(args.endpointId),
      }),
    }),
  }),
}));
