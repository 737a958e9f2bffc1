// Query limits, body limits, GraphQL over HTTP (checked by hand and by graphql-http's audit), and
// what an error may reveal: unexpected errors are masked and suggestions are not given.
import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealCredentials } from "../server/connections/credentials.js";
import { MAX_BODY_BYTES } from "../server/http/responses.js";
import { QUERY_LIMITS } from "../server/yoga.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let apiKey: string;
let nodeEnv: string | undefined;

beforeAll(async () => {
  // Masking must not depend on NODE_ENV: start the server as a developer would run it.
  nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "development";
  server = await startTestServer();
  ({ apiKey } = await server.createOrganization("Limits Co"));
});
afterAll(async () => {
  process.env.NODE_ENV = nodeEnv;
  await server?.stop();
});

const nested = (levels: number) => {
  let q = "__typename";
  for (let i = 0; i < levels; i++) q = `... on Query { ${q} }`;
  return `{ ${q} }`;
};
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { organization { id } }`).join(" ")} }`;
const directives = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `t${i}: __typename @include(if: true)`).join(" ")} }`;
/** About n tokens: `tN: __typename` is three (repeating one field instead trips graphql-js's own merge guard). */
const tokens = (n: number) => `{ ${Array.from({ length: Math.floor((n - 2) / 3) }, (_, i) => `t${i}: __typename`).join(" ")} }`;
const costly = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: integrations(first: 100) { nodes { slug name categories credentialFields { key label secret } } }`).join(" ")} }`;

describe("query limits", () => {
  it.each([
    ["depth", nested(QUERY_LIMITS.maxDepth - 1), nested(QUERY_LIMITS.maxDepth + 1), "QUERY_TOO_DEEP"],
    ["aliases", aliases(QUERY_LIMITS.maxAliases), aliases(QUERY_LIMITS.maxAliases + 1), "TOO_MANY_ALIASES"],
    ["directives", directives(QUERY_LIMITS.maxDirectives), directives(QUERY_LIMITS.maxDirectives + 1), "TOO_MANY_DIRECTIVES"],
    ["tokens", tokens(QUERY_LIMITS.maxTokens - 10), tokens(QUERY_LIMITS.maxTokens + 10), "TOO_MANY_TOKENS"],
    ["cost", costly(1), costly(QUERY_LIMITS.maxAliases), "QUERY_TOO_COSTLY"],
  ])("%s: within the limit runs; beyond it is a 400 with its own code, and nothing runs", async (_name, within, beyond, code) => {
    const ok = await server.gql(within, {}, { token: apiKey });
    expect(ok.errors).toBeUndefined();
    expect(ok.status).toBe(200);
    const refused = await server.gql(beyond, {}, { token: apiKey });
    expect(refused.status).toBe(400);
    expect(refused.data).toBeUndefined();
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code }) })]);
  });

  it("introspection deeper than the depth limit is still served (GraphiQL's own query is deep)", async () => {
    let ofType = "name";
    for (let i = 0; i < QUERY_LIMITS.maxDepth; i++) ofType = `ofType { ${ofType} }`;
    const r = await server.gql(`{ __schema { types { fields { type { ${ofType} } } } } }`);
    expect(r.errors).toBeUndefined();
  });
});

describe("request bodies", () => {
  const bigBody = () => JSON.stringify({ query: "{ __typename }", variables: { pad: "x".repeat(MAX_BODY_BYTES) } });

  it("a body over the limit is 413 PAYLOAD_TOO_LARGE, and the server still serves", async () => {
    const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: bigBody() });
    expect(res.status).toBe(413);
    expect((await res.json()).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    const after = await server.gql(`{ __typename }`);
    expect(after).toMatchObject({ status: 200, data: { __typename: "Query" } });
  });

  it("a streamed body without a length is cut off at the limit too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES * 4) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const refusals = () => server.logs.filter((l) => l.includes('"path":"/graphql"') && l.includes('"status":413')).length;
    const before = refusals();
    const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body, duplex: "half" } as RequestInit).catch(
      (e: Error) => e,
    );
    // The server answers 413 and closes; a client still sending may see the reset instead of the answer.
    if (!(res instanceof Error)) expect(res.status).toBe(413);
    await expect.poll(refusals).toBe(before + 1);
    expect((await server.gql(`{ __typename }`)).status).toBe(200);
  });

  it("a body just under the limit is read", async () => {
    const query = `{ __typename }`;
    const pad = "x".repeat(MAX_BODY_BYTES - 200);
    const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables: { pad } }) });
    expect(res.status).toBe(200);
  });
});

describe("GraphQL over HTTP", () => {
  const get = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: "application/graphql-response+json", authorization: `Bearer ${apiKey}`, ...headers } });

  it("GET runs a query", async () => {
    const res = await get(`{ viewer { organization { name } } }`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { viewer: { organization: { name: "Limits Co" } } } });
  });

  it("GET refuses a mutation with 405 and Allow: POST", async () => {
    const res = await get(`mutation { deleteConnection(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("POST");
  });

  it("answers Accept: application/graphql-response+json with that media type, and application/json with JSON", async () => {
    expect((await get(`{ __typename }`)).headers.get("content-type")).toMatch(/^application\/graphql-response\+json/);
    expect((await get(`{ __typename }`, { accept: "application/json" })).headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("a parse error is 400 GRAPHQL_PARSE_FAILED", async () => {
    const r = await server.gql(`{ integrations(`);
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
  });

  it("a validation error is 400 and suggests no field names", async () => {
    const r = await server.gql(`{ integratoins { totalCount } }`, {}, { token: apiKey });
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(r.errors)).not.toMatch(/did you mean|"integrations"/i);
  });

  it("batching is off: an array body is refused", async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
    });
    expect(res.status).toBe(400);
  });

  // graphql-http is the reference implementation's audit suite: its MUST audits are the spec's
  // requirements; its SHOULD audits are recommendations we also meet today.
  const audits = () => serverAudits({ url: () => `${server.url}/graphql`, fetchFn: fetch });

  it("passes every MUST audit of graphql-http", async () => {
    const failed: string[] = [];
    for (const audit of audits().filter((a) => a.name.startsWith("MUST"))) {
      const result = await audit.fn();
      if (result.status !== "ok") failed.push(`${audit.name}: ${result.reason}`);
    }
    expect(failed).toEqual([]);
  });

  it("passes every SHOULD audit of graphql-http", async () => {
    const failed: string[] = [];
    for (const audit of audits().filter((a) => a.name.startsWith("SHOULD"))) {
      const result = await audit.fn();
      if (result.status !== "ok") failed.push(`${audit.name}: ${result.reason}`);
    }
    expect(failed).toEqual([]);
  });
});

describe("error masking", () => {
  it("an unexpected error is masked, even with NODE_ENV=development, and logged with its cause", async () => {
    expect(process.env.NODE_ENV).toBe("development");
    const { sessionToken } = await server.createSession(apiKey, { integrationSlug: "openai", endUserId: "u-mask" });
    const done = await server.gql(
      `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { connectionId } }`,
      { input: { credentials: [{ key: "apiKey", value: "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789" }] } },
      { token: sessionToken },
    );
    const id: string = done.data.completeHostedConnectionSession.connectionId;
    // Authentic but malformed credentials (an altered ciphertext is a typed CREDENTIALS_UNREADABLE,
    // test/storage.test.ts): reading them fails in a way no resolver expects.
    const row = await server.services.prisma.connection.findUniqueOrThrow({ where: { id } });
    const malformed = sealCredentials(server.services.vault, row, { type: "API_KEY", values: null } as never);
    await server.services.prisma.connection.update({ where: { id }, data: { credentialsEnc: malformed.ciphertext, encryptionKeyId: malformed.keyId } });

    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: `query($id: ID!) { connection(id: $id) { id credentials { apiKey } } }`, variables: { id } }),
    });
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body.errors).toEqual([{ message: "Unexpected error.", path: ["connection", "credentials"], locations: expect.any(Array), extensions: { code: "INTERNAL_SERVER_ERROR" } }]);
    expect(text).not.toMatch(/stack|at .*\.ts|Ciphertext|vault/i);
    expect(text).not.toContain("sk-proj");
    // Logged once (not again by yoga), at error level, with the cause and the request's id.
    const requestId = res.headers.get("x-request-id")!;
    await expect.poll(() => server.logs.some((l) => l.includes(requestId) && l.includes('"msg":"request"'))).toBe(true);
    const errors = server.logs.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
    const lines = errors.filter((l) => l.msg === "unexpected error" && l.requestId === requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.err).toMatchObject({ message: expect.stringContaining("apiKey"), stack: expect.any(Array) });
    expect(lines[0]?.path).toBe("connection.credentials");
  });
});
