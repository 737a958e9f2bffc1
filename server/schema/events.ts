// The event log for customer backends (API key): `events` pages it newest first, the `events`
// subscription streams what commits from now on.
import type { Event } from "../generated/prisma/client.js";
import { findEvent, listEvents } from "../events/log.js";
import { watchEvents } from "../events/feed.js";
import { EVENT_TYPES, EVENT_TYPE_DESCRIPTIONS, enumNameOf, type EventType } from "../events/types.js";
import { builder } from "./builder.js";
import { requireOrganization } from "./context.js";
import { pageType } from "./paging.js";

export const EventTypeEnum = builder.enumType("EventType", {
  description: "What an event reports. On the wire (webhook payloads) the same names are dotted and lower case: `connection.created`.",
  values: Object.fromEntries(EVENT_TYPES.map((t) => [enumNameOf(t), { value: t, description: EVENT_TYPE_DESCRIPTIONS[t] }])) as Record<
    string,
    { value: EventType; description: string }
  >,
});

export const EventRef = builder.prismaObject("Event", {
  description: "A fact about a connection or a session, recorded with the change it reports. Holds no secret.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable: the `webhook-id` of every delivery of this event, for de-duplication." }),
    type: t.field({ type: EventTypeEnum, resolve: (e) => e.type as EventType }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    endUserId: t.exposeString("endUserId", { nullable: true }),
    integrationSlug: t.exposeString("integrationSlug", { nullable: true }),
    connectionId: t.exposeID("connectionId", { nullable: true }),
    sessionId: t.exposeID("sessionId", { nullable: true }),
    data: t.expose("data", { type: "JSON", description: "Details of this type of event (e.g. a reason)." }),
  }),
});

const EventPageRef = pageType("EventPage", EventRef);

builder.queryFields((t) => ({
  events: t.field({
    type: EventPageRef,
    description: "The organization's event log, newest first. `first` defaults to 50, at most 100.",
    args: { first: t.arg.int(), after: t.arg.string(), type: t.arg({ type: EventTypeEnum }), connectionId: t.arg.id() },
    resolve: (_, args, ctx) =>
      listEvents(ctx.services, requireOrganization(ctx).organizationId, { ...args, connectionId: args.connectionId == null ? null : String(args.connectionId) }),
  }),
  event: t.field({
    type: EventRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => findEvent(ctx.services, requireOrganization(ctx).organizationId, String(id)),
  }),
}));

builder.subscriptionFields((t) => ({
  events: t.field({
    type: EventRef,
    description: "Every event committed from now on, oldest first, for a backend (API key). Missed some? Page `events` from the last id you saw.",
    args: { type: t.arg({ type: EventTypeEnum }), connectionId: t.arg.id() },
    subscribe: (_, args, ctx) =>
      watchEvents(ctx.services, requireOrganization(ctx).organizationId, { type: args.type, connectionId: args.connectionId == null ? null : String(args.connectionId) }),
    resolve: (e: Event) => e,
  }),
}));
