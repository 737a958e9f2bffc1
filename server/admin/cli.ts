// `npm run admin -- <command>`: operators' commands for organizations and API keys. Works on both
// stores, with or without a running server; on the embedded store it never opens a data folder a
// running server holds, but asks that server over its local admin channel.
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { loadConfig, type Config } from "../config.js";
import { acquireDataDirLock, DataDirBusyError, readLock, type LockInfo } from "../db/data-dir-lock.js";
import { applyMigrations } from "../db/migrations.js";
import { openStore } from "../db/store.js";
import { ServiceError } from "../errors.js";
import { ADMIN_TOKEN_HEADER } from "../http/admin-channel.js";
import { runAdminCommand, type AdminCommand } from "./commands.js";

const USAGE = `usage: npm run admin -- <command> [options]

  create-org --name <name> [--test]          create an organization and its first API key
  list-orgs                                  list organizations
  create-api-key --org <id> [--name <name>] [--test]
  list-api-keys --org <id>
  revoke-api-key --id <key id> [--org <id>]

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

async function direct(config: Config, command: AdminCommand): Promise<unknown> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await applyMigrations(store);
    return await runAdminCommand(store.prisma, command);
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

function print(result: unknown, json: boolean) {
  if (json) return void process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  const r = result as Record<string, any>;
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
