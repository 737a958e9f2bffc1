// Graceful shutdown of a real server process (the built one, as production runs it) on SIGTERM:
// it stops accepting at once — before any in-flight request is finished — answers /readyz with
// 503 from the first moment, finishes every in-flight request (their keep-alive connections
// closed after the response), tells WebSocket clients to reconnect (1012), and exits 0 within
// main.ts's bound (past it, main.ts exits 1).
import http from "node:http";
import { connect } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CLOSE_SERVICE_RESTART } from "../server/ws.js";
import { createTestDatabase } from "./support/postgres.js";
import { testStore } from "./support/server.js";
import { CREATE_SESSION, createOrganizationIn, newEncryptionKey, REDIS_URL, spawnInstance, type Instance } from "./support/instances.js";

const IN_FLIGHT = 200;

describe("SIGTERM", () => {
  let instance: Instance;
  let apiKey: string;
  let cleanup: () => Promise<void> = async () => {};

  beforeAll(async () => {
    if (testStore === "postgres") {
      const db = await createTestDatabase();
      instance = await spawnInstance("shutdown", { DATABASE_URL: db.url, REDIS_URL, ONE_RUNTIME_ENCRYPTION_KEY: newEncryptionKey() });
      apiKey = (await createOrganizationIn(db.url)).apiKey;
      cleanup = () => db.drop();
    } else {
      const dataDir = await mkdtemp(join(tmpdir(), "one-runtime-shutdown-"));
      instance = await spawnInstance("shutdown", { ONE_RUNTIME_DATA_DIR: dataDir, ONE_RUNTIME_DEV_ORG: "true" });
      apiKey = /API key:\s+(\S+)/.exec(instance.lines.join("\n"))![1]!;
      cleanup = () => rm(dataDir, { recursive: true, force: true });
    }
  });
  afterAll(async () => {
    await instance?.stop("SIGKILL");
    await cleanup();
  });

  it(`finishes ${IN_FLIGHT} in-flight requests, refuses new connections, sends WebSockets away with 1012 and exits in time`, async () => {
    const { port } = instance;
    const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT + 10 });

    // A WebSocket subscriber, as the SDK holds while the popup is open.
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, "graphql-transport-ws");
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const closeCode = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));

    // IN_FLIGHT requests whose bodies are half sent when the signal arrives: in flight for sure.
    let answered = 0;
    const responses = Array.from({ length: IN_FLIGHT }, (_, i) => {
      const body = JSON.stringify({ query: CREATE_SESSION, variables: { input: { integrationSlug: "hacker-news", endUserId: `in-flight-${i}` } } });
      const half = Math.floor(body.length / 2);
      let sendRest!: () => void;
      const done = new Promise<{ status: number; connection: string | undefined; body: any }>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port, path: "/graphql", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${apiKey}` } },
          (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => {
              answered++;
              resolve({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(text) });
            });
          },
        );
        req.on("error", reject);
        req.write(body.slice(0, half));
        sendRest = () => req.end(body.slice(half));
      });
      return { done, sendRest: () => sendRest() };
    });
    // A readiness probe whose request line arrives before the signal and whose headers end after it.
    const probe = connect({ host: "127.0.0.1", port });
    await new Promise((resolve) => probe.once("connect", resolve));
    probe.write("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let probeAnswer = "";
    probe.on("data", (c) => (probeAnswer += c));
    // Signal only once the server has every request (its in-flight gauge counts the scrape too).
    await expect
      .poll(async () => Number(/^one_runtime_http_requests_in_flight\S* (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(IN_FLIGHT + 1);

    const signalled = Date.now();
    instance.proc.kill("SIGTERM");

    // New connections are refused while every request is still in flight (their bodies are held
    // back until then): the listener closes first, it does not wait for the drain. No clock
    // decides it; a bounded wait only turns a listener that never closes into a failure.
    let refusedAfter = -1;
    let answeredWhenRefused = -1;
    while (Date.now() - signalled < 60_000) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect({ host: "127.0.0.1", port });
        s.once("connect", () => (s.destroy(), resolve(false)));
        s.once("error", () => resolve(true));
      });
      if (refused) {
        refusedAfter = Date.now() - signalled;
        answeredWhenRefused = answered;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    probe.write("\r\n");
    for (const r of responses) r.sendRest();
    const results = await Promise.allSettled(responses.map((r) => r.done));
    const exit = await instance.exited;
    const shutdownMs = exit.at - signalled;
    await new Promise((resolve) => setTimeout(resolve, 50));
    agent.destroy();
    probe.destroy();

    const failed = results.filter((r) => r.status === "rejected" || r.value.status !== 200 || r.value.body.errors);
    console.log(
      `SIGTERM with ${IN_FLIGHT} requests in flight (${testStore}): ${IN_FLIGHT - failed.length} answered, ${failed.length} failed, ` +
        `new connections refused after ${refusedAfter} ms, exit code ${exit.code} after ${shutdownMs} ms`,
    );
    // Where the time went, when anything is off (main.ts's and the request grace's bounds are
    // wall-clock: a badly overloaded machine can overrun them).
    if (failed.length || exit.code !== 0) console.log(instance.logs().filter((l) => l.level >= 40 || /shut|closed/.test(l.msg)).map((l) => JSON.stringify(l)).join("\n"));
    expect(failed.map((f) => (f.status === "rejected" ? String(f.reason) : JSON.stringify(f.value.body)))).toEqual([]);
    for (const r of results) {
      const v = (r as PromiseFulfilledResult<{ connection: string | undefined; body: any }>).value;
      expect(v.body.data.createHostedConnectionSession.sessionToken).toMatch(/^ort_sess_/);
      expect(v.connection).toBe("close"); // the client opens its next connection elsewhere
    }
    expect(refusedAfter).toBeGreaterThanOrEqual(0);
    expect(answeredWhenRefused).toBe(0);
    expect(probeAnswer).toMatch(/^HTTP\/1\.1 503/);
    expect(probeAnswer).toContain('"reason":"shutting down"');
    expect(await closeCode).toBe(CLOSE_SERVICE_RESTART);
    expect(exit.code).toBe(0); // main.ts exits 1 when the shutdown overruns its bound
    const logs = instance.logs();
    expect(logs.some((l) => l.msg === "shutdown complete")).toBe(true);
  }, 180_000);
});
