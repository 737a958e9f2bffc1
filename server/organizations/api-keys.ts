// API keys: `ort_live_…` / `ort_test_…`, shown once, stored only as a SHA-256 hash with a short
// visible prefix, revocable, with a throttled last-used stamp.
import type { PrismaClient } from "../generated/prisma/client.js";
import type { ApiKeyEnvironment } from "../generated/prisma/enums.js";
import { notFound } from "../errors.js";
import { randomSecret, sha256Hex } from "../crypto-tokens.js";

export const API_KEY_PATTERN = /^ort_(live|test)_[A-Za-z0-9_-]{43}$/;
const VISIBLE_PREFIX_LENGTH = 14; // "ort_live_" and five random characters: tells keys apart, useless alone
const LAST_USED_RESOLUTION_MS = 60_000; // one write a minute per key at most, not one per request
/** Key id → when this process last wrote its lastUsedAt stamp. */
const stampsInFlight = new Map<string, number>();

export type ApiKeyView = {
  id: string;
  organizationId: string;
  name: string;
  environment: ApiKeyEnvironment;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

const viewSelect = { id: true, organizationId: true, name: true, environment: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true } as const;

export async function createApiKey(
  prisma: PrismaClient,
  input: { organizationId: string; name?: string | undefined; environment?: ApiKeyEnvironment | undefined },
): Promise<{ apiKey: ApiKeyView; key: string }> {
  const environment = input.environment ?? "LIVE";
  const key = `ort_${environment === "LIVE" ? "live" : "test"}_${randomSecret(32)}`;
  const org = await prisma.organization.findUnique({ where: { id: input.organizationId }, select: { id: true } });
  if (!org) throw notFound("Organization");
  const apiKey = await prisma.apiKey.create({
    data: {
      organizationId: org.id,
      name: (input.name ?? "default").slice(0, 100),
      environment,
      prefix: key.slice(0, VISIBLE_PREFIX_LENGTH),
      hash: sha256Hex(key),
    },
    select: viewSelect,
  });
  return { apiKey, key };
}

export function listApiKeys(prisma: PrismaClient, organizationId: string): Promise<ApiKeyView[]> {
  return prisma.apiKey.findMany({ where: { organizationId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: viewSelect });
}

export async function revokeApiKey(prisma: PrismaClient, input: { organizationId?: string | undefined; id: string }): Promise<ApiKeyView> {
  const existing = await prisma.apiKey.findFirst({
    where: { id: input.id, ...(input.organizationId ? { organizationId: input.organizationId } : {}) },
    select: viewSelect,
  });
  if (!existing) throw notFound("API key");
  if (existing.revokedAt) return existing;
  return prisma.apiKey.update({ where: { id: existing.id }, data: { revokedAt: new Date() }, select: viewSelect });
}

export type AuthenticatedOrganization = { organizationId: string; organizationName: string; apiKeyId: string; environment: ApiKeyEnvironment };

/** The key with this hash, revoked or not; null when there is none. */
export async function lookupApiKey(
  prisma: PrismaClient,
  hash: string,
): Promise<(AuthenticatedOrganization & { revokedAt: Date | null; lastUsedAt: Date | null }) | null> {
  const row = await prisma.apiKey.findUnique({
    where: { hash },
    select: { id: true, revokedAt: true, lastUsedAt: true, environment: true, organization: { select: { id: true, name: true } } },
  });
  if (!row) return null;
  return { organizationId: row.organization.id, organizationName: row.organization.name, apiKeyId: row.id, environment: row.environment, revokedAt: row.revokedAt, lastUsedAt: row.lastUsedAt };
}

/**
 * Writes a key's last-used stamp when it is due (a minute old) and this process is not already
 * writing one; true when it started a write. Fire and forget: a stamp that fails to write must
 * not fail the request.
 */
export function stampLastUsed(prisma: PrismaClient, apiKeyId: string, lastUsedAt: number, now: number): boolean {
  const stamped = stampsInFlight.get(apiKeyId) ?? 0;
  if (now - lastUsedAt <= LAST_USED_RESOLUTION_MS || now - stamped <= LAST_USED_RESOLUTION_MS) return false;
  // One stamp per key per process at a time: a burst of requests on a key whose stamp is due
  // would otherwise queue as many UPDATEs of one row, each holding a pool connection.
  stampsInFlight.set(apiKeyId, now);
  if (stampsInFlight.size > 10_000) stampsInFlight.delete(stampsInFlight.keys().next().value!);
  prisma.apiKey.update({ where: { id: apiKeyId }, data: { lastUsedAt: new Date(now) } }).catch(() => {});
  return true;
}
