// Liveness and readiness for load balancers and orchestrators. /healthz: the process answers.
// /readyz: this instance can serve — the database (and Redis, when configured) answer within a
// short bound, and it is not shutting down. A failing check answers fast with what failed.
import type { Logger } from "../logger.js";
import { sendJson, type RouteHandler } from "./responses.js";

export const READINESS_TIMEOUT_MS = 1_500;

export type DependencyCheck = (timeoutMs: number) => Promise<void>;

export type Health = {
  healthz: RouteHandler;
  readyz: RouteHandler;
  /** From now on /readyz answers 503, so a load balancer stops sending new work here. */
  markShuttingDown(): void;
  readonly shuttingDown: boolean;
};

function withTimeout(run: () => Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve().then(run),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createHealth(checks: Record<string, DependencyCheck>, logger: Logger, timeoutMs = READINESS_TIMEOUT_MS): Health {
  let shuttingDown = false;
  const failing = new Set<string>();
  // Probes that arrive while a check is running share it: a hung dependency costs one pending
  // check (one pool connection), not one per probe.
  let inFlight: Promise<Record<string, string>> | undefined;
  const runChecks = () =>
    (inFlight ??= (async () => {
      const failed: Record<string, string> = {};
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(() => check(timeoutMs), timeoutMs);
            if (failing.delete(name)) logger.info({ dependency: name }, "readiness check passes again");
          } catch (e) {
            failed[name] = (e as Error).message.slice(0, 200);
            // One line when a dependency starts failing, not one per probe.
            if (!failing.has(name)) logger.warn({ dependency: name, err: { message: failed[name] } }, "readiness check failed");
            failing.add(name);
          }
        }),
      );
      return failed;
    })().finally(() => {
      inFlight = undefined;
    }));

  return {
    healthz: (_req, res) => sendJson(res, 200, { status: "ok" }),
    readyz: async (_req, res) => {
      if (shuttingDown) return sendJson(res, 503, { status: "unready", reason: "shutting down" });
      const failed = await runChecks();
      const names = Object.keys(failed);
      if (shuttingDown) return sendJson(res, 503, { status: "unready", reason: "shutting down" });
      // Names only: the reasons (addresses, driver messages) go to the log, not to the public.
      if (names.length) return sendJson(res, 503, { status: "unready", failed: names });
      sendJson(res, 200, { status: "ready", checked: Object.keys(checks) });
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
  };
}
