// The operator's commands, run either by the CLI on the store directly or by a running server on
// the CLI's behalf (local admin channel). Input is checked here, once, for both paths.
import { z } from "zod";
import { notFound } from "../errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { createApiKey, listApiKeys, revokeApiKey } from "../organizations/api-keys.js";
import { createOrganization, listOrganizations } from "../organizations/organizations.js";
import type { Vault } from "../vault.js";
import { reencryptAll } from "./key-rotation.js";

const environment = z.enum(["LIVE", "TEST"]).default("LIVE");

export const adminCommandSchema = z.discriminatedUnion("command", [
  z.object({ command: z.literal("create-org"), name: z.string().min(1).max(100), environment }),
  z.object({ command: z.literal("list-orgs") }),
  z.object({ command: z.literal("create-api-key"), organizationId: z.uuid(), name: z.string().min(1).max(100).default("default"), environment }),
  z.object({ command: z.literal("list-api-keys"), organizationId: z.uuid() }),
  z.object({ command: z.literal("revoke-api-key"), id: z.uuid(), organizationId: z.uuid().optional() }),
  z.object({ command: z.literal("reencrypt") }),
]);
export type AdminCommand = z.input<typeof adminCommandSchema>;

/**
 * `vault`: the keys of whoever runs the command (the running server, or the CLI's own
 * configuration). `onApiKeyRevoked`: tells the servers, which cache key verifications.
 */
export async function runAdminCommand(
  prisma: PrismaClient,
  raw: unknown,
  opts: { vault?: Vault; onApiKeyRevoked: (apiKeyId: string) => void | Promise<void> },
): Promise<unknown> {
  const cmd = adminCommandSchema.parse(raw);
  switch (cmd.command) {
    case "create-org": {
      const { organization, apiKey, key } = await createOrganization(prisma, { name: cmd.name, environment: cmd.environment });
      return { organization, apiKey: { ...apiKey, key } };
    }
    case "list-orgs":
      return { organizations: await listOrganizations(prisma) };
    case "create-api-key": {
      const { apiKey, key } = await createApiKey(prisma, cmd);
      return { apiKey: { ...apiKey, key } };
    }
    case "list-api-keys": {
      // An unknown organization is a mistake to report, not an organization without keys.
      const known = await prisma.organization.findUnique({ where: { id: cmd.organizationId }, select: { id: true } });
      if (!known) throw notFound("Organization");
      return { apiKeys: await listApiKeys(prisma, cmd.organizationId) };
    }
    case "revoke-api-key": {
      const apiKey = await revokeApiKey(prisma, cmd);
      await opts.onApiKeyRevoked(apiKey.id);
      return { apiKey };
    }
    case "reencrypt":
      if (!opts.vault) throw new Error("reencrypt needs the encryption keys");
      return { reencrypted: await reencryptAll(prisma, opts.vault) };
  }
}
