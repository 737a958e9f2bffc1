// A customer's webhook endpoints: create (the `whsec_` secret is shown then, and on rotation,
// only), list, read, update, disable, rotate the secret, delete. Secrets are kept sealed by the
// vault, bound to their endpoint. Every query carries the caller's organization.
import { randomUUID } from "node:crypto";
import type { Prisma, WebhookEndpoint } from "../generated/prisma/client.js";
import { isUuid } from "../connections/connections.js";
import { checkDestination, DestinationBlocked } from "../egress.js";
import { badInput, notFound } from "../errors.js";
import { EVENT_TYPES, type EventType } from "../events/types.js";
import { checkPageSize, pageOf, timeOrderedCursors, type Page } from "../paging.js";
import type { Services } from "../services.js";
import type { Vault } from "../vault.js";
import { newWebhookSecret } from "./signing.js";

export const MAX_ENDPOINTS_PER_ORGANIZATION = 50;
const MAX_URL_LENGTH = 2_000;
const MAX_DESCRIPTION_LENGTH = 500;

export type EndpointInput = { url?: string | null; eventTypes?: EventType[] | null; description?: string | null };

/** What a webhook secret's ciphertext is bound to: its endpoint (the current and the previous secret alike). */
export const webhookSecretBinding = (e: Pick<WebhookEndpoint, "organizationId" | "id">) => ({ purpose: "webhook-secret" as const, organizationId: e.organizationId, rowId: e.id });
const binding = webhookSecretBinding;

/** The secrets that sign deliveries now: the current one, and the previous one while it is still valid. */
export function signingSecrets(vault: Vault, endpoint: WebhookEndpoint, now = new Date()): string[] {
  const current = vault.open<string>({ ciphertext: endpoint.secretEnc, keyId: endpoint.secretKeyId }, binding(endpoint));
  const previousValid = endpoint.previousSecretEnc && endpoint.previousSecretKeyId && endpoint.previousSecretUntil && endpoint.previousSecretUntil > now;
  if (!previousValid) return [current];
  return [current, vault.open<string>({ ciphertext: endpoint.previousSecretEnc!, keyId: endpoint.previousSecretKeyId! }, binding(endpoint))];
}

/** A URL we may deliver to, as far as the URL alone tells (its address is checked again at each attempt). */
function checkUrl(services: Services, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput("Invalid webhook URL", [{ field: "url", message: "not an absolute URL" }]);
  }
  if (raw.length > MAX_URL_LENGTH) throw badInput("Invalid webhook URL", [{ field: "url", message: `at most ${MAX_URL_LENGTH} characters` }]);
  try {
    checkDestination(url, services.egress);
  } catch (e) {
    if (e instanceof DestinationBlocked) throw badInput("This webhook URL cannot be used", [{ field: "url", message: e.message }]);
    throw e;
  }
  url.hash = "";
  return url.toString();
}

function checkEventTypes(types: readonly string[]): EventType[] {
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length) throw badInput("Unknown event types", [{ field: "eventTypes", message: unknown.join(", ") }]);
  return [...new Set(types as EventType[])];
}

function checkDescription(text: string | null | undefined): string | null {
  const d = text?.trim() || null;
  if (d && (d.length > MAX_DESCRIPTION_LENGTH || /[\u0000-\u001f\u007f]/.test(d))) {
    throw badInput("Invalid description", [{ field: "description", message: `at most ${MAX_DESCRIPTION_LENGTH} printable characters` }]);
  }
  return d;
}

export async function createWebhookEndpoint(
  services: Services,
  organizationId: string,
  input: { url: string; eventTypes?: EventType[] | null; description?: string | null },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = checkUrl(services, input.url);
  const eventTypes = checkEventTypes(input.eventTypes ?? []);
  const description = checkDescription(input.description);
  const count = await services.prisma.webhookEndpoint.count({ where: { organizationId } });
  if (count >= MAX_ENDPOINTS_PER_ORGANIZATION) throw badInput(`At most ${MAX_ENDPOINTS_PER_ORGANIZATION} webhook endpoints per organization`);
  const id = randomUUID();
  const secret = newWebhookSecret();
  const sealed = services.vault.seal(secret, binding({ organizationId, id }));
  const endpoint = await services.prisma.webhookEndpoint.create({
    data: { id, organizationId, url, eventTypes, description, secretEnc: sealed.ciphertext, secretKeyId: sealed.keyId },
  });
  services.logger.info({ organizationId, webhookEndpointId: id }, "webhook endpoint created");
  return { endpoint, secret };
}

export async function findWebhookEndpoint(services: Services, organizationId: string, id: string): Promise<WebhookEndpoint | null> {
  if (!isUuid(id)) return null;
  return services.prisma.webhookEndpoint.findFirst({ where: { id, organizationId } });
}

async function requireEndpoint(services: Services, organizationId: string, id: string): Promise<WebhookEndpoint> {
  const endpoint = await findWebhookEndpoint(services, organizationId, id);
  if (!endpoint) throw notFound("Webhook endpoint");
  return endpoint;
}

const cursors = timeOrderedCursors("webhook-endpoint");

/** Oldest first: a short list a settings page shows in the order endpoints were added. */
export async function listWebhookEndpoints(services: Services, organizationId: string, args: { first?: number | null; after?: string | null }): Promise<Page<WebhookEndpoint>> {
  const size = checkPageSize(args.first);
  const where: Prisma.WebhookEndpointWhereInput = { organizationId };
  const after = args.after ? cursors.after(cursors.decode(args.after), "asc") : undefined;
  const [rows, totalCount] = await Promise.all([
    services.prisma.webhookEndpoint.findMany({ where: after ? { AND: [where, after] } : where, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: size + 1 }),
    services.prisma.webhookEndpoint.count({ where }),
  ]);
  return pageOf(rows, size, totalCount, cursors.encode);
}

/**
 * Changes the URL, event types, description, or enables/disables. Enabling clears the failure
 * count; deliveries that failed meanwhile stay failed (replay them).
 */
export async function updateWebhookEndpoint(
  services: Services,
  organizationId: string,
  id: string,
  input: EndpointInput & { enabled?: boolean | null },
): Promise<WebhookEndpoint> {
  const existing = await requireEndpoint(services, organizationId, id);
  const data: Prisma.WebhookEndpointUpdateInput = {};
  if (input.url != null) data.url = checkUrl(services, input.url);
  if (input.eventTypes != null) data.eventTypes = checkEventTypes(input.eventTypes);
  if (input.description !== undefined) data.description = checkDescription(input.description);
  if (input.enabled === true && existing.disabledAt) Object.assign(data, { disabledAt: null, disabledReason: null, consecutiveFailures: 0 });
  if (input.enabled === false && !existing.disabledAt) return disableEndpoint(services, existing, "disabled by a call", data);
  return services.prisma.webhookEndpoint.update({ where: { id: existing.id }, data });
}

/** Disabled by a call: nothing more is sent to it; its pending deliveries fail now, for replay later. */
function disableEndpoint(services: Services, endpoint: WebhookEndpoint, reason: string, also: Prisma.WebhookEndpointUpdateInput): Promise<WebhookEndpoint> {
  return services.prisma.$transaction((tx) => markDisabled(tx, endpoint.id, reason, also));
}

type Tx = Pick<Prisma.TransactionClient, "webhookEndpoint" | "webhookDelivery">;

/** In the caller's transaction: the endpoint disabled, and its pending deliveries failed. */
export async function markDisabled(tx: Tx, endpointId: string, reason: string, also: Prisma.WebhookEndpointUpdateInput = {}): Promise<WebhookEndpoint> {
  const updated = await tx.webhookEndpoint.update({ where: { id: endpointId }, data: { ...also, disabledAt: new Date(), disabledReason: reason } });
  await tx.webhookDelivery.updateMany({
    where: { endpointId, status: "PENDING" },
    data: { status: "FAILED", lastError: `endpoint disabled: ${reason}` },
  });
  return updated;
}

/**
 * A new secret, returned once. The old one keeps signing beside it (two `v1,` signatures) for the
 * configured overlap, so receivers can switch without dropping a message.
 */
export async function rotateWebhookSecret(services: Services, organizationId: string, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const existing = await requireEndpoint(services, organizationId, id);
  const secret = newWebhookSecret();
  const sealed = services.vault.seal(secret, binding(existing));
  const until = new Date(Date.now() + services.config.webhooks.previousSecretValidMs);
  const endpoint = await services.prisma.webhookEndpoint.update({
    where: { id: existing.id },
    data: {
      secretEnc: sealed.ciphertext,
      secretKeyId: sealed.keyId,
      previousSecretEnc: existing.secretEnc,
      previousSecretKeyId: existing.secretKeyId,
      previousSecretUntil: until,
    },
  });
  services.logger.info({ organizationId, webhookEndpointId: id }, "webhook secret rotated");
  return { endpoint, secret };
}

/** Deletes the endpoint with its deliveries and their attempts. */
export async function deleteWebhookEndpoint(services: Services, organizationId: string, id: string): Promise<WebhookEndpoint> {
  const existing = await requireEndpoint(services, organizationId, id);
  const { count } = await services.prisma.webhookEndpoint.deleteMany({ where: { id: existing.id, organizationId } });
  if (count === 0) throw notFound("Webhook endpoint");
  return existing;
}
