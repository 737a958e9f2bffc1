// The embedded default's development organization: created on the first start so a newcomer has
// a working key at once. Its key is kept in the data folder (mode 0600), the one key we can show
// again, and we do so only while it is still that organization's only key.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PrismaClient } from "../generated/prisma/client.js";
import { sha256Hex } from "../crypto-tokens.js";
import { createOrganization } from "./organizations.js";

export type DevOrganization = { organizationId: string; name: string; apiKey: string; created: boolean };

export async function ensureDevOrganization(prisma: PrismaClient, dataDir: string): Promise<DevOrganization | undefined> {
  const file = join(dataDir, "dev-api-key");
  if ((await prisma.organization.count()) === 0) {
    const { organization, key } = await createOrganization(prisma, { name: "Development", environment: "TEST" });
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    return { organizationId: organization.id, name: organization.name, apiKey: key, created: true };
  }
  const key = (await readFile(file, "utf8").catch(() => "")).trim();
  if (!key) return undefined;
  const row = await prisma.apiKey.findUnique({ where: { hash: sha256Hex(key) }, select: { organizationId: true, revokedAt: true, organization: { select: { name: true } } } });
  if (!row || row.revokedAt) return undefined;
  const keys = await prisma.apiKey.count({ where: { organizationId: row.organizationId } });
  if (keys !== 1) return undefined;
  return { organizationId: row.organizationId, name: row.organization.name, apiKey: key, created: false };
}
