// API key verification with a bounded in-memory cache: a backend on its hot path presents the
// same key thousands of times a second, and its organization rarely changes. A verified key is
// trusted for at most `ttlMs`; a revocation takes effect at once on the instance that made it
// and, through the event bus (Redis when configured), at once on the others; should that notice
// be lost, within `ttlMs`. Unknown keys are never cached: each costs a lookup (and the caller's
// anonymous budget).
import { LRUCache } from "lru-cache";
import { sha256Hex } from "../crypto-tokens.js";
import { ServiceError } from "../errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { SessionEvents } from "../pubsub.js";
import { lookupApiKey, stampLastUsed, type AuthenticatedOrganization, API_KEY_PATTERN } from "./api-keys.js";

/** Keys kept per instance: far more than the active keys of every organization on one instance. */
const MAX_CACHED_KEYS = 10_000;

type Verified = AuthenticatedOrganization & { revoked: boolean; lastUsedAt: number };

export type ApiKeyVerifier = {
  /** The organization a presented key belongs to, or UNAUTHENTICATED (the reason stays vague on purpose). */
  verify(key: string): Promise<AuthenticatedOrganization>;
  /** Drops this key id's cached verification here and tells the other instances to do the same. */
  revoked(apiKeyId: string): void;
  close(): void;
};

export function createApiKeyVerifier(prisma: PrismaClient, events: SessionEvents, opts: { ttlMs: number }): ApiKeyVerifier {
  const load = async (hash: string): Promise<Verified | undefined> => {
    const row = await lookupApiKey(prisma, hash);
    // Unknown: nothing is cached (`undefined`), so a key created a moment later works at once.
    return row ? { ...row, revoked: row.revokedAt !== null, lastUsedAt: row.lastUsedAt?.getTime() ?? 0 } : undefined;
  };
  const cache = new LRUCache<string, Verified>({
    max: MAX_CACHED_KEYS,
    ttl: Math.max(opts.ttlMs, 1),
    // One lookup for a burst of requests presenting the same uncached key, not one per request.
    fetchMethod: load,
  });
  const forget = (apiKeyId: string) => {
    for (const [hash, v] of cache.entries()) if (v.apiKeyId === apiKeyId) cache.delete(hash);
  };
  const stopListening = events.onApiKeyRevoked(forget);

  return {
    async verify(key) {
      if (!API_KEY_PATTERN.test(key)) throw new ServiceError("UNAUTHENTICATED", "Malformed API key");
      const hash = sha256Hex(key);
      const verified = opts.ttlMs > 0 ? await cache.fetch(hash) : await load(hash);
      if (!verified) throw new ServiceError("UNAUTHENTICATED", "Unknown API key");
      if (verified.revoked) throw new ServiceError("UNAUTHENTICATED", "This API key has been revoked");
      const now = Date.now();
      if (stampLastUsed(prisma, verified.apiKeyId, verified.lastUsedAt, now)) verified.lastUsedAt = now;
      const { organizationId, organizationName, apiKeyId, environment } = verified;
      return { organizationId, organizationName, apiKeyId, environment };
    },
    revoked(apiKeyId) {
      forget(apiKeyId);
      events.publishApiKeyRevoked(apiKeyId);
    },
    close: stopListening,
  };
}
