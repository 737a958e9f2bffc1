// Checking a webhook from One Runtime on your backend, per the Standard Webhooks specification:
// the HMAC-SHA256 signature over `<webhook-id>.<webhook-timestamp>.<raw body>` with your endpoint's
// `whsec_` secret, and a timestamp within the tolerance (a replayed old message is refused).
// Web Crypto only, so it runs wherever the client does (and edge runtimes) without Node's types.
import type { EventType } from "./generated/sdk.js";

/** The payload of every webhook: `type` is the event type, dotted (`connection.created`). */
export type WebhookEvent = {
  /** The event id, also the `webhook-id` header: the same on retries and replays, so de-duplicate on it. */
  id: string;
  type: WebhookEventType;
  /** When the event happened (ISO-8601). */
  timestamp: string;
  data: {
    organizationId: string;
    endUserId: string | null;
    integrationSlug: string | null;
    connectionId: string | null;
    sessionId: string | null;
    [detail: string]: unknown;
  };
};

/** `CONNECTION_CREATED` → `connection.created`. */
type Dotted<T extends string> = T extends `WEBHOOK_ENDPOINT_${infer Rest}` ? `webhook_endpoint.${Lowercase<Rest>}` : T extends `${infer Domain}_${infer Rest}` ? `${Lowercase<Domain>}.${Lowercase<Rest>}` : never;
export type WebhookEventType = Dotted<`${EventType}`>;

export type VerifyWebhookInput = {
  /** The request's headers: a `Headers` object or Node's `req.headers`. */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received (not re-serialized JSON). */
  body: string | Uint8Array;
  /** Your endpoint's `whsec_` secret; during a rotation, either secret (or both, as a list). */
  secret: string | string[];
  /** How far the timestamp may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The clock, for tests. */
  now?: Date;
};

/** The webhook is not one to trust: unsigned, wrongly signed, or outside the time tolerance. */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

function header(headers: VerifyWebhookInput["headers"], name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

const fromBase64 = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function hmacKey(secret: string): Promise<CryptoKey> {
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  } catch {
    throw new WebhookVerificationError("The webhook secret is not a whsec_ secret");
  }
  if (!raw.length) throw new WebhookVerificationError("The webhook secret is empty");
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

/**
 * Verifies a delivery and resolves to its parsed payload; rejects with WebhookVerificationError
 * otherwise. Signatures are compared by Web Crypto's `verify` (constant time).
 */
export async function verifyWebhook(input: VerifyWebhookInput): Promise<WebhookEvent> {
  const id = header(input.headers, "webhook-id");
  const timestamp = header(input.headers, "webhook-timestamp");
  const signatures = header(input.headers, "webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header");
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError("Invalid webhook-timestamp");
  const tolerance = input.toleranceSeconds ?? 300;
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(timestamp)) > tolerance) throw new WebhookVerificationError("The webhook's timestamp is outside the tolerance");

  const body = typeof input.body === "string" ? input.body : new TextDecoder().decode(input.body);
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  const keys = await Promise.all((Array.isArray(input.secret) ? input.secret : [input.secret]).map(hmacKey));
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",");
    if (version !== "v1" || !value) continue;
    let given: Uint8Array<ArrayBuffer>;
    try {
      given = fromBase64(value);
    } catch {
      continue;
    }
    for (const key of keys) if (await crypto.subtle.verify("HMAC", key, given, signed)) return JSON.parse(body) as WebhookEvent;
  }
  throw new WebhookVerificationError("No webhook signature matches the secret");
}
