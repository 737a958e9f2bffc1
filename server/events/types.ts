// The event types a customer backend can receive: one name per fact, dotted on the wire
// (`connection.created`) and as an enum in GraphQL (`CONNECTION_CREATED`).

export const EVENT_TYPES = [
  "connection.created",
  "connection.reconnected",
  "connection.deleted",
  "connection.needs_reauth",
  "connection.refresh_failed",
  "connection.health_degraded",
  "connection.health_recovered",
  "session.failed",
  "session.cancelled",
  "session.expired",
  "webhook_endpoint.disabled",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_TYPE_DESCRIPTIONS: Record<EventType, string> = {
  "connection.created": "An end user finished a hosted connection session: a new connection exists.",
  "connection.reconnected": "An existing connection was re-authorized in place (same id, new credentials).",
  "connection.deleted": "A connection was deleted (its token revoked at the provider where possible).",
  "connection.needs_reauth": "The provider refused the refresh token: the connection needs a re-authorization session.",
  "connection.refresh_failed": "A token refresh failed for another reason (the provider erred or was unreachable); it is retried.",
  "connection.health_degraded": "The connection's health check failed: DEGRADED (the provider erred) or REVOKED (credentials refused).",
  "connection.health_recovered": "The connection's health check passes again after a failure.",
  "session.failed": "A hosted connection session ended without a connection because the flow failed.",
  "session.cancelled": "The end user closed or cancelled the hosted connection session.",
  "session.expired": "A hosted connection session expired before its flow finished.",
  "webhook_endpoint.disabled": "A webhook endpoint was disabled after too many consecutive failed deliveries.",
};

/** `connection.created` → `CONNECTION_CREATED`, the GraphQL enum value. */
export const enumNameOf = (type: EventType) => type.toUpperCase().replace(/\./g, "_");
