// Start-up and shutdown of one One Runtime instance: config (keys, listen address) → catalog →
// lock (embedded) → vault → store, migrations and the keys checked against the data → events →
// HTTP + WebSocket → background jobs. Tests start it on port 0.
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type LookupFunction } from "node:net";
import { verifyEncryptionKeys } from "./admin/key-rotation.js";
import { Catalog, syncCatalogToDatabase } from "./catalog/catalog.js";
import { loadCatalog } from "./catalog/load.js";
import { ConfigError, type Config } from "./config.js";
import { acquireDataDirLock, newAdminToken } from "./db/data-dir-lock.js";
import { applyMigrations } from "./db/migrations.js";
import { listenForEventNotices } from "./events/notices.js";
import { deleteExpiredEvents } from "./events/retention.js";
import { openStore, type QueryObserver, type Store } from "./db/store.js";
import { createHealth, type DependencyCheck } from "./http/health.js";
import { createMetrics } from "./http/metrics.js";
import { loadPopupAssets } from "./http/popup-assets.js";
import { ADMIN_PATH, createRequestHandler } from "./http/routes.js";
import { prepareGracefulClose } from "./http/shutdown.js";
import { createLogger, type Logger } from "./logger.js";
import { createApiKeyVerifier } from "./organizations/api-key-verifier.js";
import { redirectUri } from "./oauth/apps.js";
import { refreshExpiringTokens } from "./oauth/refresh.js";
import { startDeliveryWorker } from "./webhooks/worker.js";
import { startHealthChecks } from "./health/schedule.js";
import { sandboxEntry } from "./oauth/sandbox.js";
import { ensureDevOrganization, type DevOrganization } from "./organizations/dev-organization.js";
import { createSessionEvents, type SessionEvents } from "./pubsub.js";
import { createRateLimits } from "./rate-limits.js";
import { createRedisSessionEvents, redisLocation } from "./redis-events.js";
import type { Services } from "./services.js";
import { cancelAbandonedPopups } from "./sessions/complete.js";
import { countSessionsByStatus, expireDueSessions } from "./sessions/lifecycle.js";
import { loadOrCreateDevKey, parseEncryptionKeys, Vault, type OpenFailure } from "./vault.js";
import { createMemoryWatcherSlots, createRedisWatcherSlots, type WatcherSlots } from "./watcher-slots.js";
import { attachWebSocket } from "./ws.js";
import { createGraphQL } from "./yoga.js";
import { createCatalogCache } from "./http/catalog-cache.js";

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
export const EVENT_RETENTION_INTERVAL_MS = 3_600_000;

type Cleanups = (() => Promise<unknown>)[];

/** Refuses, before anything else runs, a PostgreSQL store without a configured key. */
function checkEncryptionKeyConfigured(config: Config) {
  if (config.databaseUrl && !config.encryptionKey) {
    throw new ConfigError("ONE_RUNTIME_ENCRYPTION_KEY is required when DATABASE_URL is set (32 bytes, base64)");
  }
}

/** The vault's keys: configured, or (embedded only) a development key kept in the data folder. */
async function openVault(config: Config, logger: Logger): Promise<Vault> {
  // Where it is and why, never what it holds: an altered row or a missing key is the operator's to fix.
  const onOpenFailure = (failure: OpenFailure) => logger.error(failure, "stored credentials did not decrypt");
  if (config.encryptionKey) return new Vault(parseEncryptionKeys(config.encryptionKey), { onOpenFailure });
  checkEncryptionKeyConfigured(config);
  const dev = await loadOrCreateDevKey(config.dataDir);
  logger.warn(
    { created: dev.created },
    "ONE_RUNTIME_ENCRYPTION_KEY is not set: using a development key kept in the data folder. Set it for any real deployment.",
  );
  return new Vault(dev.keys, { onOpenFailure });
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

/** One line for an address we cannot listen on; other errors as they are. */
function listenError(error: unknown, config: Config): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `port ${config.port} on ${config.host}`;
  const line =
    code === "EADDRINUSE" ? `${where} is already in use (PORT, HOST)`
    : code === "EACCES" ? `${where} needs privileges this process does not have (PORT)`
    : code === "EADDRNOTAVAIL" ? `HOST ${config.host} is not an address of this machine`
    : code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME" ? `HOST ${config.host} does not resolve to an address`
    : undefined;
  return line ? new ConfigError(`Cannot listen: ${line}`) : (error as Error);
}

/**
 * Whether we can listen where configured, checked before the store is opened (a port in use
 * used to surface only after migrations and the catalog sync). The real listen still reports a
 * port taken in between the same way.
 */
function checkCanListen(config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once("error", (e) => reject(listenError(e, config)));
    probe.listen(config.port, config.host, () => probe.close(() => resolve()));
  });
}

function listen(server: Server, config: Config): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", (e) => reject(listenError(e, config)));
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
  every(EVENT_RETENTION_INTERVAL_MS, "event retention", () => deleteExpiredEvents(services));
  const deliveries = startDeliveryWorker(services);
  cleanups.push(() => deliveries.stop());
  if (services.config.healthChecks.intervalMs > 0) {
    const healthChecks = startHealthChecks(services);
    cleanups.push(() => healthChecks.stop());
  }
}

/** `onQuery`: every statement Prisma sends (benchmarks count round trips); off by default. */
export async function startServer(
  config: Config,
  opts: { logger?: Logger; webSocketPingIntervalMs?: number; onQuery?: QueryObserver; egressLookup?: LookupFunction } = {},
): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const embedded = !config.databaseUrl;
  const cleanups: Cleanups = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e) => logger.error({ err: { message: (e as Error).message } }, "shutdown step failed"));
  };
  try {
    // Everything that can be refused without the database is checked before it is opened.
    checkEncryptionKeyConfigured(config);
    await checkCanListen(config);
    const loaded = await loadCatalog({ operatorDir: config.catalogDir });
    if (config.sandbox) loaded.integrations.push(sandboxEntry);
    const catalog = new Catalog(loaded);
    const popupAssets = await loadPopupAssets();
    const lock = embedded ? await acquireDataDirLock(config.dataDir, "server") : undefined;
    if (lock) cleanups.push(() => lock.release());
    const vault = await openVault(config, logger);

    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, onQuery: opts.onQuery });
    cleanups.push(() => store.close());
    const applied = await applyMigrations(store);
    if (applied.length) logger.info({ migrations: applied }, "migrations applied");
    // The keys against the data, before anything is written with them (refused: one line).
    const keys = await verifyEncryptionKeys(store.prisma, vault);
    logger.info({ keyIds: vault.keyIds, newest: vault.currentKeyId, recorded: keys.recorded, stillInUse: Object.fromEntries(keys.inUse) }, "encryption keys checked");
    const synced = await syncCatalogToDatabase(store.prisma, catalog);
    logger.info({ integrations: catalog.size, categories: catalog.categories.length, ...synced }, "catalog loaded");

    const eventNotices = await listenForEventNotices(store);
    cleanups.push(() => eventNotices.close());

    const checks: Record<string, DependencyCheck> = { database: (ms) => store.ping(ms) };
    const { events, watcherSlots } = await openSessionEvents(config, logger, checks);
    cleanups.push(() => events.close());
    cleanups.push(() => watcherSlots.close()); // before the events' Redis connections close
    const health = createHealth(checks, logger);
    const metrics = createMetrics({ countSessions: () => countSessionsByStatus(store), token: config.metricsToken, logger });

    const rateLimits = createRateLimits(config, logger);
    cleanups.push(() => rateLimits.close());

    let publicUrl = config.publicUrl ?? "";
    // Tests resolve chosen names to chosen addresses; the guard judges what the lookup answers.
    const egress = { ...config.egress, ...(opts.egressLookup ? { lookup: opts.egressLookup } : {}) };
    const apiKeys = createApiKeyVerifier(store.prisma, events, { ttlMs: config.apiKeyCacheMs });
    cleanups.push(async () => apiKeys.close());
    const services: Services = { config, publicUrl: () => publicUrl, prisma: store.prisma, storeKind: store.kind, catalog, vault, events, eventNotices, apiKeys, watcherSlots, rateLimits, logger, egress };
    const catalogCache = createCatalogCache();
    const yoga = createGraphQL(services, catalogCache);
    const adminToken = embedded ? newAdminToken() : undefined;
    const sandboxCallbackUrl = config.sandbox ? () => redirectUri(services) : undefined;
    const server = createServer(createRequestHandler({ services, yoga, catalogCache, popupAssets, health, metrics, adminToken, sandboxCallbackUrl }));
    const closeGracefully = prepareGracefulClose(server);
    server.headersTimeout = 20_000;
    server.requestTimeout = config.requestTimeoutMs;
    const url = await listen(server, config);
    const port = (server.address() as AddressInfo).port;
    publicUrl ||= url;
    // Attached once listening: the WebSocket server re-emits the HTTP server's errors, and
    // graphql-ws answers a listen error (a port taken) with its own "check your implementation".
    const ws = attachWebSocket(server, yoga, { pingIntervalMs: opts.webSocketPingIntervalMs });
    metrics.setWebSocketStats(ws.stats);
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
