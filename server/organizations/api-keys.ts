// API keys: `ort_live_…` / `ort_test_…`, shown once, stored only as a SHA-256 hash with a short
// visible prefix, revocable, with a throttled last-used stamp.
import type { PrismaClient } from "../generated/prisma/client.js";
import type { ApiKeyEnvironment } from "../generated/prisma/enums.js";
import { ServiceError, notFound } from "../errors.js";
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

/** Resolves a presented key to its organization, or throws UNAUTHENTICATED (the reason stays vague on purpose). */
export async function authenticateApiKey(prisma: PrismaClient, key: string): Promise<AuthenticatedOrganization> {
  if (!API_KEY_PATTERN.test(key)) throw new ServiceError("UNAUTHENTICATED", "Malformed API key");
  const row = await prisma.apiKey.findUnique({
    where: { hash: sha256Hex(key) },
    select: { id: true, revokedAt: true, lastUsedAt: true, environment: true, organization: { select: { id: true, name: true } } },
  });
  if (!row) throw new ServiceError("UNAUTHENTICATED", "Unknown API key");
  if (row.revokedAt) throw new ServiceError("UNAUTHENTICATED", "This API key has been revoked");
  const now = Date.now();
  const stamped = stampsInFlight.get(row.id) ?? 0;
  if ((!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) && now - stamped > LAST_USED_RESOLUTION_MS) {
    // One stamp per key per process at a time: a burst of requests on a key whose stamp is due
    // would otherwise queue as many UPDATEs of one row, each holding a pool connection.
    stampsInFlight.set(row.id, now);
    if (stampsInFlight.size > 10_000) stampsInFlight.delete(stampsInFlight.keys().next().value!);
    // Fire and forget: a stamp that fails to write must not fail the request.
    prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } }).catch(() => {});
  }
  return { organizationId: row.organization.id, organizationName: row.organization.name, apiKeyId: row.id, environment: row.environment };
}
