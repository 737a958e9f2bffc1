// A connection's health check: the request its catalog entry names (`api.healthCheck`, e.g.
// GitHub's `GET /user`, Slack's `POST /auth.test`) sent as the connection through the proxy's
// sendAuthorizedRequest (the credential placed as the catalog says, an OAuth2 token refreshed when
// due), and judged: a 2xx (with `successField` true where the catalog names one) is ACTIVE, 401 or 403
// (or `successField` false) REVOKED, anything else DEGRADED. The status moves in one conditional
// statement with its event, so each transition is reported once, whoever checks.
import type { Connection } from "../generated/prisma/client.js";
import { readCappedBody } from "../egress.js";
import { ServiceError } from "../errors.js";
import { recordEvent } from "../events/record.js";
import { sendAuthorizedRequest } from "../proxy/authorized-request.js";
import type { Services } from "../services.js";

export type HealthStatus = "ACTIVE" | "DEGRADED" | "REVOKED";
export type HealthOutcome = { status: HealthStatus; statusCode: number | null; detail: string };

/** The statuses a health check may move between; NEEDS_REAUTH waits for a re-authorization. */
export const CHECKED_STATUSES: HealthStatus[] = ["ACTIVE", "DEGRADED", "REVOKED"];
const BODY_CAP = 16 * 1024;

async function readJson(body: NodeJS.ReadableStream & { destroy(): void }): Promise<unknown> {
  const { text, truncated } = await readCappedBody(body, BODY_CAP);
  try {
    return truncated ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends the entry's health check as the connection and says what it found; never throws for the provider's answers. */
export async function probeConnection(services: Services, connection: Pick<Connection, "id" | "organizationId" | "integrationSlug">): Promise<HealthOutcome> {
  const check = services.catalog.find(connection.integrationSlug)?.api?.healthCheck;
  if (!check) throw new ServiceError("HEALTH_CHECK_NOT_SUPPORTED", "This connection's integration names no health check in the catalog");
  try {
    const res = await sendAuthorizedRequest(services, connection.organizationId, connection.id, {
      method: check.method,
      path: check.path,
      timeoutMs: services.config.healthChecks.timeoutMs,
    });
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      return { status: "REVOKED", statusCode: res.status, detail: `the provider refused the credentials (HTTP ${res.status})` };
    }
    if (res.status < 200 || res.status >= 300) {
      res.body.resume();
      return { status: "DEGRADED", statusCode: res.status, detail: `the provider answered HTTP ${res.status}` };
    }
    if (check.successField) {
      const json = (await readJson(res.body)) as Record<string, unknown> | undefined;
      if (json?.[check.successField] !== true) {
        const reason = typeof json?.error === "string" ? `: ${json.error.slice(0, 100)}` : "";
        return { status: "REVOKED", statusCode: res.status, detail: `the provider answered ${check.successField}: false${reason}` };
      }
    } else res.body.resume();
    return { status: "ACTIVE", statusCode: res.status, detail: `ok (HTTP ${res.status})` };
  } catch (error) {
    if (!(error instanceof ServiceError) || error.code === "NOT_FOUND" || error.code === "HEALTH_CHECK_NOT_SUPPORTED") throw error;
    // Ours or the network's (unreachable, timeout, a refused refresh): the connection may be fine.
    return { status: error.code === "NEEDS_REAUTH" ? "REVOKED" : "DEGRADED", statusCode: null, detail: `${error.code}: ${error.message}`.slice(0, 300) };
  }
}

/** The next check: one interval on, give or take 10 %, so checks made together drift apart. */
export const nextCheckAt = (intervalMs: number, random = Math.random) => new Date(Date.now() + intervalMs * (0.9 + 0.2 * random()));

/**
 * Records a check: its time and outcome, the next one's time, and the status when it changes, with
 * its event (connection.health_degraded or connection.health_recovered), in one transaction. A
 * connection that needs re-authorization keeps that status; the check is recorded all the same.
 */
export async function recordHealth(services: Services, connectionId: string, outcome: HealthOutcome): Promise<Connection | null> {
  const checked = { lastHealthCheckAt: new Date(), lastHealthCheckStatusCode: outcome.statusCode, lastHealthCheckOutcome: outcome.detail, healthCheckLeaseUntil: null, healthCheckDueAt: nextCheckAt(services.config.healthChecks.intervalMs) };
  return services.prisma.$transaction(async (tx) => {
    const [moved] = await tx.connection.updateManyAndReturn({
      where: { id: connectionId, status: { in: CHECKED_STATUSES.filter((s) => s !== outcome.status) } },
      data: { ...checked, status: outcome.status, statusReason: outcome.status === "ACTIVE" ? null : outcome.detail },
    });
    if (moved) {
      await recordEvent(tx, {
        type: outcome.status === "ACTIVE" ? "connection.health_recovered" : "connection.health_degraded",
        organizationId: moved.organizationId,
        endUserId: moved.endUserId,
        integrationSlug: moved.integrationSlug,
        connectionId: moved.id,
        data: { status: outcome.status, statusCode: outcome.statusCode, detail: outcome.detail },
      });
      return moved;
    }
    const [same] = await tx.connection.updateManyAndReturn({ where: { id: connectionId }, data: checked });
    return same ?? null;
  });
}

/** `checkConnection(id)`: checks now, for the caller's organization; the connection as it stands after. */
export async function checkConnection(services: Services, organizationId: string, connection: Connection): Promise<Connection> {
  const outcome = await probeConnection(services, connection);
  const after = await recordHealth(services, connection.id, outcome);
  if (!after) throw new ServiceError("NOT_FOUND", "Connection not found");
  services.logger.info({ organizationId, connectionId: connection.id, status: after.status, statusCode: outcome.statusCode }, "connection health checked");
  return after;
}
