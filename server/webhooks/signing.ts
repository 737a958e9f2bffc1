// Standard Webhooks signatures (https://www.standardwebhooks.com): `whsec_` + base64 secrets, and
// `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per valid secret,
// space-separated, so a receiver that knows either secret accepts the message during a rotation.
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";
/** 32 bytes: the specification asks for 24 to 64. */
const SECRET_BYTES = 32;

export const newWebhookSecret = () => PREFIX + randomBytes(SECRET_BYTES).toString("base64");

export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** The three headers of one delivery attempt, signed with every secret given (newest first). */
export function webhookHeaders(secrets: string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((s) => signature(s, id, timestamp, body)).join(" "),
  };
}
