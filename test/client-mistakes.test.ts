// A client's mistakes are the client's: every malformed variable, document or request is a 4xx
// (400 to graphql-response+json) with a stable code, from anonymous callers too, and costs the
// server at most an info-level log line. Strings with control characters are refused at the edge
// for every String argument and input field of the schema (generated from it), over HTTP and
// WebSocket; no answer suggests a name ("Did you mean …?").
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from "graphql";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { schema } from "../server/schema/index.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let apiKey: string;
const answers: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  ({ apiKey } = await server.createOrganization("Mistakes Co"));
});
afterAll(async () => {
  await server?.stop();
});

type Answer = { status: number; body: any; text: string; contentType: string | null; lines: { level: number; msg?: string }[] };

/**
 * Sends one raw request and returns its answer with every log line the server wrote for it (up to
 * and including its request line, found by its request id).
 */
async function send(body: string, opts: { token?: string; headers?: Record<string, string>; method?: string } = {}): Promise<Answer> {
  const from = server.logs.length;
  const res = await fetch(`${server.url}/graphql`, {
    method: opts.method ?? "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body,
  });
  const text = await res.text();
  answers.push(text);
  const requestId = res.headers.get("x-request-id")!;
  await expect.poll(() => server.logs.slice(from).some((l) => l.includes(requestId) && l.includes('"msg":"request"'))).toBe(true);
  const lines = server.logs.slice(from).map((l) => JSON.parse(l));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, contentType: res.headers.get("content-type"), lines };
}

const gql = (query: string, variables?: Record<string, unknown>, token?: string) => send(JSON.stringify({ query, variables }), { token });

/** The refusal every case expects: a 400, no data, every error with `code`, nothing above info in the log. */
function expectRefused(a: Answer, code: string) {
  expect(a.status, a.text).toBe(400);
  expect(a.contentType).toMatch(/^application\/graphql-response\+json/);
  expect(a.body.data).toBeUndefined();
  expect(a.body.errors.length).toBeGreaterThan(0);
  for (const e of a.body.errors) expect(e.extensions.code, a.text).toBe(code);
  expect(a.lines.filter((l) => l.level > 30), "a client's mistake was logged above info").toEqual([]);
  expect(a.text).not.toMatch(/did you mean/i);
}

const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status } }`;
const CREATE = `mutation($input: CreateHostedConnectionSessionInput!) { createHostedConnectionSession(input: $input) { sessionToken } }`;
const FIRST = `query($n: Int) { integrations(first: $n) { totalCount } }`;
const AUTH_TYPE = `query($a: AuthType) { integrations(authType: $a) { totalCount } }`;
const VALUE = "value-that-must-not-be-echoed-7d41";
const deep = (n: number, open: string, close: string, inner = "") => `${open.repeat(n)}${inner}${close.repeat(n)}`;

describe("variables of the wrong shape are 400 BAD_USER_INPUT, anonymous or not", () => {
  const cases: [string, string, string][] = [
    ["a string for an Int", FIRST, JSON.stringify({ n: VALUE })],
    ["a float for an Int", FIRST, JSON.stringify({ n: 1.5 })],
    ["an Int beyond 32 bits", FIRST, JSON.stringify({ n: 2 ** 31 })],
    ["an object for an Int", FIRST, JSON.stringify({ n: { v: VALUE } })],
    ["a bad enum value", AUTH_TYPE, JSON.stringify({ a: "OAUTH" })],
    ["an enum value in the wrong case", AUTH_TYPE, JSON.stringify({ a: "oauth2" })],
    ["a number for an enum", AUTH_TYPE, JSON.stringify({ a: 2 })],
    ["an unknown input field", COMPLETE, JSON.stringify({ input: { credentials: [{ key: "apiKey", value: VALUE, extra: VALUE }] } })],
    ["an unknown top-level input field", CREATE, JSON.stringify({ input: { integrationSlug: "openai", endUserId: "u", endUserIdd: VALUE } })],
    ["a non-object list item", COMPLETE, JSON.stringify({ input: { credentials: [VALUE] } })],
    ["a number for a String", COMPLETE, JSON.stringify({ input: { credentials: [{ key: "apiKey", value: 12345 }] } })],
    ["a list for a String", COMPLETE, JSON.stringify({ input: { credentials: [{ key: "apiKey", value: [VALUE] }] } })],
    ["an object for a String", COMPLETE, JSON.stringify({ input: { credentials: [{ key: "apiKey", value: { nested: VALUE } }] } })],
    ["a string for an input object", COMPLETE, JSON.stringify({ input: VALUE })],
    ["a missing required input field", CREATE, JSON.stringify({ input: { integrationSlug: "openai" } })],
    ["null for a required input field", CREATE, JSON.stringify({ input: { integrationSlug: "openai", endUserId: null } })],
    ["null for a non-null variable", COMPLETE, JSON.stringify({ input: null })],
    ["a missing non-null variable", COMPLETE, JSON.stringify({})],
    ["a boolean for an ID", `query($id: ID!) { connection(id: $id) { id } }`, JSON.stringify({ id: true })],
    ["100k-deep arrays for an enum", AUTH_TYPE, `{"a":${deep(100_000, "[", "]")}}`],
    ["100k-deep arrays in a list of inputs", COMPLETE, `{"input":{"credentials":${deep(100_000, "[", "]")}}}`],
    ["40k-deep objects for an input", COMPLETE, `{"input":${deep(40_000, '{"a":', "}", "1")}}`],
  ];

  it.each(cases)("%s", async (_name, query, variables) => {
    for (const token of [apiKey, undefined]) {
      const a = await send(`{"query":${JSON.stringify(query)},"variables":${variables}}`, { token });
      expectRefused(a, "BAD_USER_INPUT");
      expect(a.text, "the value was echoed").not.toContain(VALUE);
      expect(a.body.errors[0].extensions.fieldErrors).toEqual([{ field: expect.any(String), message: expect.any(String) }]);
    }
  });

  it("each problem is named by its path and expected type", async () => {
    const a = await gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: VALUE, extra: VALUE }] } }, apiKey);
    expect(a.body.errors[0].message).toBe('Variable "$input.credentials[0]" got an invalid value: Field "extra" is not defined by type "CredentialValueInput".');
    const b = await gql(FIRST, { n: VALUE });
    expect(b.body.errors[0].message).toBe('Variable "$n" got an invalid value: Expected a value of type "Int".');
    expect(b.body.errors[0].extensions.fieldErrors).toEqual([{ field: "n", message: 'Expected a value of type "Int".' }]);
  });

  it("application/json callers get the same errors with 200, as GraphQL over HTTP asks", async () => {
    const a = await send(JSON.stringify({ query: FIRST, variables: { n: VALUE } }), { headers: { accept: "application/json" } });
    expect(a.status).toBe(200);
    expect(a.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(a.lines.filter((l) => l.level > 30)).toEqual([]);
  });
});

describe("documents the server cannot run are 400 with a GRAPHQL_ code", () => {
  it.each([
    ["a syntax error", `{ integrations(`, "GRAPHQL_PARSE_FAILED"],
    ["an unknown field", `{ integratoins { totalCount } }`, "GRAPHQL_VALIDATION_FAILED"],
    ["an unknown argument", `{ integration(slg: "x") { name } }`, "GRAPHQL_VALIDATION_FAILED"],
    ["a bad enum literal", `{ integrations(authType: OAUTH) { totalCount } }`, "GRAPHQL_VALIDATION_FAILED"],
    ["a string literal for an Int", `{ integrations(first: "ten") { totalCount } }`, "GRAPHQL_VALIDATION_FAILED"],
    ["an unknown input field literal", `mutation { completeHostedConnectionSession(input: { connectionNam: "x" }) { status } }`, "GRAPHQL_VALIDATION_FAILED"],
    ["an unknown variable type", `query($a: AuthTyp) { integrations(authType: $a) { totalCount } }`, "GRAPHQL_VALIDATION_FAILED"],
  ])("%s", async (_name, query, code) => {
    expectRefused(await gql(query, undefined, apiKey), code);
  });
});

describe("requests that are not GraphQL requests are 4xx BAD_REQUEST", () => {
  it.each([
    ["a body that is not JSON", `{"query": "{ __typename }", "variables": {"secret": "${VALUE}"`, 400],
    ["a body that is not an object", `"${VALUE}"`, 400],
    ["no query", `{"variables": {}}`, 400],
    ["a query that is not a string", `{"query": 1}`, 400],
    ["variables that are not an object", `{"query": "{ __typename }", "variables": ["${VALUE}"]}`, 400],
  ])("%s", async (_name, body, status) => {
    const a = await send(body);
    expect(a.status).toBe(status);
    expect(a.body.errors[0].extensions.code).toBe("BAD_REQUEST");
    expect(a.lines.filter((l) => l.level > 30)).toEqual([]);
    // The JSON parser's message quotes the body: it is not passed on.
    expect(a.text).not.toContain(VALUE);
    expect(a.body.errors[0].extensions.originalError?.message).toBeUndefined();
  });

  it("a method other than GET and POST is 405 BAD_REQUEST", async () => {
    const a = await send(JSON.stringify({ query: "{ __typename }" }), { method: "PUT" });
    expect(a.status).toBe(405);
    expect(a.body.errors[0].extensions.code).toBe("BAD_REQUEST");
  });
});

// ---------------------------------------------------------------------------------------------
// Control characters: every String (and ID) argument and input field, found in the schema.

type Target = { operation: "query" | "mutation"; field: GraphQLField<unknown, unknown>; arg: GraphQLArgument; path: string[]; coordinate: string };

/** A literal GraphQL value for `type`, with `bad` at `path` (input field names inside it). */
function literal(type: GraphQLInputType, path: string[], bad: string): string {
  const t = getNullableType(type);
  if (isListType(t)) return `[${literal(t.ofType, path, bad)}]`;
  if (isInputObjectType(t)) {
    const fields = Object.values(t.getFields()).filter((f) => isNonNullType(f.type) || f.name === path[0]);
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type, f.name === path[0] ? path.slice(1) : [], bad)}`).join(", ")} }`;
  }
  if (isEnumType(t)) return t.getValues()[0]!.name;
  if (path.length === 0 && isScalarType(t) && (t.name === "String" || t.name === "ID")) return JSON.stringify(bad);
  if (t.name === "Int") return "60";
  if (t.name === "Boolean") return "true";
  return JSON.stringify("x");
}

/** The same value as JSON, for a variable. */
const asJson = (type: GraphQLInputType, path: string[], bad: string): unknown => {
  const t = getNullableType(type);
  if (isListType(t)) return [asJson(t.ofType, path, bad)];
  if (isInputObjectType(t)) {
    const fields = Object.values(t.getFields()).filter((f) => isNonNullType(f.type) || f.name === path[0]);
    return Object.fromEntries(fields.map((f) => [f.name, asJson(f.type, f.name === path[0] ? path.slice(1) : [], bad)]));
  }
  if (isEnumType(t)) return t.getValues()[0]!.name;
  if (path.length === 0 && (t.name === "String" || t.name === "ID")) return bad;
  if (t.name === "Int") return 60;
  if (t.name === "Boolean") return true;
  return "x";
};

/** Every String or ID argument and input field (one level of lists and nesting, as the schema has). */
function stringTargets(): Target[] {
  const targets: Target[] = [];
  const visit = (operation: Target["operation"], field: GraphQLField<unknown, unknown>, arg: GraphQLArgument, type: GraphQLInputType, path: string[], coordinate: string) => {
    const named = getNamedType(type);
    if (isInputObjectType(named)) {
      for (const f of Object.values(named.getFields())) visit(operation, field, arg, f.type, [...path, f.name], `${named.name}.${f.name}`);
    } else if (named.name === "String" || named.name === "ID") targets.push({ operation, field, arg, path, coordinate });
  };
  for (const [operation, root] of [["query", schema.getQueryType()], ["mutation", schema.getMutationType()]] as const) {
    for (const field of Object.values((root as GraphQLObjectType).getFields())) {
      for (const arg of field.args) visit(operation, field, arg, arg.type, [], `${field.name}(${arg.name}:)`);
    }
  }
  return targets;
}

const TARGETS = stringTargets();
const selection = (field: GraphQLField<unknown, unknown>) => (isScalarType(getNamedType(field.type)) ? "" : "{ __typename }");

/** One call of the target's field, with `bad` in the target's place, as a literal or as a variable. */
function call(t: Target, bad: string, as: "literal" | "variable") {
  const others = t.field.args.filter((a) => a !== t.arg && isNonNullType(a.type));
  const args = others.map((a) => `${a.name}: ${literal(a.type, [], "x")}`);
  if (as === "literal") return { query: `${t.operation} { ${t.field.name}(${[...args, `${t.arg.name}: ${literal(t.arg.type, t.path, bad)}`].join(", ")}) ${selection(t.field)} }` };
  return {
    query: `${t.operation}($v: ${t.arg.type}) { ${t.field.name}(${[...args, `${t.arg.name}: $v`].join(", ")}) ${selection(t.field)} }`,
    variables: { v: asJson(t.arg.type, t.path, bad) },
  };
}

describe("strings with control characters are refused at the edge, for every String argument and input field", () => {
  it("the schema has the arguments and fields this covers", () => {
    const names = TARGETS.map((t) => `${t.field.name}.${[t.arg.name, ...t.path].join(".")}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "connections.endUserId",
        "connections.integrationSlug",
        "configureIntegration.input.oauthClientId",
        "configureIntegration.input.oauthClientSecret",
        "configureIntegration.input.scopes",
        "createHostedConnectionSession.input.endUserName",
        "completeHostedConnectionSession.input.credentials.value",
        "startHostedConnectionAuthorization.input.userInputs.key",
        "connection.id",
      ]),
    );
    expect(TARGETS.length).toBeGreaterThanOrEqual(25);
  });

  it.each(TARGETS.map((t) => [`${t.field.name}(${[t.arg.name, ...t.path].join(".")})`, t] as const))("%s: NUL, as a literal and as a variable", async (_name, target) => {
    for (const as of ["literal", "variable"] as const) {
      const a = await send(JSON.stringify(call(target, "a\u0000b", as)), { token: apiKey });
      expectRefused(a, "BAD_USER_INPUT");
    }
  });

  it.each([
    ["a tab", "Ada\tLovelace"],
    ["a line feed", "Ada\nLovelace"],
    ["an escape", "Ada\u001b[31m"],
    ["a unit separator", "Ada\u001f"],
    ["a lone surrogate", "Ada\ud800"],
  ])("%s in a single-line field is refused", async (_name, bad) => {
    const a = await gql(CREATE, { input: { integrationSlug: "openai", endUserId: "u-ctl", endUserName: bad } }, apiKey);
    expectRefused(a, "BAD_USER_INPUT");
    expect(a.body.errors[0].extensions.fieldErrors).toEqual([{ field: "endUserName", message: expect.stringMatching(/^Must /) }]);
  });

  it("a credential value may span lines (a PEM key, a JSON service account): tab, LF and CR pass the edge", async () => {
    const { sessionToken } = await server.createSession(apiKey, { integrationSlug: "lemlist", endUserId: "u-pem" });
    const pem = "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n\tBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----";
    const a = await gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: pem }] } }, sessionToken);
    expect(a.body).toEqual({ data: { completeHostedConnectionSession: { status: "CONNECTED" } } });
  });

  it("a credential value with any other control character is refused", async () => {
    const { sessionToken } = await server.createSession(apiKey, { integrationSlug: "lemlist", endUserId: "u-nul" });
    for (const bad of ["key\u0000", "key\u0007", "key\u000b"]) {
      const a = await gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: bad }] } }, sessionToken);
      expectRefused(a, "BAD_USER_INPUT");
    }
    const state = await gql(`{ hostedConnectionSession { status } }`, undefined, sessionToken);
    expect(state.body.data.hostedConnectionSession.status).toBe("PENDING");
  });

  it("a literal's line break in a credential value passes too, elsewhere it does not", async () => {
    const { sessionToken } = await server.createSession(apiKey, { integrationSlug: "lemlist", endUserId: "u-lit" });
    const refused = await gql(`mutation { completeHostedConnectionSession(input: { connectionName: "a\\nb", credentials: [{ key: "apiKey", value: "k" }] }) { status } }`, undefined, sessionToken);
    expectRefused(refused, "BAD_USER_INPUT");
    expect(refused.body.errors[0].extensions.fieldErrors).toEqual([{ field: "connectionName", message: "Must not contain control characters." }]);
    const ok = await gql(`mutation { completeHostedConnectionSession(input: { credentials: [{ key: "apiKey", value: "line one\\nline two" }] }) { status } }`, undefined, sessionToken);
    expect(ok.body).toEqual({ data: { completeHostedConnectionSession: { status: "CONNECTED" } } });
  });
});

describe("over WebSocket", () => {
  const clients: Client[] = [];
  afterAll(async () => {
    for (const c of clients) await c.dispose();
  });
  const client = (token?: string) => {
    const c = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: token ? { authorization: `Bearer ${token}` } : {} });
    clients.push(c);
    return c;
  };
  /** The errors one operation ends with, whether as a result or as graphql-ws's error message. */
  const errorsOf = (c: Client, payload: { query: string; variables?: Record<string, unknown> }) =>
    new Promise<any[]>((resolve) => {
      c.subscribe(payload, { next: (v) => resolve([...(v.errors ?? [])]), error: (e) => resolve(Array.isArray(e) ? e : [e]), complete: () => resolve([]) });
    });

  it.each([
    ["a string for an Int in a query", { query: FIRST, variables: { n: VALUE } }],
    ["an unknown input field in a mutation", { query: COMPLETE, variables: { input: { credentials: [{ key: "apiKey", value: VALUE, extra: VALUE }] } } }],
    ["NUL in a subscription's variable", { query: `subscription($t: String) { hostedConnectionSession(sessionToken: $t) { status } }`, variables: { t: "ort_sess_\u0000" } }],
    ["NUL in a literal", { query: `{ connections(endUserId: "a\\u0000b") { totalCount } }` }],
  ])("%s: BAD_USER_INPUT, no HTTP details, nothing above info in the log", async (_name, payload) => {
    const from = server.logs.length;
    const errors = await errorsOf(client(apiKey), payload);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e.extensions.code).toBe("BAD_USER_INPUT");
      expect(e.extensions.http).toBeUndefined();
    }
    expect(JSON.stringify(errors)).not.toContain(VALUE);
    expect(server.logs.slice(from).map((l) => JSON.parse(l)).filter((l) => l.level > 30)).toEqual([]);
  });
});

describe("no suggestions", () => {
  it("no answer in this file suggested a name", () => {
    expect(answers.length).toBeGreaterThan(50);
    for (const text of answers) expect(text).not.toMatch(/did you mean/i);
  });

  it.each([
    ["a bad enum literal", `{ integrations(authType: OAUTH) { totalCount } }`, undefined],
    ["a bad enum variable", AUTH_TYPE, { a: "OAUTH" }],
    ["a misspelt field", `{ integratoins { totalCount } }`, undefined],
    ["a misspelt argument", `{ integrations(frist: 1) { totalCount } }`, undefined],
    ["a misspelt input field", COMPLETE, { input: { connectionNam: "x" } }],
    ["a misspelt input field literal", `mutation { completeHostedConnectionSession(input: { connectionNam: "x" }) { status } }`, undefined],
    ["a misspelt type", `query($a: AuthTyp) { integrations(authType: $a) { totalCount } }`, undefined],
  ])("%s names no alternative", async (_name, query, variables) => {
    const a = await gql(query, variables, apiKey);
    expect(a.status).toBe(400);
    expect(a.text).not.toMatch(/did you mean|OAUTH2|"integrations"|"first"|"connectionName"/i);
  });
});
