// Start-up and shutdown of one One Runtime instance: config → lock (embedded) → catalog → store
// and migrations → vault → events → HTTP + WebSocket → background jobs. Tests start it on port 0.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Catalog, syncCatalogToDatabase } from "./catalog/catalog.js";
import { loadCatalog } from "./catalog/load.js";
import { ConfigError, type Config } from "./config.js";
import { acquireDataDirLock, newAdminToken } from "./db/data-dir-lock.js";
import { applyMigrations } from "./db/migrations.js";
import { openStore, type Store } from "./db/store.js";
import { createHealth, type DependencyCheck } from "./http/health.js";
import { createMetrics } from "./http/metrics.js";
import { loadPopupAssets } from "./http/popup-assets.js";
import { ADMIN_PATH, createRequestHandler } from "./http/routes.js";
import { prepareGracefulClose } from "./http/shutdown.js";
import { createLogger, type Logger } from "./logger.js";
import { redirectUri } from "./oauth/apps.js";
import { refreshExpiringTokens } from "./oauth/refresh.js";
import { sandboxEntry } from "./oauth/sandbox.js";
import { ensureDevOrganization, type DevOrganization } from "./organizations/dev-organization.js";
import { createSessionEvents, type SessionEvents } from "./pubsub.js";
import { createRedisSessionEvents, redisLocation } from "./redis-events.js";
import type { Services } from "./services.js";
import { cancelAbandonedPopups } from "./sessions/complete.js";
import { countSessionsByStatus, expireDueSessions } from "./sessions/lifecycle.js";
import { loadOrCreateDevKey, parseEncryptionKeys, Vault } from "./vault.js";
import { createMemoryWatcherSlots, createRedisWatcherSlots, type WatcherSlots } from "./watcher-slots.js";
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
export const REFRESH_INTERVAL_MS = 60_000;

type Cleanups = (() => Promise<unknown>)[];

/** The vault's keys: configured, or (embedded only) a development key kept in the data folder. */
async function openVault(config: Config, logger: Logger): Promise<Vault> {
  if (config.encryptionKey) return new Vault(parseEncryptionKeys(config.encryptionKey));
  if (config.databaseUrl) throw new ConfigError("ONE_RUNTIME_ENCRYPTION_KEY is required when DATABASE_URL is set (32 bytes, base64)");
  const dev = await loadOrCreateDevKey(config.dataDir);
  logger.warn(
    { created: dev.created },
    "ONE_RUNTIME_ENCRYPTION_KEY is not set: using a development key kept in the data folder. Set it for any real deployment.",
  );
  return new Vault(dev.keys);
}

/**
 * Session events and watcher slots. Several instances: every event goes through Redis, so a
 * subscription on one instance hears a change made on another, and the slots are counted there
 * (and /readyz checks Redis). One instance: in process.
 */
async function openSessionEvents(config: Config, logger: Logger, checks: Record<string, DependencyCheck>): Promise<{ events: SessionEvents; watcherSlots: WatcherSlots }> {
  if (!config.redisUrl) return { events: createSessionEvents(), watcherSlots: createMemoryWatcherSlots() };
  const redis = createRedisSessionEvents(config.redisUrl, logger);
  checks.redis = (ms) => redis.check(ms);
  // Start without it if need be (reported by /readyz), but normally ready when listening.
  const connected = await redis.connected(5_000);
  logger.info({ redis: redisLocation(config.redisUrl), connected }, "session events over Redis");
  return { events: redis.events, watcherSlots: createRedisWatcherSlots(redis.commands, logger) };
}

function listen(server: Server, config: Config): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      const port = (server.address() as AddressInfo).port;
      const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
      resolve(`http://${host}:${port}`);
    });
  });
}

/**
 * Session expiry, closed popups' sessions and token refresh, on every instance: each change they
 * make has one winner.
 */
function startBackgroundJobs(services: Services, cleanups: Cleanups) {
  const every = (ms: number, name: string, job: () => Promise<unknown>) => {
    const timer = setInterval(() => {
      job().catch((e) => services.logger.warn({ err: { message: (e as Error).message } }, `${name} failed`));
    }, ms);
    timer.unref();
    cleanups.push(async () => clearInterval(timer));
  };
  every(SWEEP_INTERVAL_MS, "expiry sweep", () => expireDueSessions(services));
  every(SWEEP_INTERVAL_MS, "closed popup sweep", () => cancelAbandonedPopups(services));
  every(REFRESH_INTERVAL_MS, "token refresher", () => refreshExpiringTokens(services));
}

export async function startServer(config: Config, opts: { logger?: Logger; webSocketPingIntervalMs?: number } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const embedded = !config.databaseUrl;
  const cleanups: Cleanups = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e) => logger.error({ err: { message: (e as Error).message } }, "shutdown step failed"));
  };
  try {
    const lock = embedded ? await acquireDataDirLock(config.dataDir, "server") : undefined;
    if (lock) cleanups.push(() => lock.release());
    const loaded = await loadCatalog({ operatorDir: config.catalogDir });
    if (config.sandbox) loaded.integrations.push(sandboxEntry);
    const catalog = new Catalog(loaded);
    const popupAssets = await loadPopupAssets();

    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
    cleanups.push(() => store.close());
    const applied = await applyMigrations(store);
    if (applied.length) logger.info({ migrations: applied }, "migrations applied");
    const synced = await syncCatalogToDatabase(store.prisma, catalog);
    logger.info({ integrations: catalog.size, categories: catalog.categories.length, ...synced }, "catalog loaded");
    const vault = await openVault(config, logger);

    const checks: Record<string, DependencyCheck> = { database: (ms) => store.ping(ms) };
    const { events, watcherSlots } = await openSessionEvents(config, logger, checks);
    cleanups.push(() => events.close());
    cleanups.push(() => watcherSlots.close()); // before the events' Redis connections close
    const health = createHealth(checks, logger);
    const metrics = createMetrics({ countSessions: () => countSessionsByStatus(store), token: config.metricsToken, logger });

    let publicUrl = config.publicUrl ?? "";
    const services: Services = { config, publicUrl: () => publicUrl, prisma: store.prisma, storeKind: store.kind, catalog, vault, events, watcherSlots, logger };
    const yoga = createGraphQL(services);
    const adminToken = embedded ? newAdminToken() : undefined;
    const sandboxCallbackUrl = config.sandbox ? () => redirectUri(services) : undefined;
    const server = createServer(createRequestHandler({ services, yoga, popupAssets, health, metrics, adminToken, sandboxCallbackUrl }));
    const closeGracefully = prepareGracefulClose(server);
    server.headersTimeout = 20_000;
    server.requestTimeout = 30_000;
    const ws = attachWebSocket(server, yoga, { pingIntervalMs: opts.webSocketPingIntervalMs });
    metrics.setWebSocketStats(ws.stats);
    const url = await listen(server, config);
    const port = (server.address() as AddressInfo).port;
    publicUrl ||= url;
    // Stop accepting, send WebSocket clients elsewhere (1012), let in-flight requests finish.
    cleanups.push(() => closeGracefully({ closeWebSockets: () => ws.close(), logger }));
    if (lock && adminToken) await lock.update({ adminUrl: `http://127.0.0.1:${port}${ADMIN_PATH}`, adminToken });

    const devOrganization = embedded && config.createDevOrganization ? await ensureDevOrganization(store.prisma, config.dataDir) : undefined;
    startBackgroundJobs(services, cleanups);

    logger.info({ url, publicUrl, store: store.kind }, "One Runtime listening");
    let closing: Promise<void> | undefined;
    return { url, port, services, store, server, devOrganization, close: () => (closing ??= (health.markShuttingDown(), cleanup())) };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
