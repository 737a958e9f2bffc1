// Every environment variable the service reads, parsed once into a typed object and passed down.
import { resolve } from "node:path";
import { z } from "zod";
import { parseEncryptionKeys } from "./vault.js";

const emptyAsUndefined = (v: unknown) => (v === "" ? undefined : v);

/**
 * A PostgreSQL URL with a host and a database name. `z.url()` alone took `postgresql:/x` (no
 * host: the pool then quietly used 127.0.0.1). Messages never quote the URL: it holds a password.
 */
const databaseUrl = z.string().superRefine((value, ctx) => {
  const expected = "expected postgresql://user:password@host:5432/database";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return void ctx.addIssue({ code: "custom", message: `not a URL (${expected})` });
  }
  const database = url.pathname.replace(/^\//, "");
  const problem =
    !/^postgres(ql)?:$/.test(url.protocol) ? "the scheme must be postgresql:// or postgres://"
    : !value.slice(url.protocol.length).startsWith("//") || !url.hostname ? "no host"
    : !database ? "no database name"
    : database.includes("/") ? "a database name cannot contain /"
    : undefined;
  if (problem) ctx.addIssue({ code: "custom", message: `${problem} (${expected})` });
});

/** `<key>` or `id:key,id:key` newest first; the parse errors name ids and positions, never key material. */
const encryptionKey = z.string().superRefine((value, ctx) => {
  try {
    parseEncryptionKeys(value);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});
/** A request budget: `points` requests per window of `durationSeconds`; null = no limit. */
export type RateLimitRule = { points: number; durationSeconds: number } | null;

/** `<requests>/<seconds>s` (e.g. `3000/10s`: up to 3000 requests in any 10-second window) or `off`. */
const rateLimit = (fallback: string) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(fallback)
      .refine((v) => v === "off" || /^[1-9]\d{0,6}\/[1-9]\d{0,4}s$/.test(v), "use `<requests>/<seconds>s`, e.g. `3000/10s`, or `off`")
      .transform((v): RateLimitRule => {
        if (v === "off") return null;
        const [points, seconds] = v.slice(0, -1).split("/").map(Number);
        return { points: points!, durationSeconds: seconds! };
      }),
  );

/**
 * Defaults a legitimate caller never reaches: a backend's bursts, a popup and its SDK. Anonymous
 * calls include subscriptions that pass a session token as an argument on an unauthenticated
 * socket (the deprecated way), many at once from one address behind a NAT or in a benchmark.
 */
export const DEFAULT_RATE_LIMITS = { apiKey: "3000/10s", session: "120/60s", anonymous: "1200/60s" } as const;

/** A duration in milliseconds between `min` and `max`, with a default. */
const millis = (fallback: number, min: number, max: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

const HOUR_MS = 3_600_000;

const envSchema = z.object({
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(4000)),
  HOST: z.preprocess(emptyAsUndefined, z.string().default("127.0.0.1")),
  ONE_RUNTIME_PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  ONE_RUNTIME_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default(".one-runtime")),
  DATABASE_URL: z.preprocess(emptyAsUndefined, databaseUrl.optional()),
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  ONE_RUNTIME_CATALOG_DIR: z.preprocess(emptyAsUndefined, z.string().optional()),
  ONE_RUNTIME_ENCRYPTION_KEY: z.preprocess(emptyAsUndefined, encryptionKey.optional()),
  ONE_RUNTIME_LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(["debug", "info", "warn", "error", "silent"]).default("info")),
  ONE_RUNTIME_DEV_ORG: z.preprocess(emptyAsUndefined, z.enum(["true", "false"]).optional()),
  ONE_RUNTIME_SANDBOX: z.preprocess(emptyAsUndefined, z.enum(["true", "false"]).optional()),
  ONE_RUNTIME_DB_POOL_SIZE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).default(10)),
  ONE_RUNTIME_METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, "use at least 16 characters").optional()),
  ONE_RUNTIME_INTROSPECTION: z.preprocess(emptyAsUndefined, z.enum(["public", "api-key", "off"]).optional()),
  ONE_RUNTIME_GRAPHIQL: z.preprocess(emptyAsUndefined, z.enum(["true", "false"]).optional()),
  ONE_RUNTIME_REQUEST_TIMEOUT_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(5).max(3600).default(30)),
  ONE_RUNTIME_API_KEY_CACHE_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(300_000).default(10_000)),
  ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: z.preprocess(emptyAsUndefined, z.enum(["true", "false"]).optional()),
  ONE_RUNTIME_PROXY_TIMEOUT_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().min(1).max(600).default(60)),
  ONE_RUNTIME_PROXY_MAX_BODY_MB: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(10240).default(100)),
  NODE_ENV: z.string().optional(),
  ONE_RUNTIME_HEALTH_CHECK_INTERVAL_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(30 * 24 * HOUR_MS).default(6 * HOUR_MS)),
  ONE_RUNTIME_HEALTH_CHECK_POLL_MS: millis(30_000, 10, HOUR_MS),
  ONE_RUNTIME_HEALTH_CHECK_TIMEOUT_MS: millis(10_000, 100, 60_000),
  ONE_RUNTIME_EVENT_RETENTION_DAYS: z.preprocess(emptyAsUndefined, z.coerce.number().min(1).max(3650).default(30)),
  ONE_RUNTIME_WEBHOOK_POLL_MS: millis(5_000, 10, 300_000),
  ONE_RUNTIME_WEBHOOK_BACKOFF_BASE_MS: millis(5_000, 1, HOUR_MS),
  ONE_RUNTIME_WEBHOOK_BACKOFF_MAX_MS: millis(HOUR_MS, 1, 24 * HOUR_MS),
  ONE_RUNTIME_WEBHOOK_RETRY_WINDOW_MS: millis(24 * HOUR_MS, 1_000, 7 * 24 * HOUR_MS),
  ONE_RUNTIME_WEBHOOK_TIMEOUT_MS: millis(10_000, 100, 60_000),
  ONE_RUNTIME_WEBHOOK_DISABLE_AFTER: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100_000).default(50)),
  ONE_RUNTIME_WEBHOOK_SECRET_OVERLAP_MS: millis(24 * HOUR_MS, 0, 7 * 24 * HOUR_MS),
  ONE_RUNTIME_RATE_LIMIT_API_KEY: rateLimit(DEFAULT_RATE_LIMITS.apiKey),
  ONE_RUNTIME_RATE_LIMIT_SESSION: rateLimit(DEFAULT_RATE_LIMITS.session),
  ONE_RUNTIME_RATE_LIMIT_ANONYMOUS: rateLimit(DEFAULT_RATE_LIMITS.anonymous),
});

export type Config = {
  port: number;
  host: string;
  /** The URL end users' browsers and providers reach us at; undefined = derived from the bound address. */
  publicUrl: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Operators' own catalog files, loaded after (and able to override) the shipped ones. */
  catalogDir: string | undefined;
  encryptionKey: string | undefined;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** Create and print a development organization on the embedded store's first start. */
  createDevOrganization: boolean;
  /** Serve the OAuth2 sandbox (a local authorization server) and list its integration. */
  sandbox: boolean;
  /** PostgreSQL connections per instance (instances × this must stay under the server's max_connections). */
  dbPoolSize: number;
  /** Bearer token for /metrics; unset = /metrics answers loopback callers only. */
  metricsToken: string | undefined;
  /** Who may run schema introspection: anyone, callers with an API key, or no one. */
  introspection: "public" | "api-key" | "off";
  /** Serve GraphiQL's page and files at /graphql. */
  graphiql: boolean;
  /** GraphQL requests per API key, per session token, and per client address for callers without a valid credential. */
  rateLimits: { apiKey: RateLimitRule; session: RateLimitRule; anonymous: RateLimitRule };
  /**
   * Outbound calls to customer- or end-user-chosen destinations (webhooks, the proxy). Loopback
   * (and plain http to it) is for development and tests: on by default only on the embedded
   * store outside production, where the sandbox's API lives on this machine.
   */
  egress: { allowLoopback: boolean };
  /**
   * The proxy's wait for a provider's response headers (and for each stall while a body streams),
   * and the cap on each request and response body it carries.
   */
  proxy: { timeoutMs: number; maxBodyBytes: number };
  /** How long events (with their webhook deliveries and attempts) are kept. */
  eventRetentionMs: number;
  /**
   * Connection health checks (server/health/): each connection whose integration names one is
   * checked every `intervalMs` (0: only on demand); instances look for due checks every `pollIntervalMs`.
   */
  healthChecks: { intervalMs: number; pollIntervalMs: number; timeoutMs: number };
  /** How long a verified API key is trusted without asking the database again; 0 = never cached. */
  apiKeyCacheMs: number;
  /** How long a client may take to send a whole request (a large upload through the proxy included). */
  requestTimeoutMs: number;
  /** Webhook delivery (server/webhooks/): timing knobs, small in tests, defaults for production. */
  webhooks: WebhookSettings;
};

export type WebhookSettings = {
  /** How often each instance looks for due deliveries when no doorbell rang. */
  pollIntervalMs: number;
  /** The first retry's delay; each further one doubles (with jitter) up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long after an event (or its replay) a failing delivery is retried. */
  retryWindowMs: number;
  /** One attempt's deadline, for the response's headers and again for its body. */
  timeoutMs: number;
  /** Consecutive failed attempts after which an endpoint is disabled. */
  disableAfterFailures: number;
  /** How long a rotated-out secret still signs deliveries beside the new one. */
  previousSecretValidMs: number;
};

/** A configuration the service refuses to start with; its message is one line, for stderr. */
export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${issues.join("; ")}`);
  }
  const e = parsed.data;
  // Production shows no schema to strangers unless told to.
  const production = e.NODE_ENV === "production";
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.ONE_RUNTIME_PUBLIC_URL?.replace(/\/+$/, ""),
    dataDir: resolve(e.ONE_RUNTIME_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    catalogDir: e.ONE_RUNTIME_CATALOG_DIR ? resolve(e.ONE_RUNTIME_CATALOG_DIR) : undefined,
    encryptionKey: e.ONE_RUNTIME_ENCRYPTION_KEY,
    logLevel: e.ONE_RUNTIME_LOG_LEVEL,
    createDevOrganization: e.ONE_RUNTIME_DEV_ORG ? e.ONE_RUNTIME_DEV_ORG === "true" : !e.DATABASE_URL,
    sandbox: e.ONE_RUNTIME_SANDBOX ? e.ONE_RUNTIME_SANDBOX === "true" : !e.DATABASE_URL,
    metricsToken: e.ONE_RUNTIME_METRICS_TOKEN,
    dbPoolSize: e.ONE_RUNTIME_DB_POOL_SIZE,
    introspection: e.ONE_RUNTIME_INTROSPECTION ?? (production ? "off" : "public"),
    graphiql: e.ONE_RUNTIME_GRAPHIQL ? e.ONE_RUNTIME_GRAPHIQL === "true" : !production,
    apiKeyCacheMs: e.ONE_RUNTIME_API_KEY_CACHE_MS,
    requestTimeoutMs: e.ONE_RUNTIME_REQUEST_TIMEOUT_SECONDS * 1000,
    egress: {
      allowLoopback: e.ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK ? e.ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK === "true" : !e.DATABASE_URL && !production,
    },
    proxy: { timeoutMs: e.ONE_RUNTIME_PROXY_TIMEOUT_SECONDS * 1000, maxBodyBytes: e.ONE_RUNTIME_PROXY_MAX_BODY_MB * 1024 * 1024 },
    eventRetentionMs: e.ONE_RUNTIME_EVENT_RETENTION_DAYS * 24 * HOUR_MS,
    healthChecks: {
      intervalMs: e.ONE_RUNTIME_HEALTH_CHECK_INTERVAL_MS,
      pollIntervalMs: e.ONE_RUNTIME_HEALTH_CHECK_POLL_MS,
      timeoutMs: e.ONE_RUNTIME_HEALTH_CHECK_TIMEOUT_MS,
    },
    webhooks: {
      pollIntervalMs: e.ONE_RUNTIME_WEBHOOK_POLL_MS,
      backoffBaseMs: e.ONE_RUNTIME_WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: e.ONE_RUNTIME_WEBHOOK_BACKOFF_MAX_MS,
      retryWindowMs: e.ONE_RUNTIME_WEBHOOK_RETRY_WINDOW_MS,
      timeoutMs: e.ONE_RUNTIME_WEBHOOK_TIMEOUT_MS,
      disableAfterFailures: e.ONE_RUNTIME_WEBHOOK_DISABLE_AFTER,
      previousSecretValidMs: e.ONE_RUNTIME_WEBHOOK_SECRET_OVERLAP_MS,
    },
    rateLimits: { apiKey: e.ONE_RUNTIME_RATE_LIMIT_API_KEY, session: e.ONE_RUNTIME_RATE_LIMIT_SESSION, anonymous: e.ONE_RUNTIME_RATE_LIMIT_ANONYMOUS },
  };
}
