// Start-up and shutdown of one One Runtime instance: config → lock (embedded) → catalog → store
// and migrations → vault → events → HTTP + WebSocket → background jobs. Tests start it on port 0.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { adminChannel, ADMIN_PATH } from "./admin/channel.js";
import { Catalog, syncCatalogToDatabase } from "./catalog/catalog.js";
import { loadCatalog } from "./catalog/load.js";
import { ConfigError, type Config } from "./config.js";
import { acquireDataDirLock, newAdminToken, type DataDirLock } from "./db/data-dir-lock.js";
import { applyMigrations } from "./db/migrations.js";
import { openStore, type Store } from "./db/store.js";
import { createRequestHandler, sendJson } from "./http.js";
import { createLogger, type Logger } from "./logger.js";
import { ensureDevOrganization, type DevOrganization } from "./organizations/dev-organization.js";
import { createSessionEvents } from "./pubsub.js";
import type { Services } from "./services.js";
import { expireDueSessions } from "./sessions/lifecycle.js";
import { loadPopupAssets } from "./static-files.js";
import { loadOrCreateDevKey, parseEncryptionKeys, Vault } from "./vault.js";
import { attachWebSocket } from "./ws.js";
import { createGraphQL } from "./yoga.js";

export type RunningServer = {
  url: string;
  port: number;
  services: Services;
  store: Store;
  server: Server;
  devOrganization: DevOrganization | undefined;
  close(): Promise<void>;
};

export const SWEEP_INTERVAL_MS = 30_000;

export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const embedded = !config.databaseUrl;
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e) => logger.error({ err: { message: (e as Error).message } }, "shutdown step failed"));
  };
  try {
    let lock: DataDirLock | undefined;
    if (embedded) {
      lock = await acquireDataDirLock(config.dataDir, "server");
      cleanups.push(() => lock!.release());
    }
    const catalog = new Catalog(await loadCatalog({ operatorDir: config.catalogDir }));
    const popupAssets = await loadPopupAssets();

    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    cleanups.push(() => store.close());
    const applied = await applyMigrations(store);
    if (applied.length) logger.info({ migrations: applied }, "migrations applied");
    const synced = await syncCatalogToDatabase(store.prisma, catalog);
    logger.info({ integrations: catalog.size, categories: catalog.categories.length, ...synced }, "catalog loaded");

    let keys;
    if (config.encryptionKey) keys = parseEncryptionKeys(config.encryptionKey);
    else if (embedded) {
      const dev = await loadOrCreateDevKey(config.dataDir);
      keys = dev.keys;
      logger.warn(
        { created: dev.created },
        "ONE_RUNTIME_ENCRYPTION_KEY is not set: using a development key kept in the data folder. Set it for any real deployment.",
      );
    } else throw new ConfigError("ONE_RUNTIME_ENCRYPTION_KEY is required when DATABASE_URL is set (32 bytes, base64)");
    const vault = new Vault(keys);

    const events = createSessionEvents();
    cleanups.push(() => events.close());

    let publicUrl = config.publicUrl ?? "";
    const services: Services = {
      config,
      publicUrl: () => publicUrl,
      prisma: store.prisma,
      storeKind: store.kind,
      catalog,
      vault,
      events,
      logger,
    };
    const yoga = createGraphQL(services);
    const adminToken = newAdminToken();
    const routes: Parameters<typeof createRequestHandler>[0]["routes"] = {
      "/healthz": (_req, res) => sendJson(res, 200, { status: "ok" }),
      "/readyz": async (_req, res) => {
        try {
          await store.ping();
          sendJson(res, 200, { status: "ready" });
        } catch {
          sendJson(res, 503, { status: "unready", database: "unreachable" });
        }
      },
    };
    if (embedded) routes[ADMIN_PATH] = adminChannel(store.prisma, adminToken);

    const server = createServer(createRequestHandler({ services, yoga, popupAssets, routes }));
    server.headersTimeout = 20_000;
    server.requestTimeout = 30_000;
    const ws = attachWebSocket(server, yoga);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    publicUrl ||= url;
    cleanups.push(async () => {
      await ws.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    });
    if (lock) await lock.update({ adminUrl: `http://127.0.0.1:${port}${ADMIN_PATH}`, adminToken });

    const devOrganization = embedded && config.createDevOrganization ? await ensureDevOrganization(store.prisma, config.dataDir) : undefined;

    const sweep = setInterval(() => {
      expireDueSessions(services).catch((e) => logger.warn({ err: { message: (e as Error).message } }, "expiry sweep failed"));
    }, SWEEP_INTERVAL_MS);
    sweep.unref();
    cleanups.push(async () => clearInterval(sweep));

    logger.info({ url, publicUrl, store: store.kind }, "One Runtime listening");
    let closing: Promise<void> | undefined;
    return { url, port, services, store, server, devOrganization, close: () => (closing ??= cleanup()) };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
