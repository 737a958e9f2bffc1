// Real One Runtime processes for multi-instance, shutdown and production-build tests: the built
// server (`node dist/server/main.js`, as `npm run start:prod` runs it; built by the global setup)
// on a free port, sharing a PostgreSQL database and Redis, plus a throwaway redis-server on a
// port of its own (never the machine's shared one).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { runAdminCommand } from "../../server/admin/commands.js";
import { applyMigrations } from "../../server/db/migrations.js";
import { openStore, type Store } from "../../server/db/store.js";
import { BUILT, nodeArgs, repoRoot } from "./server-build.js";

export { repoRoot };
export { REDIS_URL } from "./redis.js";

/**
 * How long a child gets to print that it listens. Normally a second or two; a machine busy with
 * other work (two test workers, browsers, a parallel build) can make it many times that, and a
 * slow start must make a test slower, not red. Only a real hang should hit this.
 */
export const START_TIMEOUT_MS = 120_000;

export type Instance = {
  name: string;
  url: string;
  port: number;
  proc: ChildProcess;
  /** Every line the process printed (JSON logs and the banner), stdout and stderr interleaved. */
  lines: string[];
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  logs(): Record<string, any>[];
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
};

/**
 * Starts one instance of the built server and resolves once it prints where it listens. `env`
 * adds to (and an empty string unsets, as the config reads it) the defaults: port 0 on
 * 127.0.0.1, info logs, no development organization.
 */
export async function spawnInstance(name: string, env: Record<string, string>, opts: { startTimeoutMs?: number } = {}): Promise<Instance> {
  const proc = spawn(process.execPath, nodeArgs(BUILT.server), {
    cwd: repoRoot,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ONE_RUNTIME_LOG_LEVEL: "info", ONE_RUNTIME_DEV_ORG: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  proc.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const output = () => `--- stderr ---\n${stderr.trimEnd() || "(empty)"}\n--- all output ---\n${lines.join("\n")}`;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let buffered = "";
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
  };
  proc.stdout!.on("data", onData);
  proc.stderr!.on("data", onData);
  const url = await new Promise<string>((resolve, reject) => {
    const limit = opts.startTimeoutMs ?? START_TIMEOUT_MS;
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${name} did not print where it listens within ${limit / 1000} s:\n${output()}`));
    }, limit);
    const check = () => {
      const m = lines.map((l) => /One Runtime is running at (http:\/\/\S+)/.exec(l)).find(Boolean);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off("data", check);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on("data", check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited during start-up (code ${code}, signal ${signal}):\n${output()}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    name,
    url,
    port,
    proc,
    lines,
    exited,
    logs: () =>
      lines.flatMap((l) => {
        if (!l.startsWith("{")) return [];
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      }),
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export const newEncryptionKey = () => randomBytes(32).toString("base64");

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An organization with an API key, made directly on a shared PostgreSQL database (migrated first if new). */
export async function createOrganizationIn(databaseUrl: string, name = "Multi-instance org"): Promise<{ organizationId: string; apiKey: string }> {
  const store: Store = await openStore({ databaseUrl, dataDir: "unused", poolSize: 1 });
  try {
    await applyMigrations(store);
    const r = (await runAdminCommand(store.prisma, { command: "create-org", name }, { onApiKeyRevoked: () => {} /* creates only */ })) as { organization: { id: string }; apiKey: { key: string } };
    return { organizationId: r.organization.id, apiKey: r.apiKey.key };
  } finally {
    await store.close();
  }
}

export type ThrowawayRedis = { port: number; url: string; stop(): Promise<void>; start(): Promise<void> };

/** A redis-server of the test's own on a free port, stoppable and restartable on that port. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${START_TIMEOUT_MS / 1000} s: ${out}`)), START_TIMEOUT_MS);
      proc!.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        if (/Ready to accept connections/i.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc!.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${out}`));
      });
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => p.once("exit", () => resolve()));
      p.kill("SIGKILL");
      await gone;
    },
  };
}

/** POSTs a GraphQL operation; returns the parsed body. */
export async function gql<T = any>(baseUrl: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<{ status: number; data?: T; errors?: any[] }> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

export const CREATE_SESSION = `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken session { id } } }`;
export const COMPLETE_SESSION = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`;
export const WATCH_SESSION = `subscription($t: String!) { hostedConnectionSession(sessionToken: $t) { id status connectionId error { code } } }`;

export async function createSession(baseUrl: string, apiKey: string, input: Record<string, unknown>): Promise<{ sessionToken: string; sessionId: string }> {
  const r = await gql(baseUrl, CREATE_SESSION, { input }, apiKey);
  if (r.errors) throw new Error(`createHostedConnectionSession failed: ${JSON.stringify(r.errors)}`);
  return { sessionToken: r.data.createHostedConnectionSession.sessionToken, sessionId: r.data.createHostedConnectionSession.session.id };
}
