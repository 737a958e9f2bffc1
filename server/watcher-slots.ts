// Slots for the subscriptions watching one session, so the cap on them holds across instances.
// In memory for one instance; with Redis (REDIS_URL) a sorted set per session whose members are
// the live watchers, scored by when their lease runs out (Redis's clock, so instances' clocks do
// not matter). Each instance renews its own leases on a heartbeat: a crashed instance's slots
// free themselves within one lease. Redis unreachable: the cap falls back to this instance's own
// count, so subscriptions keep working (the cap is a guard against runaway clients, not a quota).
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "./logger.js";

export type WatcherSlot = {
  /** Frees the slot; only the first call counts. */
  release(): Promise<void>;
};

export type WatcherSlots = {
  /** One of `max` slots for `key`, or undefined when all of them are taken. */
  acquire(key: string, max: number): Promise<WatcherSlot | undefined>;
  /** How many slots this instance holds right now. */
  held(): number;
  /** Stops renewing and frees what this instance still holds. */
  close(): Promise<void>;
};

/** One instance's slots: a count per key. */
export function createMemoryWatcherSlots(): WatcherSlots {
  const counts = new Map<string, number>();
  let held = 0;
  return {
    async acquire(key, max) {
      const taken = counts.get(key) ?? 0;
      if (taken >= max) return undefined;
      counts.set(key, taken + 1);
      held++;
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          held--;
          const left = (counts.get(key) ?? 1) - 1;
          if (left > 0) counts.set(key, left);
          else counts.delete(key);
        },
      };
    },
    held: () => held,
    async close() {},
  };
}

/** How long a slot outlives the last renewal of the instance holding it. */
export const SLOT_LEASE_MS = 30_000;
/** A command that takes longer than this counts as Redis being unreachable. */
const COMMAND_TIMEOUT_MS = 1_000;

// Removes expired members, refuses when `max` are live, else adds this one with its lease.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;
// Extends a live member's lease; XX: a slot released (or expired) meanwhile is not brought back.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 1`;

type SlotCommands = {
  watcherSlotAcquire(key: string, max: number, leaseMs: number, member: string): Promise<number>;
  watcherSlotRenew(key: string, leaseMs: number, member: string): Promise<number>;
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis command timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const slotKey = (key: string) => `one-runtime:watchers:${key}`;

/**
 * Slots shared by every instance on one Redis. `client` must be a connection that runs plain
 * commands (not one in subscriber mode); commands should fail fast while it is disconnected.
 */
export function createRedisWatcherSlots(client: Redis, logger: Logger, opts: { leaseMs?: number } = {}): WatcherSlots {
  const leaseMs = opts.leaseMs ?? SLOT_LEASE_MS;
  client.defineCommand("watcherSlotAcquire", { numberOfKeys: 1, lua: ACQUIRE });
  client.defineCommand("watcherSlotRenew", { numberOfKeys: 1, lua: RENEW });
  const commands = client as unknown as SlotCommands;
  const local = createMemoryWatcherSlots();
  /** The slots this instance holds in Redis: member → key. */
  const mine = new Map<string, string>();
  const releasing = new Set<Promise<unknown>>();
  let fallbackLogged = false;

  const heartbeat = setInterval(() => {
    for (const [member, key] of mine) {
      withTimeout(commands.watcherSlotRenew(key, leaseMs, member), COMMAND_TIMEOUT_MS).catch((e: Error) =>
        logger.debug({ err: { message: e.message } }, "renewing a watcher slot failed"),
      );
    }
  }, Math.max(Math.floor(leaseMs / 3), 10));
  heartbeat.unref();

  const removeFromRedis = (key: string, member: string) => {
    const removal = withTimeout(client.zrem(key, member), COMMAND_TIMEOUT_MS)
      .catch((e: Error) => logger.debug({ err: { message: e.message } }, "releasing a watcher slot failed; its lease ends it"))
      .finally(() => releasing.delete(removal));
    releasing.add(removal);
    return removal;
  };

  return {
    async acquire(name, max) {
      const key = slotKey(name);
      const member = randomUUID();
      let granted: number;
      try {
        granted = await withTimeout(commands.watcherSlotAcquire(key, max, leaseMs, member), COMMAND_TIMEOUT_MS);
      } catch (e) {
        if (!fallbackLogged) logger.warn({ err: { message: (e as Error).message } }, "watcher slots: Redis unreachable, capping per instance meanwhile");
        fallbackLogged = true;
        // A timed-out ACQUIRE may still land: remove it, or it holds a slot until its lease ends.
        void removeFromRedis(key, member);
        return local.acquire(name, max);
      }
      fallbackLogged = false;
      if (granted !== 1) return undefined;
      mine.set(member, key);
      return {
        async release() {
          if (!mine.delete(member)) return;
          await removeFromRedis(key, member);
        },
      };
    },
    held: () => mine.size + local.held(),
    async close() {
      clearInterval(heartbeat);
      const left = [...mine];
      mine.clear();
      await Promise.all([...left.map(([member, key]) => removeFromRedis(key, member)), ...releasing]);
    },
  };
}
