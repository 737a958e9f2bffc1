// Organizations: created by operators (admin CLI), each with its first API key.
import type { PrismaClient } from "../generated/prisma/client.js";
import type { ApiKeyEnvironment } from "../generated/prisma/enums.js";
import { badInput } from "../errors.js";
import { createApiKey, type ApiKeyView } from "./api-keys.js";

export type CreatedOrganization = { organization: { id: string; name: string; createdAt: Date }; apiKey: ApiKeyView; key: string };

export async function createOrganization(
  prisma: PrismaClient,
  input: { name: string; environment?: ApiKeyEnvironment | undefined },
): Promise<CreatedOrganization> {
  const name = input.name.trim();
  if (!name || name.length > 100) throw badInput("Organization name must be 1 to 100 characters");
  const organization = await prisma.organization.create({ data: { name }, select: { id: true, name: true, createdAt: true } });
  const { apiKey, key } = await createApiKey(prisma, { organizationId: organization.id, name: "default", environment: input.environment });
  return { organization, apiKey, key };
}

export function listOrganizations(prisma: PrismaClient) {
  return prisma.organization.findMany({ orderBy: { createdAt: "asc" }, select: { id: true, name: true, createdAt: true } });
}
