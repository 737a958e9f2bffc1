// `npm run admin -- <command>`: operators' commands for organizations, API keys and key rotation.
// Works on both stores, with or without a running server; on the embedded store it never opens a
// data folder a running server holds, but asks that server over its local admin channel.
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { acquireDataDirLock, DataDirBusyError, readLock, type LockInfo } from "../db/data-dir-lock.js";
import { applyMigrations } from "../db/migrations.js";
import { openStore } from "../db/store.js";
import { ServiceError } from "../errors.js";
import { ADMIN_TOKEN_HEADER } from "../http/admin-channel.js";
import { createLogger } from "../logger.js";
import { createRedisSessionEvents } from "../redis-events.js";
import { parseEncryptionKeys, readDevKey, Vault } from "../vault.js";
import { runAdminCommand, type AdminCommand } from "./commands.js";
import { verifyEncryptionKeys, type ReencryptResult } from "./key-rotation.js";

const USAGE = `usage: npm run admin -- <command> [options]

  create-org --name <name> [--test]          create an organization and its first API key
  list-orgs                                  list organizations
  create-api-key --org <id> [--name <name>] [--test]
  list-api-keys --org <id>
  revoke-api-key --id <key id> [--org <id>]
  reencrypt                                  re-seal every stored secret with the newest key of
                                             ONE_RUNTIME_ENCRYPTION_KEY (after a rotation)

  --json    print machine-readable JSON
  --test    make an ort_test_ key instead of ort_live_`;

class UsageError extends Error {}

const OPTIONS = { name: { type: "string" }, org: { type: "string" }, id: { type: "string" }, json: { type: "boolean" }, test: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const;

function parseCommand(argv: string[]): { command: AdminCommand; json: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    // An unknown flag or a flag without its value: a usage mistake like any other.
    throw new UsageError((e as Error).message);
  }
  const { positionals, values } = parsed;
  const environment = values.test ? "TEST" : "LIVE";
  const need = (v: string | undefined, flag: string) => {
    if (!v) throw new UsageError(`missing --${flag}`);
    return v;
  };
  const json = Boolean(values.json);
  switch (values.help ? "help" : positionals[0]) {
    case "create-org":
      return { json, command: { command: "create-org", name: need(values.name, "name"), environment } };
    case "list-orgs":
      return { json, command: { command: "list-orgs" } };
    case "create-api-key":
      return { json, command: { command: "create-api-key", organizationId: need(values.org, "org"), name: values.name ?? "default", environment } };
    case "list-api-keys":
      return { json, command: { command: "list-api-keys", organizationId: need(values.org, "org") } };
    case "revoke-api-key":
      return { json, command: { command: "revoke-api-key", id: need(values.id, "id"), organizationId: values.org } };
    case "reencrypt":
      return { json, command: { command: "reencrypt" } };
    default:
      throw new UsageError(positionals[0] ? `unknown command "${positionals[0]}"` : "no command given");
  }
}

async function viaServer(holder: LockInfo, command: AdminCommand): Promise<unknown> {
  const res = await fetch(holder.adminUrl!, {
    method: "POST",
    headers: { "content-type": "application/json", [ADMIN_TOKEN_HEADER]: holder.adminToken! },
    body: JSON.stringify(command),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: string; message: string } };
  if (!res.ok || body.error) throw new ServiceError((body.error?.code ?? "BAD_USER_INPUT") as never, body.error?.message ?? `admin channel answered ${res.status}`);
  return body.result;
}

/** The keys this CLI was given (or the data folder's development key); never makes one. */
async function ownVault(config: Config): Promise<Vault> {
  if (config.encryptionKey) return new Vault(parseEncryptionKeys(config.encryptionKey));
  const dev = config.databaseUrl ? undefined : await readDevKey(config.dataDir);
  if (!dev) throw new ConfigError("ONE_RUNTIME_ENCRYPTION_KEY is required: the keys the servers use, the new one first");
  return new Vault(dev);
}

/**
 * Running servers cache key verifications: through Redis they drop a revoked key at once;
 * without it (or with Redis down), within their cache time.
 */
async function announceRevocation(config: Config, apiKeyId: string): Promise<void> {
  if (!config.redisUrl) return;
  const redis = createRedisSessionEvents(config.redisUrl, createLogger("silent"));
  try {
    if (await redis.connected(5_000)) redis.events.publishApiKeyRevoked(apiKeyId);
    else process.stderr.write(`Redis is unreachable: running servers refuse the key within ${config.apiKeyCacheMs / 1000} s\n`);
  } finally {
    await redis.events.close(); // QUIT follows the PUBLISH on the same connection
  }
}

async function direct(config: Config, command: AdminCommand): Promise<unknown> {
  const vault = command.command === "reencrypt" ? await ownVault(config) : undefined;
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await applyMigrations(store);
    // Keys that do not match the data are refused here as at a server's start: sealing with a
    // newest key the servers do not have would make their data unreadable to them.
    if (vault) await verifyEncryptionKeys(store.prisma, vault);
    return await runAdminCommand(store.prisma, command, { vault, onApiKeyRevoked: (id) => announceRevocation(config, id) });
  } finally {
    await store.close();
  }
}

async function run(config: Config, command: AdminCommand): Promise<unknown> {
  if (config.databaseUrl) return direct(config, command);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const holder = await readLock(config.dataDir);
    if (holder?.role === "server" && holder.adminUrl && holder.adminToken) return viaServer(holder, command);
    if (!holder) {
      try {
        const lock = await acquireDataDirLock(config.dataDir, "cli");
        try {
          return await direct(config, command);
        } finally {
          await lock.release();
        }
      } catch (e) {
        if (!(e instanceof DataDirBusyError)) throw e; // someone took it meanwhile: look again
      }
    }
    // A server still starting (no channel yet) or another CLI: wait for it, within reason.
    if (Date.now() > deadline) throw new DataDirBusyError(holder ?? { pid: 0, role: "cli" });
    await new Promise((r) => setTimeout(r, 250));
  }
}

function printReencrypted(r: ReencryptResult) {
  const line = (label: string, c: { resealed: number; unreadable: number; changedMeanwhile: number }, extra = "") =>
    `  ${label.padEnd(16)} ${c.resealed} re-sealed, ${c.unreadable} unreadable, ${c.changedMeanwhile} changed meanwhile${extra}\n`;
  process.stdout.write(`Re-encrypted with key ${r.keyId}:\n`);
  process.stdout.write(line("connections", r.connections));
  process.stdout.write(line("OAuth apps", r.oauthApps));
  process.stdout.write(line("webhook secrets", r.webhookSecrets));
  process.stdout.write(line("OAuth flows", r.oauthFlows, `, ${r.oauthFlows.cleared} cleared (ended sessions)`));
  for (const u of r.unreadableRows) process.stdout.write(`  unreadable: ${u.place} ${u.id}\n`);
  const remaining = Object.entries(r.remaining);
  process.stdout.write(
    remaining.length
      ? `Still under older keys: ${remaining.map(([id, n]) => `${id} (${n})`).join(", ")}; run reencrypt again, and keep those keys configured until none is left.\n`
      : `Nothing is left under older keys: they can be removed from ONE_RUNTIME_ENCRYPTION_KEY.\n`,
  );
}

function print(result: unknown, json: boolean) {
  if (json) return void process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  const r = result as Record<string, any>;
  if (r.reencrypted) return printReencrypted(r.reencrypted);
  if (r.organization) process.stdout.write(`Organization ${r.organization.name}\n  id: ${r.organization.id}\n`);
  if (r.apiKey?.key) process.stdout.write(`API key (shown once, store it now):\n  ${r.apiKey.key}\n  id: ${r.apiKey.id}\n`);
  else if (r.apiKey) process.stdout.write(`API key ${r.apiKey.prefix}… (${r.apiKey.id}) ${r.apiKey.revokedAt ? `revoked at ${new Date(r.apiKey.revokedAt).toISOString()}` : "active"}\n`);
  for (const o of r.organizations ?? []) process.stdout.write(`${o.id}  ${o.name}\n`);
  for (const k of r.apiKeys ?? []) {
    const state = k.revokedAt ? "revoked" : "active";
    const used = k.lastUsedAt ? `last used ${new Date(k.lastUsedAt).toISOString()}` : "never used";
    process.stdout.write(`${k.id}  ${k.prefix}…  ${k.environment.toLowerCase()}  ${state}  ${used}  ${k.name}\n`);
  }
}

try {
  const { command, json } = parseCommand(process.argv.slice(2));
  print(await run(loadConfig(), command), json);
} catch (e) {
  if (e instanceof UsageError) process.stderr.write(`${e.message}\n\n${USAGE}\n`);
  else if (e instanceof ZodError) process.stderr.write(`invalid input: ${e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}\n`);
  else process.stderr.write(`${(e as Error).message}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
