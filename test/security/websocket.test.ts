// Security matrix — graphql-ws on /graphql: no connection_init, a bad credential in it, too many
// operations or subscriptions, oversized and malformed frames, another organization's objects.
// Every frame here carries an operation that would change rows if it ran; each case asserts the
// refusal (a close code or a typed error for the operation) AND that nothing changed, and that
// the server still serves. Behaviour of the endpoint: test/subscriptions.test.ts.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { MAX_WATCHERS_PER_SESSION } from "../../server/sessions/watch.js";
import { WS_LIMITS } from "../../server/ws.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createSession, errorLogLines, OPENAI_KEY, organizationWithObjects, snapshot, unchangedBy, type Organization } from "./fixtures.js";

const CREATE = `mutation { createHostedConnectionSession(input: { integrationSlug: "openai", endUserId: "ws-attacker" }) { sessionToken } }`;
const COMPLETE = `mutation { completeHostedConnectionSession(input: { credentials: [{ key: "apiKey", value: "${OPENAI_KEY}" }] }) { status } }`;
const WATCH = `subscription($t: String) { hostedConnectionSession(sessionToken: $t) { id status } }`;

let server: TestServer;
let a: Organization;
let b: Organization;
const open: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestServer();
  a = await organizationWithObjects(server, "WS A");
  b = await organizationWithObjects(server, "WS B");
});
afterAll(async () => {
  for (const ws of open) ws.terminate();
  await server?.stop();
});

/** A raw graphql-transport-ws socket that records every message and its close code. */
async function socket() {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
  open.push(ws);
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = (predicate: (m: any) => boolean) => expect.poll(() => messages.find(predicate), { timeout: 30_000 }).toBeDefined().then(() => messages.find(predicate));
  return {
    ws,
    messages,
    closed,
    send: (m: unknown) => ws.send(typeof m === "string" ? m : JSON.stringify(m)),
    /** Sends connection_init and waits for the ack. */
    async init(payload?: unknown) {
      ws.send(JSON.stringify({ type: "connection_init", ...(payload === undefined ? {} : { payload }) }));
      await next((m) => m.type === "connection_ack");
    },
    /** The first `next` or `error` message for one operation id. */
    result: (id: string) => next((m) => m.id === id && (m.type === "next" || m.type === "error")),
  };
}

/** Whatever the operation got: its errors (an `error` message, or errors in its first result). */
const errorsOf = (m: any) => (m.type === "error" ? m.payload : m.payload.errors);

async function stillServes() {
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}

describe("no connection_init", () => {
  it("a subscribe before connection_init closes 4401 and runs nothing", async () => {
    const s = await socket();
    const { code } = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: CREATE } });
      return s.closed;
    });
    expect(code).toBe(4401);
    expect(s.messages).toEqual([]);
    await stillServes();
  });

  it("no connection_init at all closes 4408 within the wait, nothing changed", async () => {
    const s = await socket();
    const { code } = await unchangedBy(server, () => s.closed);
    expect(code).toBe(4408);
  }, WS_LIMITS.connectionInitWaitMs + 60_000);
});

describe("a bad credential in connection_init", () => {
  // Finding 4 (a bad key closes 4500 with a stack on stderr): the intended answer is an
  // UNAUTHENTICATED error for the operation, or a 4403 close; never 4500. Fails until that fix lands.
  it.each([
    ["an unknown API key", { authorization: `Bearer ort_live_${"A".repeat(43)}` }],
    ["a malformed header", { authorization: "Bearer two words" }],
    ["another scheme", { authorization: "Basic dXNlcjpwYXNz" }],
    ["an over-long value", { authorization: `Bearer ${"x".repeat(10_000)}` }],
    ["a tampered session token", () => ({ authorization: `Bearer ${a.pending.sessionToken.slice(0, -1)}${a.pending.sessionToken.endsWith("A") ? "B" : "A"}` })],
    ["a number instead of a string", { authorization: 12345 }],
    ["an object instead of a string", { authorization: { toString: "Bearer x" } }],
    ["a value with a line break", { authorization: `Bearer ort_live_${"A".repeat(20)}\r\nX-Injected: 1` }],
    ["a value outside Latin-1", { authorization: "Bearer ort_live_clé🔑" }],
    ["a NUL byte", { authorization: `Bearer ort_live_${"A".repeat(20)}\u0000` }],
  ])("%s: refused at connection_init (4403) or the mutation gets UNAUTHENTICATED, never 4500, nothing changed", async (_name, payload) => {
    const s = await socket();
    const before = await snapshot(server);
    s.send({ type: "connection_init", payload: typeof payload === "function" ? payload() : payload });
    const acked = s.closed.then((c) => c);
    const init = await Promise.race([acked, expect.poll(() => s.messages.some((m) => m.type === "connection_ack"), { timeout: 30_000 }).toBe(true).then(() => "ack" as const)]);
    if (init === "ack") {
      s.send({ id: "1", type: "subscribe", payload: { query: COMPLETE } });
      const outcome = await Promise.race([s.result("1").then((m) => ({ errors: errorsOf(m), close: undefined })), s.closed.then((c) => ({ errors: undefined, close: c.code }))]);
      expect(outcome.close, "closed instead of refusing the operation").toBeUndefined();
      expect(outcome.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    } else {
      expect(init.code).toBe(4403);
    }
    expect(await snapshot(server)).toEqual(before);
    await stillServes();
  });

  it("a revoked API key: UNAUTHENTICATED for the operation, nothing changed", async () => {
    const extra = (await server.admin({ command: "create-api-key", organizationId: a.organizationId, name: "to revoke" })) as { apiKey: { id: string; key: string } };
    await server.admin({ command: "revoke-api-key", id: extra.apiKey.id });
    const s = await socket();
    await s.init({ authorization: `Bearer ${extra.apiKey.key}` });
    const m = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: CREATE } });
      return s.result("1");
    });
    expect(errorsOf(m)?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("too many operations", () => {
  it("beyond the operations one socket may run: RATE_LIMITED for the operation, nothing changed, the socket still usable", async () => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.apiKey}` });
    const tokens = [];
    for (let i = 0; i < WS_LIMITS.maxOperationsPerSocket; i++) tokens.push((await createSession(server, a.apiKey, { integrationSlug: "openai", endUserId: `ws-cap-${i}` })).sessionToken);
    for (const [i, t] of tokens.entries()) {
      s.send({ id: `w${i}`, type: "subscribe", payload: { query: WATCH, variables: { t } } });
      expect((await s.result(`w${i}`)).payload.data.hostedConnectionSession.status).toBe("PENDING");
    }
    const m = await unchangedBy(server, async () => {
      s.send({ id: "over", type: "subscribe", payload: { query: CREATE } });
      return s.result("over");
    });
    expect(errorsOf(m)?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
  });

  // Finding 1 (a subscription ended by its client is never torn down, so its slot stays taken):
  // fails until that fix lands.
  it("a subscription the client completes frees its slot: the next operation on the full socket runs", async () => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.apiKey}` });
    for (let i = 0; i < WS_LIMITS.maxOperationsPerSocket; i++) {
      const { sessionToken } = await createSession(server, a.apiKey, { integrationSlug: "openai", endUserId: `ws-free-${i}` });
      s.send({ id: `w${i}`, type: "subscribe", payload: { query: WATCH, variables: { t: sessionToken } } });
      await s.result(`w${i}`);
    }
    s.send({ id: "w0", type: "complete" });
    await expect.poll(async () => {
      const id = `retry-${s.messages.length}`;
      s.send({ id, type: "subscribe", payload: { query: `{ viewer { organization { id } } }` } });
      const answer = await s.result(id);
      return answer.type === "next" && answer.payload.data?.viewer?.organization?.id;
    }).toBe(a.organizationId);
  });

  it("beyond the watchers one session may have: RATE_LIMITED, nothing changed", async () => {
    const { sessionToken } = await createSession(server, b.apiKey, { integrationSlug: "openai", endUserId: "ws-watchers" });
    for (let i = 0; i < MAX_WATCHERS_PER_SESSION; i++) {
      const s = await socket();
      await s.init({ authorization: `Bearer ${sessionToken}` });
      s.send({ id: "1", type: "subscribe", payload: { query: WATCH } });
      expect((await s.result("1")).payload.data.hostedConnectionSession.status).toBe("PENDING");
    }
    const s = await socket();
    await s.init({ authorization: `Bearer ${sessionToken}` });
    const m = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: WATCH } });
      return s.result("1");
    });
    expect(errorsOf(m)?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });
});

describe("oversized and malformed frames", () => {
  it("a frame over the size limit closes 1009 and runs nothing", async () => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.apiKey}` });
    const { code } = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: CREATE, variables: { pad: "x".repeat(WS_LIMITS.maxPayloadBytes) } } });
      return s.closed;
    });
    expect(code).toBe(1009);
    await stillServes();
  });

  // Found with this matrix, of a kind with finding 4: graphql-ws reports the oversized frame with
  // console.error ("Internal error emitted on a WebSocket socket. Please check your
  // implementation.") — a client mistake must leave at most an info-level line. Fails until fixed.
  it("a frame over the size limit prints nothing on stderr", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const s = await socket();
      await s.init({ authorization: `Bearer ${a.apiKey}` });
      s.send({ id: "1", type: "subscribe", payload: { query: `{ __typename }`, variables: { pad: "x".repeat(WS_LIMITS.maxPayloadBytes) } } });
      expect((await s.closed).code).toBe(1009);
      await stillServes();
      expect(printed.mock.calls.map((c) => String(c[0]))).toEqual([]);
    } finally {
      printed.mockRestore();
    }
  });

  it.each([
    ["not JSON", `{"id":"1","type":"subscribe","payload":{"query":"${CREATE}"`],
    ["JSON but not a message", JSON.stringify([{ id: "1", type: "subscribe", payload: { query: CREATE } }])],
    ["an unknown message type", JSON.stringify({ id: "1", type: "execute", payload: { query: CREATE } })],
    ["a subscribe without an id", JSON.stringify({ type: "subscribe", payload: { query: CREATE } })],
    ["a subscribe without a query", JSON.stringify({ id: "1", type: "subscribe", payload: { variables: {} } })],
    ["a subscribe whose query is not a string", JSON.stringify({ id: "1", type: "subscribe", payload: { query: { kind: "Document" } } })],
    ["binary garbage", Buffer.from([0xff, 0xfe, 0x00, 0x01])],
  ])("%s closes 4400, runs nothing", async (_name, frame) => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.apiKey}` });
    await sendAndExpect4400(s, frame);
  });

  // Found with this matrix, of a kind with finding 4: graphql-ws throws on a well-formed message
  // of a type only the server sends, which closes 4500 with a stack on stderr. Fails until fixed.
  it.each(["connection_ack", "next", "error"])("a client message of a server-only type (%s) closes 4400, never 4500, runs nothing", async (type) => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.apiKey}` });
    const payload = type === "connection_ack" ? { query: CREATE } : type === "error" ? [{ message: CREATE }] : { data: null, query: CREATE };
    const { code } = await unchangedBy(server, async () => {
      s.send({ id: "1", type, payload });
      return s.closed;
    });
    expect(code).toBe(4400);
    await stillServes();
  });

  it("a connection_init whose payload is not an object closes 4400, and nothing runs after it", async () => {
    const s = await socket();
    const { code } = await unchangedBy(server, async () => {
      s.send({ type: "connection_init", payload: `Bearer ${a.apiKey}` });
      s.send({ id: "1", type: "subscribe", payload: { query: CREATE } });
      return s.closed;
    });
    expect(code).toBe(4400);
    expect(s.messages.filter((m) => m.id === "1")).toEqual([]);
  });

  async function sendAndExpect4400(s: Awaited<ReturnType<typeof socket>>, frame: string | Buffer) {
    const { code } = await unchangedBy(server, async () => {
      s.ws.send(frame);
      return s.closed;
    });
    expect(code).toBe(4400);
    await stillServes();
  }

  it("a second subscribe with an id already running closes 4409, the second runs nothing", async () => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.apiKey}` });
    s.send({ id: "1", type: "subscribe", payload: { query: WATCH, variables: { t: a.pending.sessionToken } } });
    await s.result("1");
    const { code } = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: CREATE } });
      return s.closed;
    });
    expect(code).toBe(4409);
  });
});

describe("another organization's objects", () => {
  it("a socket authenticated as A's session cannot watch B's session: FORBIDDEN, nothing changed", async () => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.pending.sessionToken}` });
    const m = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: WATCH, variables: { t: b.pending.sessionToken } } });
      return s.result("1");
    });
    expect(errorsOf(m)?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("a socket authenticated with A's API key cannot delete or read B's connection: answered as unknown, nothing changed", async () => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.apiKey}` });
    const [deleted, read] = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: `mutation($id: ID!) { deleteConnection(id: $id) { id } }`, variables: { id: b.connectionId } } });
      s.send({ id: "2", type: "subscribe", payload: { query: `query($id: ID!) { connection(id: $id) { id credentials { apiKey } } }`, variables: { id: b.connectionId } } });
      return [await s.result("1"), await s.result("2")];
    });
    expect(errorsOf(deleted)?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(read.payload).toEqual({ data: { connection: null } });
  });

  it("a socket authenticated as A's session cannot run a backend operation on B's objects: FORBIDDEN, nothing changed", async () => {
    const s = await socket();
    await s.init({ authorization: `Bearer ${a.pending.sessionToken}` });
    const m = await unchangedBy(server, async () => {
      s.send({ id: "1", type: "subscribe", payload: { query: `mutation { deleteConnection(id: "${b.connectionId}") { id } }` } });
      return s.result("1");
    });
    expect(errorsOf(m)?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

it("no refusal in this file was logged as an error (finding 4 logs one until its fix lands)", async () => {
  await stillServes();
  expect(errorLogLines(server)).toEqual([]);
});
