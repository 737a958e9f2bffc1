// Security matrix — a bounded, seeded fuzz run (fast-check). GraphQL variables: every operation
// the typed client and the popup send (client/operations/*.graphql, popup/operations/*.graphql),
// with values shaped by the schema and plain random JSON, with an API key and with a session
// token. WebSocket frames: random and message-shaped frames on authenticated and anonymous
// sockets. Whatever comes in: no 5xx, no INTERNAL_SERVER_ERROR, no close for an internal error,
// the server still serves /healthz, and no error-level log line. A failure prints its seed and
// the shrunk input; rerun with that seed to reproduce.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  print,
  typeFromAST,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type OperationDefinitionNode,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ERROR_CODES } from "../../server/errors.js";
import { schema } from "../../server/schema/index.js";
import { repoRoot } from "../support/instances.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createSession, errorLogLines, postBody } from "./fixtures.js";

const SEED = 20261127;
const RUNS = { variables: 300, frames: 200 };

type Operation = { name: string; kind: string; document: string; variables: { name: string; type: GraphQLInputType }[] };

/** Every named operation of a folder, each printed with just the fragments it uses. */
function operationsIn(folder: string): Operation[] {
  const dir = join(repoRoot, folder);
  const docs = readdirSync(dir).filter((f) => f.endsWith(".graphql")).map((f) => parse(readFileSync(join(dir, f), "utf8")));
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of docs) for (const def of d.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const used = (node: OperationDefinitionNode | FragmentDefinitionNode, into = new Set<string>()) => {
    visit(node, {
      FragmentSpread(spread) {
        if (into.has(spread.name.value)) return;
        into.add(spread.name.value);
        used(fragments.get(spread.name.value)!, into);
      },
    });
    return into;
  };
  return docs.flatMap((d) =>
    d.definitions
      .filter((def): def is OperationDefinitionNode => def.kind === Kind.OPERATION_DEFINITION)
      .map((op) => {
        const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [op, ...[...used(op)].map((n) => fragments.get(n)!)] };
        const variables = (op.variableDefinitions ?? []).map((v) => ({ name: v.variable.name.value, type: typeFromAST(schema, v.type as never) as GraphQLInputType }));
        return { name: op.name!.value, kind: op.operation, document: print(document), variables };
      }),
  );
}

/** Anything JSON can carry, strings of any code point (NUL and control characters included). */
const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: "binary" });
const SLUGS = ["openai", "twilio", "hacker-news", "oauth2-sandbox", "hubspot", "shopify", "no-such-tool"];

/** A value for one input type: mostly the right shape with hostile leaves, sometimes anything at all. */
function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  const typed = (): fc.Arbitrary<unknown> => {
    if (isNonNullType(type)) return valueFor(type.ofType, depth);
    if (isListType(type)) return fc.array(valueFor(type.ofType, depth + 1), { maxLength: depth > 1 ? 2 : 6 });
    const named = getNamedType(type);
    if (isInputObjectType(named)) {
      const fields = Object.fromEntries(Object.values(named.getFields()).map((f) => [f.name, valueFor(f.type, depth + 1)]));
      return fc.tuple(fc.record(fields, { requiredKeys: [] }), fc.option(fc.tuple(fc.string({ maxLength: 12 }), anyJson), { freq: 5 })).map(([o, extra]) => (extra ? { ...o, [extra[0]]: extra[1] } : o));
    }
    if (isEnumType(named)) return fc.constantFrom(...named.getValues().map((v) => v.name), "NOT_A_VALUE", "");
    switch (named.name) {
      case "Int":
        return fc.oneof(fc.integer({ min: -5, max: 150 }), fc.integer(), fc.double(), fc.constant(2 ** 53));
      case "Boolean":
        return fc.boolean();
      case "ID":
        return fc.oneof(fc.uuid(), fc.string({ unit: "binary", maxLength: 40 }));
      default:
        return fc.oneof(fc.constantFrom(...SLUGS, ""), fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 400 }), fc.emailAddress());
    }
  };
  const nullable = isNonNullType(type) ? typed() : fc.oneof({ arbitrary: typed(), weight: 4 }, { arbitrary: fc.constant(null), weight: 1 });
  return fc.oneof({ arbitrary: nullable, weight: 5 }, { arbitrary: anyJson, weight: 1 });
}

/** The variables for one operation: its own, shaped or not, or something that is not an object at all. */
const variablesFor = (op: Operation) =>
  fc.oneof(
    { arbitrary: fc.record(Object.fromEntries(op.variables.map((v) => [v.name, valueFor(v.type)])), { requiredKeys: [] }), weight: 9 },
    { arbitrary: anyJson, weight: 1 },
  );

/** Operations whose only effect ends the fuzzed session (cancel) or that stream forever (subscriptions) run elsewhere. */
const fuzzed = (op: Operation) => op.kind !== "subscription" && op.name !== "cancelSession";
const OPERATIONS = [...operationsIn("client/operations"), ...operationsIn("popup/operations")];

let server: TestServer;
let apiKey: string;
const sessionTokens: string[] = [];

beforeAll(async () => {
  // Rate limits off: the fuzz sends hundreds of requests with one session token on purpose.
  server = await startTestServer({
    env: { ONE_RUNTIME_SANDBOX: "true", ONE_RUNTIME_RATE_LIMIT_API_KEY: "off", ONE_RUNTIME_RATE_LIMIT_SESSION: "off", ONE_RUNTIME_RATE_LIMIT_ANONYMOUS: "off" },
  });
  ({ apiKey } = await server.createOrganization("Fuzz org"));
  for (const integrationSlug of ["openai", "twilio", "oauth2-sandbox", "hacker-news"]) {
    sessionTokens.push((await createSession(server, apiKey, { integrationSlug, endUserId: `fuzz-${integrationSlug}` })).sessionToken);
  }
});
afterAll(() => server?.stop());

const PUBLISHED_CODES: string[] = ERROR_CODES.map((c) => c.code).filter((c) => c !== "INTERNAL_SERVER_ERROR");

/**
 * What must never come back, whatever was sent: a 5xx, an INTERNAL_SERVER_ERROR, or an error
 * without one of the codes `enum ErrorCode` publishes (a client matches on those alone).
 */
function checkAnswer(status: number, text: string) {
  expect(status, text.slice(0, 500)).toBeLessThan(500);
  const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
  for (const e of body.errors ?? []) expect(PUBLISHED_CODES, text.slice(0, 500)).toContain(e.extensions?.code);
}

describe("GraphQL variables", () => {
  it("the operations cover both packages and carry variables to fuzz", () => {
    expect(OPERATIONS.filter(fuzzed).length).toBeGreaterThanOrEqual(15);
    expect(OPERATIONS.filter((o) => o.variables.length).length).toBeGreaterThanOrEqual(8);
  });

  // Findings 2 and 3 fail these properties until their fixes land: variable coercion errors are
  // masked as INTERNAL_SERVER_ERROR (and logged at error level), NUL bytes reach PostgreSQL, a
  // missing or null required variable is a 400 with no code at all, and `variables` that are not
  // an object get yoga's own code BAD_REQUEST, which `enum ErrorCode` does not publish.
  it.each([
    ["an API key", () => apiKey],
    ["a session token", () => sessionTokens],
  ])("every operation with random variables and %s: no 5xx, no INTERNAL_SERVER_ERROR", async (_name, credential) => {
    const tokens = [credential()].flat();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OPERATIONS.filter(fuzzed)).chain((op) => fc.tuple(fc.constant(op), variablesFor(op), fc.constantFrom(...tokens))),
        async ([op, variables, token]) => {
          const a = await postBody(server, JSON.stringify({ query: op.document, operationName: op.name, variables }), token);
          checkAnswer(a.status, JSON.stringify(a.body));
        },
      ),
      { seed: SEED, numRuns: RUNS.variables, endOnFailure: true },
    );
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe("WebSocket frames", () => {
  const documents = OPERATIONS.map((o) => o.document);
  const frame = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    anyJson.map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          id: fc.oneof(fc.constant("1"), fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null)),
          type: fc.constantFrom("subscribe", "complete", "ping", "pong", "connection_init", "next", "error", "connection_ack", "whatever"),
          payload: fc.oneof(
            anyJson,
            fc.record(
              { query: fc.oneof(fc.constantFrom(...documents), fc.string({ maxLength: 100 })), variables: fc.oneof(anyJson, fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 4 })), operationName: fc.option(fc.string({ maxLength: 20 })) },
              { requiredKeys: [] },
            ),
          ),
        },
        { requiredKeys: [] },
      )
      .map((m) => JSON.stringify(m)),
  );
  const init = fc.oneof(
    fc.constant(undefined),
    fc.constant("apiKey"),
    fc.constant("session"),
    fc.record({ authorization: fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 }).map((s) => `Bearer ${s}`)) }),
    anyJson,
  );

  /** Opens a socket, sends connection_init and one frame, then a ping; resolves once the pong or a close comes back. */
  async function exchange(initPayload: unknown, data: string) {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    const messages: any[] = [];
    const outcome = new Promise<{ closed?: number }>((resolve) => {
      ws.on("message", (raw) => {
        const m = JSON.parse(raw.toString());
        messages.push(m);
        if (m.type === "pong") resolve({});
      });
      ws.once("close", (code) => resolve({ closed: code }));
      ws.on("error", () => {});
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const payload = initPayload === "apiKey" ? { authorization: `Bearer ${apiKey}` } : initPayload === "session" ? { authorization: `Bearer ${sessionTokens[0]}` } : initPayload;
    ws.send(JSON.stringify({ type: "connection_init", ...(payload === undefined ? {} : { payload }) }));
    ws.send(data);
    ws.send(JSON.stringify({ type: "ping" }));
    const result = await outcome;
    // Answers to the frame may still be on their way after the pong: give them a moment, bounded.
    if (result.closed === undefined) await new Promise((r) => setTimeout(r, 20));
    ws.terminate();
    return { ...result, messages };
  }

  // Finding 4 fails this property until its fix lands: a credential Headers cannot hold (a line
  // break, a character outside Latin-1) closes 4500, and so does a message of a type only the
  // server sends (e.g. `connection_ack` from the client; found by this run).
  it("random frames on authenticated and anonymous sockets: never an internal-error close, never INTERNAL_SERVER_ERROR", async () => {
    await fc.assert(
      fc.asyncProperty(init, frame, async (initPayload, data) => {
        const { closed, messages } = await exchange(initPayload, data);
        expect(closed === undefined || ![1011, 4500].includes(closed), `closed ${closed}`).toBe(true);
        const codes = messages.flatMap((m) => (m.type === "error" ? m.payload : (m.payload?.errors ?? [])).map((e: any) => e?.extensions?.code));
        expect(codes).not.toContain("INTERNAL_SERVER_ERROR");
      }),
      { seed: SEED, numRuns: RUNS.frames, endOnFailure: true },
    );
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

// Findings 2 and 3: masked coercion errors are logged at error level until those fixes land.
it("no error-level log line after the whole run", () => {
  expect(errorLogLines(server).map((l) => l.slice(0, 300))).toEqual([]);
});
