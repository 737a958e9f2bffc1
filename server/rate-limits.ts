// Request budgets per API key, per session token and per client address (callers without a valid
// credential), shared by every instance through Redis when REDIS_URL is set, in memory otherwise.
// One Redis round trip per request at most (an atomic increment with its window's expiry); a key
// already over its budget is refused from memory until its window ends, without asking Redis.
// Redis trouble never fails or holds up a request: each instance then counts on its own.
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Config, RateLimitRule } from "./config.js";
import { ServiceError } from "./errors.js";
import type { Logger } from "./logger.js";
import { redisLocation } from "./redis-events.js";

export type RateLimitKind = "apiKey" | "session" | "anonymous";

export type RateLimits = {
  /** Counts one request against `key`'s budget of this kind; throws RATE_LIMITED (with Retry-After) when it is spent. */
  consume(kind: RateLimitKind, key: string): Promise<void>;
  close(): Promise<void>;
};

/** A Redis that answers slower than this is skipped for the request: it is counted in memory. */
const REDIS_COMMAND_TIMEOUT_MS = 500;

const WHAT: Record<RateLimitKind, string> = {
  apiKey: "this API key",
  session: "this session token",
  anonymous: "unauthenticated requests from this address",
};

function limiterFor(kind: RateLimitKind, rule: NonNullable<RateLimitRule>, redis: Redis | undefined): RateLimiterAbstract {
  const common = { points: rule.points, duration: rule.durationSeconds, keyPrefix: `one-runtime:rate:${kind}` };
  const memory = new RateLimiterMemory(common);
  if (!redis) return memory;
  return new RateLimiterRedis({
    ...common,
    storeClient: redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
    // Once over the budget, refuse from memory until the window ends: a flood costs Redis nothing.
    inMemoryBlockOnConsumed: rule.points + 1,
  });
}

export function createRateLimits(config: Pick<Config, "rateLimits" | "redisUrl">, logger: Logger): RateLimits {
  let redis: Redis | undefined;
  let closing = false;
  if (config.redisUrl && Object.values(config.rateLimits).some(Boolean)) {
    const where = redisLocation(config.redisUrl);
    redis = new Redis(config.redisUrl, {
      connectionName: "one-runtime-rate-limits",
      connectTimeout: 5_000,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      // Fail at once while disconnected (the memory limiter answers) instead of queueing requests.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 100, 2_000),
    });
    let down = false;
    // Without an 'error' listener ioredis' errors are unhandled events, which end the process.
    redis.on("error", (e: Error) => {
      if (down || closing) return;
      down = true;
      logger.warn({ redis: where, role: "rate-limits", err: { message: e.message } }, "Redis connection failed; counting requests per instance until it is back");
    });
    redis.on("ready", () => {
      if (down) logger.info({ redis: where, role: "rate-limits" }, "Redis connection restored");
      down = false;
    });
  }
  const limiters = new Map<RateLimitKind, RateLimiterAbstract>();
  for (const kind of ["apiKey", "session", "anonymous"] as const) {
    const rule = config.rateLimits[kind];
    if (rule) limiters.set(kind, limiterFor(kind, rule, redis));
  }

  return {
    async consume(kind, key) {
      const limiter = limiters.get(kind);
      if (!limiter) return;
      try {
        await limiter.consume(key);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) {
          // Both Redis and the memory fallback failed: let the request through rather than fail it.
          logger.warn({ kind, err: { message: (e as Error).message } }, "rate limit check failed");
          return;
        }
        const retryAfterSeconds = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        throw new ServiceError("RATE_LIMITED", `Too many requests for ${WHAT[kind]}; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
      }
    },
    async close() {
      closing = true;
      if (!redis) return;
      if (redis.status === "ready") await redis.quit().catch(() => {});
      redis.disconnect();
    },
  };
}
