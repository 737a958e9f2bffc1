// The client's verifyWebhook against messages signed by an independent implementation of the
// Standard Webhooks specification (the `standardwebhooks` package): accepts what it signs, and
// refuses altered bodies, other secrets, missing headers and timestamps outside the tolerance.
import { verifyWebhook, WebhookVerificationError } from "@one-runtime/client";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";

const secret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
const otherSecret = `whsec_${Buffer.alloc(32, 2).toString("base64")}`;
const body = JSON.stringify({ id: "3f0c6d2e-0000-4000-8000-000000000001", type: "connection.created", timestamp: "2026-11-27T12:00:00.000Z", data: { connectionId: "c1" } });

function signed(at: Date, withSecret = secret) {
  const id = "3f0c6d2e-0000-4000-8000-000000000001";
  const signature = new Webhook(withSecret).sign(id, at, body);
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signature };
}

describe("verifyWebhook", () => {
  it("accepts a message the reference implementation signed, from a Headers object or Node's headers, body as text or bytes", async () => {
    const headers = signed(new Date());
    expect((await verifyWebhook({ headers, body, secret })).type).toBe("connection.created");
    expect((await verifyWebhook({ headers: new Headers(headers), body: new TextEncoder().encode(body), secret })).data.connectionId).toBe("c1");
  });

  it("accepts any of several secrets (a rotation) and several signatures", async () => {
    const a = signed(new Date(), otherSecret);
    expect((await verifyWebhook({ headers: a, body, secret: [secret, otherSecret] })).id).toBe(a["webhook-id"]);
    const both = { ...a, "webhook-signature": `${signed(new Date())["webhook-signature"]} ${a["webhook-signature"]}` };
    await expect(verifyWebhook({ headers: both, body, secret })).resolves.toBeTruthy();
  });

  it("refuses an altered body, another secret, a missing header and a timestamp outside the tolerance", async () => {
    const headers = signed(new Date());
    await expect(verifyWebhook({ headers, body: body.replace("c1", "c2"), secret })).rejects.toThrow(WebhookVerificationError);
    await expect(verifyWebhook({ headers, body, secret: otherSecret })).rejects.toThrow(/No webhook signature matches/);
    await expect(verifyWebhook({ headers: { ...headers, "webhook-signature": undefined }, body, secret })).rejects.toThrow(/Missing/);
    const old = signed(new Date(Date.now() - 10 * 60_000));
    await expect(verifyWebhook({ headers: old, body, secret })).rejects.toThrow(/tolerance/);
    await expect(verifyWebhook({ headers: old, body, secret, toleranceSeconds: 3600 })).resolves.toBeTruthy();
    const future = signed(new Date(Date.now() + 10 * 60_000));
    await expect(verifyWebhook({ headers: future, body, secret })).rejects.toThrow(/tolerance/);
  });
});
