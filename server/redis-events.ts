// Session events over Redis pub/sub (REDIS_URL), so a subscription held by one instance hears a
// change made on another. Redis is a doorbell, not a store: losing it delays updates to the
// watchers' resync timer (server/pubsub.ts) and makes /readyz unready; it never crashes the
// process, and ioredis reconnects (and re-subscribes) on its own.
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "./logger.js";
import { createSessionEvents, REDIS_RESYNC, type SessionEventTarget, type SessionEvents } from "./pubsub.js";

export type RedisSessionEvents = {
  events: SessionEvents;
  /** The connection for plain commands (the publishing one): fails fast while disconnected. */
  commands: Redis;
  /** Resolves when both connections are up and the server answers PING within `timeoutMs`. */
  check(timeoutMs: number): Promise<void>;
  /** Waits (at most `timeoutMs`) for both connections; false if Redis is not there yet. */
  connected(timeoutMs: number): Promise<boolean>;
};

const CLOSE_WAIT_MS = 1_000;

/** Where a log line may say we connect: the host and port, never a password. */
export function redisLocation(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || 6379}${u.pathname.length > 1 ? u.pathname : ""}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A client whose commands never reject unobserved: the event target fires SUBSCRIBE, UNSUBSCRIBE
 * and PUBLISH without awaiting them, and a rejection nobody awaits would end the process.
 */
function quietCommands(client: Redis, onFailure: (command: string, error: Error) => void): Redis {
  const quiet = (command: "subscribe" | "unsubscribe" | "publish") =>
    (...args: unknown[]) => {
      const result = (client[command] as (...a: unknown[]) => Promise<unknown>)(...args);
      return result.catch((e: Error) => {
        onFailure(command, e);
        return 0;
      });
    };
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === "subscribe" || prop === "unsubscribe" || prop === "publish") return quiet(prop);
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export function createRedisSessionEvents(url: string, logger: Logger, options: RedisOptions = {}): RedisSessionEvents {
  const where = redisLocation(url);
  const common: RedisOptions = {
    connectTimeout: 5_000,
    // Reconnect forever, backing off to 2 s: an instance outlives a Redis restart.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    ...options,
  };
  // PUBLISH fails fast while disconnected (the watchers' resync covers a lost event) instead of
  // queueing stale doorbells; SUBSCRIBE queues, so a channel asked for during an outage is
  // subscribed once the connection is back (ioredis re-subscribes known channels by itself).
  const publisher = new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: "one-runtime-publish" });
  const subscriber = new Redis(url, { ...common, maxRetriesPerRequest: null, connectionName: "one-runtime-subscribe" });

  for (const [role, client] of [["publish", publisher], ["subscribe", subscriber]] as const) {
    let down = false;
    // Without an 'error' listener ioredis' errors are unhandled events, which end the process.
    client.on("error", (e: Error) => {
      if (down) return; // one line per outage, not one per reconnect attempt
      down = true;
      logger.warn({ redis: where, role, err: { message: e.message } }, "Redis connection failed; reconnecting");
    });
    client.on("ready", () => {
      if (down) logger.info({ redis: where, role }, "Redis connection restored");
      down = false;
    });
    client.on("end", () => {
      down = true;
    });
  }

  const onFailure = (command: string, e: Error) => logger.debug({ redis: where, command, err: { message: e.message } }, "Redis command failed");
  const target = createRedisEventTarget({
    publishClient: quietCommands(publisher, onFailure),
    subscribeClient: quietCommands(subscriber, onFailure),
  }) as unknown as SessionEventTarget;

  const close = async () => {
    await Promise.all(
      [publisher, subscriber].map(async (client) => {
        // A QUIT that fails or hangs changes nothing: disconnect() below closes the socket regardless.
        if (client.status === "ready") await withTimeout(client.quit(), CLOSE_WAIT_MS, "QUIT").catch(() => {});
        client.disconnect();
      }),
    );
  };

  const events = createSessionEvents(target, close, REDIS_RESYNC);
  // Watchers poll while the subscribing link is down, and look once when it is back: what was
  // published meanwhile never arrives.
  // Back to trusting events a moment after "ready": ioredis re-subscribes as the link comes up,
  // and the look everyone takes then must come after the SUBSCRIBE, not before it.
  subscriber.on("ready", () => setTimeout(() => subscriber.status === "ready" && events.setDegraded(false), REDIS_RESYNC.firstMs).unref());
  for (const lost of ["end", "error", "close"]) subscriber.on(lost, () => events.setDegraded(true));

  return {
    events,
    commands: publisher,
    async connected(timeoutMs) {
      const ready = (client: Redis) => (client.status === "ready" ? Promise.resolve() : new Promise<void>((resolve) => client.once("ready", () => resolve())));
      return withTimeout(Promise.all([ready(publisher), ready(subscriber)]), timeoutMs, "connect").then(() => true, () => false);
    },
    async check(timeoutMs) {
      if (publisher.status !== "ready") throw new Error(`publish connection is ${publisher.status}`);
      if (subscriber.status !== "ready") throw new Error(`subscribe connection is ${subscriber.status}`);
      await withTimeout(publisher.ping(), timeoutMs, "PING");
    },
  };
}
