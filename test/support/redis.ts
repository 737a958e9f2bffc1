// Whether the test Redis answers PING (127.0.0.1:6379 unless ONE_RUNTIME_TEST_REDIS_URL says
// otherwise). Under CI=true an unreachable Redis is a failure, never a skip (global-setup.ts).
// And a listener on one channel, to see session events go through Redis.
import { connect } from "node:net";
import { Redis } from "ioredis";

export const REDIS_URL = process.env.ONE_RUNTIME_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export function redisReachable(url = REDIS_URL, timeoutMs = 10_000): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

export type RedisChannelListener = {
  /** Messages published on the channel since the listener subscribed. */
  messages: string[];
  /** How many connections besides this listener are subscribed to the channel right now. */
  otherSubscribers(): Promise<number>;
  close(): Promise<void>;
};

/**
 * Subscribes to one pub/sub channel, to see a message travel through Redis: who else listens on
 * it (PUBSUB NUMSUB) and what was published there.
 */
export async function listenOnRedisChannel(url: string, channel: string): Promise<RedisChannelListener> {
  const subscriber = new Redis(url, { maxRetriesPerRequest: 1 });
  const queries = new Redis(url, { maxRetriesPerRequest: 1 });
  const messages: string[] = [];
  subscriber.on("message", (ch: string, message: string) => {
    if (ch === channel) messages.push(message);
  });
  await subscriber.subscribe(channel);
  return {
    messages,
    async otherSubscribers() {
      const [, count] = (await queries.pubsub("NUMSUB", channel)) as [string, number | string];
      return Number(count) - 1;
    },
    async close() {
      subscriber.disconnect();
      queries.disconnect();
    },
  };
}
