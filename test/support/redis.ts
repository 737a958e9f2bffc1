// Whether the test Redis answers PING (127.0.0.1:6379 unless ONE_RUNTIME_TEST_REDIS_URL says
// otherwise). Under CI=true an unreachable Redis is a failure, never a skip (global-setup.ts).
import { connect } from "node:net";

export const REDIS_URL = process.env.ONE_RUNTIME_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export function redisReachable(url = REDIS_URL, timeoutMs = 2_000): Promise<boolean> {
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
