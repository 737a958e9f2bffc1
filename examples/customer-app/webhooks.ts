// Receiving One Runtime's webhooks: the raw body checked with verifyWebhook (Standard Webhooks
// signature + timestamp tolerance) before anything else is read, each event id handled once
// (deliveries are at least once), 2xx as soon as it is recorded. A real app would queue the work
// and keep the seen ids in its database; this one keeps the latest in memory for the page.
import type { IncomingMessage, ServerResponse } from "node:http";
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from "@one-runtime/client";

export const WEBHOOK_PATH = "/webhooks/one-runtime";
const MAX_BODY_BYTES = 256 * 1024;
const KEPT = 200;

export type WebhookInbox = {
  /** Handles POST WEBHOOK_PATH; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** When each event id arrived, newest last. */
  received(): Map<string, { type: string; at: string }>;
};

/** `secret()`: the endpoint's current secret(s); read per request, so a rotation needs no restart. */
export function createWebhookInbox(secret: () => string | string[] | undefined): WebhookInbox {
  const seen = new Map<string, { type: string; at: string }>();
  const remember = (event: WebhookEvent) => {
    seen.set(event.id, { type: event.type, at: new Date().toISOString() });
    if (seen.size > KEPT) seen.delete(seen.keys().next().value!);
  };
  return {
    received: () => seen,
    async handle(req, res, url) {
      if (url.pathname !== WEBHOOK_PATH || req.method !== "POST") return false;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          res.writeHead(413).end();
          return true;
        }
        chunks.push(chunk);
      }
      const current = secret();
      if (!current) {
        res.writeHead(503).end(); // not set up yet: One Runtime retries later
        return true;
      }
      try {
        const event = await verifyWebhook({ headers: req.headers, body: Buffer.concat(chunks), secret: current });
        // A repeat (a retry whose first answer got lost, a replay) was handled already.
        if (!seen.has(event.id)) remember(event);
        res.writeHead(204).end();
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        res.writeHead(400, { "content-type": "text/plain" }).end("invalid signature");
      }
      return true;
    },
  };
}
