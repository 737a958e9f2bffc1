// The session subscription over graphql-ws on the same port and path as HTTP, and the WebSocket
// endpoint's limits: ordering, completion, clear error events, close codes, survival.
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { createSessionEvents, REDIS_RESYNC } from "../server/pubsub.js";
import { MAX_WATCHERS_PER_SESSION } from "../server/sessions/watch.js";
import { WS_LIMITS } from "../server/ws.js";
import { startTestServer, type TestServer } from "./support/server.js";

const SUB = `subscription($t: String!) { hostedConnectionSession(sessionToken: $t) { id status connectionId error { code } } }`;
const SUB_AUTHENTICATED = `subscription { hostedConnectionSession { id status } }`;
const COMPLETE = `mutation { completeHostedConnectionSession(input: {}) { status } }`;

let server: TestServer;
let org: { apiKey: string };
const clients: Client[] = [];

const wsUrl = () => `${server.url.replace("http", "ws")}/graphql`;
function client(): Client {
  const c = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  clients.push(c);
  return c;
}

/** Collects every event of one subscription until it completes or errors. */
function collect(c: Client, token: string) {
  const events: any[] = [];
  let errors: any;
  const done = new Promise<void>((resolve) => {
    c.subscribe({ query: SUB, variables: { t: token } }, {
      next: (v) => void events.push(v.errors ? { errors: v.errors } : v.data!.hostedConnectionSession),
      error: (e) => {
        errors = e;
        resolve();
      },
      complete: () => resolve(),
    });
  });
  return { events, done, get error() { return errors; } };
}

/** The first GraphQL error of a subscription, whether refused up front (an error message) or in its first event. */
function firstError(c: Client, payload: { query: string; variables?: Record<string, unknown> }): Promise<any> {
  return new Promise((resolve) => {
    c.subscribe(payload, { next: (v) => resolve(v.errors?.[0]), error: (e: any) => resolve(e?.[0]), complete: () => resolve(undefined) });
  });
}

beforeAll(async () => {
  server = await startTestServer();
  org = await server.createOrganization("Subscriptions org");
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await server?.stop();
});

describe("hostedConnectionSession subscription", () => {
  it("yields the current state first, then the change, then completes", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "s1" });
    const sub = collect(client(), sessionToken);
    await expect.poll(() => sub.events.length).toBe(1);
    expect(sub.events[0].status).toBe("PENDING");
    await server.gql(COMPLETE, {}, { token: sessionToken });
    await sub.done;
    expect(sub.events.map((e) => e.status)).toEqual(["PENDING", "CONNECTED"]);
    expect(sub.events[1].connectionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("subscribing after completion still yields CONNECTED, then completes", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "s2" });
    await server.gql(COMPLETE, {}, { token: sessionToken });
    const sub = collect(client(), sessionToken);
    await sub.done;
    expect(sub.events.map((e) => e.status)).toEqual(["CONNECTED"]);
  });

  it("pushes EXPIRED when the session runs out while watched", async () => {
    const { sessionToken, sessionId } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "s3" });
    const sub = collect(client(), sessionToken);
    await expect.poll(() => sub.events.length).toBe(1);
    await server.services.prisma.hostedConnectionSession.update({ where: { id: sessionId }, data: { expiresAt: new Date(Date.now() + 300) } });
    server.services.events.publish(sessionId); // the row changed: wake the watcher, which then arms for the new expiry
    await sub.done;
    expect(sub.events.at(-1)).toMatchObject({ status: "EXPIRED", error: { code: "session_expired" } });
  });

  it("gives a clear error event for an unknown or expired token", async () => {
    const unknown = collect(client(), `ort_sess_${"B".repeat(43)}`);
    await unknown.done;
    expect(unknown.events).toHaveLength(1);
    expect(unknown.events[0].errors[0].extensions).toEqual({ code: "UNAUTHENTICATED" }); // no HTTP details on a socket

    const { sessionToken, sessionId } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "s4" });
    await server.services.prisma.hostedConnectionSession.update({ where: { id: sessionId }, data: { expiresAt: new Date(Date.now() - 1) } });
    const expired = collect(client(), sessionToken);
    await expired.done;
    expect(expired.events[0].errors[0].extensions.code).toBe("SESSION_EXPIRED");
  });

  it("authenticates through connection_init like HTTP: the socket's session token, any header case, no argument", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "s5" });
    for (const key of ["authorization", "Authorization"]) {
      const c = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { [key]: `Bearer ${sessionToken}` } });
      clients.push(c);
      const first = await new Promise<any>((resolve, reject) => {
        const stop = c.subscribe({ query: SUB_AUTHENTICATED }, { next: (v) => (stop(), resolve(v)), error: reject, complete: () => {} });
      });
      expect(first.data.hostedConnectionSession).toMatchObject({ status: "PENDING" });
    }
  });

  it("answers an unknown token in connection_init with an UNAUTHENTICATED error event, and no token with one too", async () => {
    for (const connectionParams of [{ authorization: `Bearer ort_sess_${"C".repeat(43)}` }, {}]) {
      const c = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
      clients.push(c);
      const err = await firstError(c, { query: SUB_AUTHENTICATED });
      expect(err?.extensions).toEqual({ code: "UNAUTHENTICATED" });
    }
  });

  it("refuses a sessionToken argument naming another session than the socket's, with FORBIDDEN", async () => {
    const mine = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "s6" });
    const other = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "s7" });
    const c = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${mine.sessionToken}` } });
    clients.push(c);
    const err = await firstError(c, { query: SUB, variables: { t: other.sessionToken } });
    expect(err?.extensions?.code).toBe("FORBIDDEN");
  });

  it("runs through the same query limits as HTTP", async () => {
    const c = client();
    const aliased = `subscription { ${Array.from({ length: 20 }, (_, i) => `a${i}: hostedConnectionSession(sessionToken: "x") { id }`).join(" ")} }`;
    const err = await new Promise<any>((resolve) => c.subscribe({ query: aliased }, { next: () => {}, error: resolve, complete: () => resolve(undefined) }));
    expect(err?.[0]?.extensions?.code).toBe("TOO_MANY_ALIASES");
  });
});

function rawSocket(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(), "graphql-transport-ws");
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}
const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));

async function stillServing() {
  const r = await fetch(`${server.url}/healthz`);
  expect(r.status).toBe(200);
}

describe("WebSocket endpoint limits", () => {
  it("caps subscriptions per session across sockets", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: "per-session" });
    const subs: ReturnType<typeof collect>[] = [];
    for (let i = 0; i <= MAX_WATCHERS_PER_SESSION; i++) {
      subs.push(collect(client(), sessionToken));
      await expect.poll(() => subs[i]!.events.length + (subs[i]!.error ? 1 : 0)).toBe(1);
    }
    expect(subs.at(-1)!.events[0]?.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });

  it("closes with 1009 on an oversized message, prints nothing on stderr and keeps serving", async () => {
    const consoleError = vi.spyOn(console, "error");
    try {
      const ws = await rawSocket();
      const code = closed(ws);
      ws.send("x".repeat(WS_LIMITS.maxPayloadBytes + 1));
      expect(await code).toBe(1009);
      await stillServing();
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });

  it("closes with 4400 on a malformed message and keeps serving", async () => {
    const ws = await rawSocket();
    const code = closed(ws);
    ws.send("{not json");
    expect(await code).toBe(4400);
    await stillServing();
  });

  it("closes with 4408 when connection_init never comes", async () => {
    const ws = await rawSocket();
    expect(await closed(ws)).toBe(4408);
  }, WS_LIMITS.connectionInitWaitMs + 10_000);

  it("closes with 4429 on a second connection_init", async () => {
    const ws = await rawSocket();
    const code = closed(ws);
    ws.send(JSON.stringify({ type: "connection_init" }));
    ws.send(JSON.stringify({ type: "connection_init" }));
    expect(await code).toBe(4429);
  });

  it("caps operations per socket with a RATE_LIMITED error, leaving the socket usable", async () => {
    const c = client();
    const subs: ReturnType<typeof collect>[] = [];
    for (let i = 0; i <= WS_LIMITS.maxOperationsPerSocket; i++) {
      const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "hacker-news", endUserId: `cap-${i}` });
      subs.push(collect(c, sessionToken));
      await expect.poll(() => subs[i]!.events.length + (subs[i]!.error ? 1 : 0)).toBe(1);
    }
    const refused = subs.at(-1)!;
    expect(refused.error?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect(subs.slice(0, -1).every((s) => s.events[0]?.status === "PENDING")).toBe(true);
  });
});

/** Messages of the graphql-transport-ws protocol, spoken by hand to control exactly what is sent. */
type Message = { type: string; id?: string; payload?: any };

/** A raw socket past connection_init (authenticated with `token`), collecting what the server sends. */
async function initialisedSocket(url: string, token: string, opts: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, "graphql-transport-ws", opts);
  const received: Message[] = [];
  const waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as Message;
    received.push(message);
    for (const w of waiters.splice(0)) (w.match(message) ? w.resolve(message) : waiters.push(w));
  });
  const next = (match: (m: Message) => boolean) =>
    new Promise<Message>((resolve) => {
      const seen = received.find(match);
      if (seen) resolve(seen);
      else waiters.push({ match, resolve });
    });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await next((m) => m.type === "connection_ack");
  return {
    ws,
    received,
    /** Subscribes to the socket's session and resolves with its first answer (an event or an error). */
    async watch(id = "1"): Promise<Message> {
      ws.send(JSON.stringify({ id, type: "subscribe", payload: { query: SUB_AUTHENTICATED } }));
      return next((m) => m.id === id && (m.type === "next" || m.type === "error"));
    },
    complete(id = "1") {
      ws.send(JSON.stringify({ id, type: "complete" }));
    },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      const gone = new Promise<void>((resolve) => ws.once("close", () => resolve()));
      ws.close();
      await gone;
    },
  };
}

/** The first answer's status, or its error code. */
const outcome = (m: Message) => (m.type === "next" ? (m.payload.errors?.[0]?.extensions?.code ?? m.payload.data.hostedConnectionSession.status) : m.payload?.[0]?.extensions?.code);

/** Reads one metric of the instance's /metrics (a loopback caller may). */
async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`${name} missing from /metrics`);
  return Number(line.split(" ").at(-1));
}

/**
 * The teardown server's ping interval: short, so a test sees several, yet long enough that a busy
 * machine's pause (client and server share this process) is not taken for a silent peer.
 */
const PING_MS = 2_000;

describe("a bad credential in connection_init", () => {
  const BAD = {
    "a malformed Authorization value": "Basic dXNlcjpwYXNz",
    "a Bearer with nothing after it": "Bearer ",
    "a credential with characters outside ASCII": "Bearer ort_live_ünïcødé",
    "an over-long credential": `Bearer ${"x".repeat(5_000)}`,
    "an unknown API key": `Bearer ort_live_${"D".repeat(43)}`,
    "a malformed API key": "Bearer ort_live_short",
    "an unknown session token": `Bearer ort_sess_${"E".repeat(43)}`,
    "a malformed session token": "Bearer ort_sess_short",
  };

  for (const [what, authorization] of Object.entries(BAD)) {
    it(`answers ${what} with UNAUTHENTICATED for the operation: no 4500 close, nothing on stderr`, async () => {
      const stderr = vi.spyOn(process.stderr, "write");
      const consoleError = vi.spyOn(console, "error");
      try {
        const ws = new WebSocket(wsUrl(), "graphql-transport-ws");
        const received: Message[] = [];
        let closeCode: number | undefined;
        ws.on("message", (data) => received.push(JSON.parse(String(data))));
        ws.on("close", (code) => (closeCode = code));
        await new Promise((resolve) => ws.once("open", resolve));
        ws.send(JSON.stringify({ type: "connection_init", payload: { authorization } }));
        await expect.poll(() => received.some((m) => m.type === "connection_ack")).toBe(true);
        // Twice: the socket stays usable after the refusal.
        for (const id of ["1", "2"]) {
          ws.send(JSON.stringify({ id, type: "subscribe", payload: { query: SUB_AUTHENTICATED } }));
          await expect.poll(() => received.find((m) => m.id === id && (m.type === "error" || m.type === "next"))).toBeDefined();
          const answer = received.find((m) => m.id === id)!;
          const errors = answer.type === "error" ? answer.payload : answer.payload.errors;
          expect(errors.map((e: any) => e.extensions)).toEqual([{ code: "UNAUTHENTICATED" }]);
          expect(JSON.stringify(errors)).not.toMatch(/\bat \S+:\d+:\d+/); // no stack in the answer either
        }
        expect(closeCode).toBeUndefined();
        expect(ws.readyState).toBe(ws.OPEN);
        ws.close();
        expect(consoleError).not.toHaveBeenCalled();
        expect(stderr).not.toHaveBeenCalled();
      } finally {
        stderr.mockRestore();
        consoleError.mockRestore();
      }
    });
  }
});

describe("closed subscriptions are torn down", () => {
  let own: TestServer;
  let ownOrg: { apiKey: string };
  /** How many times the watcher has read each session's row since the server started. */
  const sessionReads = new Map<string, number>();
  const ownWsUrl = () => `${own.url.replace("http", "ws")}/graphql`;

  beforeAll(async () => {
    own = await startTestServer({ webSocketPingIntervalMs: PING_MS });
    ownOrg = await own.createOrganization("Teardown org");
    // Count the watcher's reads of a session row: a zombie watcher re-reads its session on every resync.
    const prisma = own.services.prisma;
    const delegate = prisma.hostedConnectionSession;
    const counted = new Proxy(delegate, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop !== "findUniqueOrThrow") return typeof value === "function" ? value.bind(target) : value;
        return (args: { where: { id?: string } }) => {
          if (args.where.id) sessionReads.set(args.where.id, (sessionReads.get(args.where.id) ?? 0) + 1);
          return (value as (a: unknown) => unknown).call(target, args);
        };
      },
    });
    own.services.prisma = new Proxy(prisma, {
      get(target, prop) {
        if (prop === "hostedConnectionSession") return counted;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  });
  afterAll(async () => {
    await own?.stop();
  });

  /**
   * A socket watching the session once a slot is free: a refused attempt (RATE_LIMITED) is closed
   * and retried, since a slot comes back only once the server has seen the last socket go.
   */
  async function watchOnceFree(token: string) {
    let socket: Awaited<ReturnType<typeof initialisedSocket>> | undefined;
    await expect
      .poll(async () => {
        const candidate = await initialisedSocket(ownWsUrl(), token);
        const answer = outcome(await candidate.watch());
        if (answer === "PENDING") socket = candidate;
        else await candidate.close();
        return answer;
      })
      .toBe("PENDING");
    return socket!;
  }

  /** Subscribes over SSE once a slot is free; resolves with the first event's outcome after aborting the stream. */
  async function sseOnceFree(token: string) {
    await expect
      .poll(async () => {
        const controller = new AbortController();
        const res = await fetch(`${own.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: SUB_AUTHENTICATED }),
          signal: controller.signal,
        });
        expect(res.headers.get("content-type")).toContain("text/event-stream");
        const reader = res.body!.getReader();
        let text = "";
        while (!/data:.*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
        controller.abort();
        await reader.cancel().catch(() => {});
        return /"status":"(\w+)"/.exec(text)?.[1] ?? /"code":"(\w+)"/.exec(text)?.[1];
      })
      .toBe("PENDING");
  }

  it("frees a session's watcher slots when sockets close, with or without `complete` first", async () => {
    const { sessionToken } = await own.createSession(ownOrg.apiKey, { integrationSlug: "hacker-news", endUserId: "teardown-ws" });
    for (let i = 0; i < MAX_WATCHERS_PER_SESSION + 3; i++) {
      const socket = await watchOnceFree(sessionToken);
      if (i % 2 === 0) socket.complete();
      await socket.close();
    }
    await expect.poll(() => metric(own.url, "one_runtime_websocket_subscriptions")).toBe(0);
    expect(await metric(own.url, "one_runtime_websocket_connections")).toBe(0);
    expect(own.services.watcherSlots.held()).toBe(0);
  });

  it("frees the slot of a subscription completed on a socket that stays open, and the socket serves on", async () => {
    const { sessionToken } = await own.createSession(ownOrg.apiKey, { integrationSlug: "hacker-news", endUserId: "teardown-complete" });
    const socket = await initialisedSocket(ownWsUrl(), sessionToken);
    let op = 0;
    for (let i = 0; i < MAX_WATCHERS_PER_SESSION + 3; i++) {
      let id = "";
      // A refused attempt ends its operation; the slot is back once the last `complete` is handled.
      await expect.poll(async () => outcome(await socket.watch((id = `op-${op++}`)))).toBe("PENDING");
      socket.complete(id);
    }
    await expect.poll(() => metric(own.url, "one_runtime_websocket_subscriptions")).toBe(0);
    await socket.close();
  });

  it("frees the slot of an aborted SSE subscription", async () => {
    const { sessionToken } = await own.createSession(ownOrg.apiKey, { integrationSlug: "hacker-news", endUserId: "teardown-sse" });
    for (let i = 0; i < MAX_WATCHERS_PER_SESSION + 3; i++) await sseOnceFree(sessionToken);
    const next = await watchOnceFree(sessionToken);
    await next.close();
    await expect.poll(() => own.services.watcherSlots.held()).toBe(0);
  });

  it("cuts a socket that stops answering pings, freeing its subscription's slot and gauge", async () => {
    const { sessionToken } = await own.createSession(ownOrg.apiKey, { integrationSlug: "hacker-news", endUserId: "half-open" });
    // autoPong off: the client is there but silent, like a peer behind a balancer that dropped it.
    const silent = await initialisedSocket(ownWsUrl(), sessionToken, { autoPong: false });
    let pings = 0;
    silent.ws.on("ping", () => pings++);
    const cut = new Promise<number>((resolve) => silent.ws.once("close", (code) => resolve(code)));
    expect(outcome(await silent.watch())).toBe("PENDING");
    expect(await cut).toBe(1006); // terminated: no close frame
    expect(pings).toBeGreaterThan(0);
    await expect.poll(() => metric(own.url, "one_runtime_websocket_subscriptions")).toBe(0);
    expect(await metric(own.url, "one_runtime_websocket_connections")).toBe(0);
    expect(own.services.watcherSlots.held()).toBe(0);
  });

  it("keeps a client that answers pings connected across many intervals, still delivering changes", async () => {
    const { sessionToken } = await own.createSession(ownOrg.apiKey, { integrationSlug: "hacker-news", endUserId: "answering" });
    const socket = await initialisedSocket(ownWsUrl(), sessionToken);
    let pings = 0;
    socket.ws.on("ping", () => pings++);
    expect(outcome(await socket.watch())).toBe("PENDING");
    await expect.poll(() => pings, { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    await own.gql(COMPLETE, {}, { token: sessionToken });
    await expect.poll(() => socket.received.filter((m) => m.type === "next").map((m) => m.payload.data.hostedConnectionSession.status)).toEqual(["PENDING", "CONNECTED"]);
    await socket.close();
  });

  it("stops reading the session from the database once its socket is gone", async () => {
    const { sessionToken, sessionId } = await own.createSession(ownOrg.apiKey, { integrationSlug: "hacker-news", endUserId: "teardown-reads" });
    const socket = await initialisedSocket(ownWsUrl(), sessionToken);
    expect(outcome(await socket.watch())).toBe("PENDING");
    await socket.close();
    await expect.poll(() => metric(own.url, "one_runtime_websocket_subscriptions")).toBe(0);
    const readsAfterClose = sessionReads.get(sessionId) ?? 0;
    expect(readsAfterClose).toBeGreaterThan(0); // the counter sees this watcher's reads
    // An event for the session: a watcher still alive would read the row again.
    own.services.events.publish(sessionId);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sessionReads.get(sessionId)).toBe(readsAfterClose);
  });
});

describe("the session events' watch", () => {
  it("hands a watcher the row a lone change carried, and nothing when changes piled up", async () => {
    const events = createSessionEvents();
    const controller = new AbortController();
    const watch = events.watch("s-2", { signal: controller.signal });
    const first = watch.next();
    const row = { id: "s-2", updatedAt: new Date() };
    events.publish("s-2", row);
    expect((await first).value).toBe(row);
    events.publish("s-2", { id: "s-2", updatedAt: new Date(1) });
    events.publish("s-2", { id: "s-2", updatedAt: new Date(2) });
    // Two changes since the last look: which row is newest is the database's to say.
    expect((await watch.next()).value).toBeUndefined();
    controller.abort();
    expect((await watch.next()).done).toBe(true);
  });

  it("carries no row over a transport that can lose events (Redis): watchers read again", async () => {
    const events = createSessionEvents(new EventTarget(), async () => {}, REDIS_RESYNC);
    const controller = new AbortController();
    const watch = events.watch("s-3", { signal: controller.signal });
    const first = watch.next();
    events.publish("s-3", { id: "s-3", updatedAt: new Date() });
    expect(await first).toEqual({ done: false, value: undefined });
    controller.abort();
  });

  it("ends while waiting as soon as its signal aborts, and stops listening", async () => {
    const target = new EventTarget();
    let listeners = 0;
    const counting = {
      addEventListener: (type: string, l: (e: Event) => void) => (listeners++, target.addEventListener(type, l)),
      removeEventListener: (type: string, l: (e: Event) => void) => (listeners--, target.removeEventListener(type, l)),
      dispatchEvent: (e: Event) => target.dispatchEvent(e),
    };
    const events = createSessionEvents(counting);
    const controller = new AbortController();
    // In process there is no resync timer: only the abort can end this wait.
    const watch = events.watch("s-1", { signal: controller.signal });
    const first = watch.next();
    events.publish("s-1");
    expect(await first).toEqual({ done: false, value: undefined });
    const waiting = watch.next();
    expect(listeners).toBe(1);
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(listeners).toBe(0);
  });
});
