// The delivery queue's claims, driven directly against the store while the server's own worker
// sleeps (a long poll, and rows made due without a doorbell): concurrent claims never share a row,
// a claimed row is leased until its attempt is recorded or the lease runs out, and an attempt
// from a claim that lost its lease cannot overwrite the newer claim's row, nor a success a replay
// that came during its attempt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimDueDeliveries, recordAttempt, replayEvents } from "../server/webhooks/queue.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let ids: string[] = [];
let organizationId: string;
const OK = { statusCode: 200, durationMs: 5, error: null, responseExcerpt: "", retryAfterMs: null };

beforeAll(async () => {
  server = await startTestServer({ env: { ONE_RUNTIME_WEBHOOK_POLL_MS: "300000", ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true" } });
  const org = await server.createOrganization("Queue org");
  organizationId = org.organizationId;
  for (let i = 0; i < 6; i++) {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: `q${i}` });
    await server.gql(`mutation { completeHostedConnectionSession(input: {}) { status } }`, {}, { token: sessionToken });
  }
  // The endpoint comes after the events: no delivery was queued, and none rang a doorbell.
  const created = await server.gql(`mutation { createWebhookEndpoint(url: "http://127.0.0.1:9/never") { endpoint { id } } }`, {}, { token: org.apiKey });
  const endpointId = created.data.createWebhookEndpoint.endpoint.id;
  const events = await server.services.prisma.event.findMany({ where: { organizationId: org.organizationId } });
  const later = new Date(Date.now() + 3600_000);
  await server.services.prisma.webhookDelivery.createMany({
    data: events.map((e) => ({ organizationId: org.organizationId, eventId: e.id, endpointId, nextAttemptAt: later })),
  });
  ids = (await server.services.prisma.webhookDelivery.findMany({ where: { endpointId }, select: { id: true } })).map((d) => d.id).sort();
});
afterAll(() => server?.stop());

describe("the delivery queue", () => {
  it("claims each due row once across concurrent claimers, leases it, and lets it go when the lease runs out", async () => {
    const prisma = server.services.prisma;
    expect(await claimDueDeliveries(server.services, 10)).toEqual([]); // not due yet
    await prisma.webhookDelivery.updateMany({ where: { id: { in: ids } }, data: { nextAttemptAt: new Date(Date.now() - 1000) } });

    const [a, b] = await Promise.all([claimDueDeliveries(server.services, 4), claimDueDeliveries(server.services, 4)]);
    const claimed = [...a, ...b].map((c) => c.id);
    expect(claimed.sort()).toEqual(ids);
    expect(new Set(claimed).size).toBe(ids.length);
    expect([...a, ...b].every((c) => c.attemptCount === 1)).toBe(true);
    expect(await claimDueDeliveries(server.services, 10)).toEqual([]); // leased

    // The instance holding one row died: once its lease is over, the row is claimed again.
    const [stale] = a;
    await prisma.webhookDelivery.update({ where: { id: stale!.id }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    const again = await claimDueDeliveries(server.services, 10);
    expect(again).toEqual([{ id: stale!.id, attemptCount: 2, replayCount: 0 }]);

    // The dead claim's late answer is recorded as an attempt but moves nothing.
    const row = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: stale!.id } });
    await recordAttempt(server.services, row, { attemptCount: 1, replayCount: 0 }, new Date(), OK);
    const after = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: stale!.id } });
    expect(after.status).toBe("PENDING");
    expect(after.lockedUntil).not.toBeNull();
    await recordAttempt(server.services, row, again[0]!, new Date(), OK);
    expect((await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: stale!.id } })).status).toBe("SUCCEEDED");
    expect(await prisma.webhookAttempt.count({ where: { deliveryId: stale!.id } })).toBe(2);
  });

  it("a replay that comes while an attempt is in flight is not swallowed by that attempt's success", async () => {
    const prisma = server.services.prisma;
    const id = ids.at(-1)!;
    await prisma.webhookDelivery.update({ where: { id }, data: { status: "PENDING", nextAttemptAt: new Date(Date.now() - 1000), lockedUntil: null } });
    const [claim] = await claimDueDeliveries(server.services, 1);
    expect(claim!.id).toBe(id);
    const row = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });
    const event = await prisma.event.findUniqueOrThrow({ where: { id: row.eventId } });
    await replayEvents(server.services, organizationId, { eventId: event.id });
    await recordAttempt(server.services, row, claim!, new Date(), OK);
    // Still due (the replay's doorbell may have woken the server's worker, which may claim it now).
    expect(await prisma.webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "PENDING", replayCount: 1 });
  });
});
