// Connection health checks, for the customer backend (API key): the last check's outcome on a
// connection, and `checkConnection` to check one now.
import type { Connection } from "../generated/prisma/client.js";
import { findConnection } from "../connections/connections.js";
import { notFound } from "../errors.js";
import { checkConnection } from "../health/check.js";
import { builder } from "./builder.js";
import { requireOrganization } from "./context.js";

const HealthCheckRef = builder.objectRef<Pick<Connection, "lastHealthCheckAt" | "lastHealthCheckStatusCode" | "lastHealthCheckOutcome">>("ConnectionHealthCheck").implement({
  fields: (t) => ({
    checkedAt: t.field({ type: "DateTime", resolve: (c) => c.lastHealthCheckAt! }),
    statusCode: t.exposeInt("lastHealthCheckStatusCode", { nullable: true, description: "The provider's HTTP status; null when no answer came." }),
    outcome: t.exposeString("lastHealthCheckOutcome", { nullable: true, description: "What the check found, e.g. `ok (HTTP 200)` or `the provider refused the credentials (HTTP 401)`." }),
  }),
});

builder.prismaObjectField("Connection", "lastHealthCheck", (t) =>
  t.field({
    type: HealthCheckRef,
    nullable: true,
    description: "The last health check, scheduled or on demand; null until the first.",
    resolve: (c) => (c.lastHealthCheckAt ? c : null),
  }),
);

builder.mutationFields((t) => ({
  checkConnection: t.prismaField({
    type: "Connection",
    description:
      "Runs the connection's health check now (the catalog's cheap authenticated request) and returns the connection with its status (ACTIVE, DEGRADED, REVOKED) and lastHealthCheck. HEALTH_CHECK_NOT_SUPPORTED when its integration names none.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_query, _, { id }, ctx) => {
      const organizationId = requireOrganization(ctx).organizationId;
      const connection = await findConnection(ctx.services, organizationId, String(id));
      if (!connection) throw notFound("Connection");
      return checkConnection(ctx.services, organizationId, connection);
    },
  }),
}));
