// Everything a request handler may use, built once at start-up (server/app.ts) and passed down.
import type { Config } from "./config.js";
import type { Catalog } from "./catalog/catalog.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import type { EgressPolicy } from "./egress.js";
import type { Logger } from "./logger.js";
import type { EventNotices } from "./events/notices.js";
import type { ApiKeyVerifier } from "./organizations/api-key-verifier.js";
import type { SessionEvents } from "./pubsub.js";
import type { RateLimits } from "./rate-limits.js";
import type { Vault } from "./vault.js";
import type { WatcherSlots } from "./watcher-slots.js";
import type { StoreKind } from "./db/store.js";

export type Services = {
  config: Config;
  /** Where browsers and providers reach us, without a trailing slash. */
  publicUrl: () => string;
  prisma: PrismaClient;
  storeKind: StoreKind;
  catalog: Catalog;
  vault: Vault;
  events: SessionEvents;
  /** "New events for organization X", from any instance (connection and session events, webhooks). */
  eventNotices: EventNotices;
  /** API keys to organizations, cached for `config.apiKeyCacheMs` (revocations reach every instance at once). */
  apiKeys: ApiKeyVerifier;
  /** The per-session cap on subscriptions, across instances when Redis is configured. */
  watcherSlots: WatcherSlots;
  /** Request budgets per API key, session token and anonymous address (server/yoga.ts spends them). */
  rateLimits: RateLimits;
  logger: Logger;
  /** The outbound guard's policy for customer- and catalog-named destinations (the proxy). */
  egress: EgressPolicy;
};
