// What a deployment shows a stranger: in production no schema (introspection off, no GraphiQL)
// unless switched on, or on for API keys only; CORS for the SDK's endpoints alone and never with
// credentials; GraphQL only as GET or as an application/json POST, so a cross-site form cannot run
// an operation.
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ConfigError, loadConfig } from "../server/config.js";
import { startTestServer, type TestServer } from "./support/server.js";

const INTROSPECTION = [
  ["__schema", `{ __schema { queryType { name } } }`],
  ["__type", `{ __type(name: "Integration") { fields { name } } }`],
  ["an aliased __schema", `{ s: __schema { types { name } } }`],
  ["__schema in a fragment", `query { ...F } fragment F on Query { __schema { types { name } } }`],
] as const;

async function post(server: TestServer, query: string, token?: string) {
  return server.gql(query, {}, token ? { token } : {});
}

describe("configuration", () => {
  it("production turns introspection and GraphiQL off unless told otherwise; elsewhere both are on", () => {
    expect(loadConfig({ NODE_ENV: "production" })).toMatchObject({ introspection: "off", graphiql: false });
    expect(loadConfig({})).toMatchObject({ introspection: "public", graphiql: true });
    expect(loadConfig({ NODE_ENV: "production", ONE_RUNTIME_INTROSPECTION: "api-key", ONE_RUNTIME_GRAPHIQL: "true" })).toMatchObject({ introspection: "api-key", graphiql: true });
    expect(loadConfig({ ONE_RUNTIME_INTROSPECTION: "off", ONE_RUNTIME_GRAPHIQL: "false" })).toMatchObject({ introspection: "off", graphiql: false });
    expect(() => loadConfig({ ONE_RUNTIME_INTROSPECTION: "yes" })).toThrow(ConfigError);
    expect(() => loadConfig({ ONE_RUNTIME_GRAPHIQL: "on" })).toThrow(ConfigError);
  });
});

describe("in production, by default", () => {
  let server: TestServer;
  let apiKey: string;
  let sessionToken: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production" } });
    ({ apiKey } = await server.createOrganization("Production Co"));
    ({ sessionToken } = await server.createSession(apiKey, { integrationSlug: "openai", endUserId: "p1" }));
  });
  afterAll(() => server?.stop());

  it.each(INTROSPECTION)("%s is refused to everyone: anonymous, an API key, a session token", async (_name, query) => {
    for (const token of [undefined, apiKey, sessionToken]) {
      const r = await post(server, query, token);
      expect(r.status).toBe(400);
      expect(r.data).toBeUndefined();
      expect(r.errors).toEqual([expect.objectContaining({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })]);
    }
  });

  it("__typename and ordinary queries still run", async () => {
    expect(await post(server, `{ __typename }`)).toMatchObject({ status: 200, data: { __typename: "Query" } });
    expect((await post(server, `{ viewer { organization { name } } }`, apiKey)).data).toEqual({ viewer: { organization: { name: "Production Co" } } });
  });

  it("introspection over WebSocket is refused too", async () => {
    const client = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${apiKey}` } });
    const result = await new Promise<any>((resolve) => {
      client.subscribe({ query: INTROSPECTION[0][1] }, { next: resolve, error: resolve, complete: () => resolve(undefined) });
    });
    await client.dispose();
    expect(result.errors ?? result).toEqual([expect.objectContaining({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })]);
  });

  it("GraphiQL's page and files are not served", async () => {
    expect((await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } })).status).toBe(404);
    expect((await fetch(`${server.url}/graphiql/app.js`)).status).toBe(404);
  });
});

describe("in production with ONE_RUNTIME_INTROSPECTION=api-key and ONE_RUNTIME_GRAPHIQL=true", () => {
  let server: TestServer;
  let apiKey: string;
  let sessionToken: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production", ONE_RUNTIME_INTROSPECTION: "api-key", ONE_RUNTIME_GRAPHIQL: "true" } });
    ({ apiKey } = await server.createOrganization("Keyed Co"));
    ({ sessionToken } = await server.createSession(apiKey, { integrationSlug: "openai", endUserId: "p2" }));
  });
  afterAll(() => server?.stop());

  it.each(INTROSPECTION)("%s is served to an API key only", async (_name, query) => {
    const served = await post(server, query, apiKey);
    expect(served.status).toBe(200);
    expect(served.errors).toBeUndefined();
    for (const token of [undefined, sessionToken]) {
      const r = await post(server, query, token);
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    }
  });

  it("GraphiQL's page is served", async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("GraphiQL");
    expect((await fetch(`${server.url}/graphiql/app.js`)).status).toBe(200);
  });
});

describe("CORS and request formats (development defaults)", () => {
  let server: TestServer;
  let apiKey: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ apiKey } = await server.createOrganization("CORS Co"));
  });
  afterAll(() => server?.stop());

  const ORIGIN = "https://customer.example";
  const noCredentials = (res: Response) => {
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("access-control-allow-origin")).not.toBe(ORIGIN);
  };

  it("/graphql answers a preflight from any origin with `*`, the SDK's headers, and no credentials", async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, POST");
    expect(res.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    expect(res.headers.get("access-control-allow-headers")).toMatch(/content-type/);
    noCredentials(res);
  });

  it("/graphql's answers, errors included, carry `*` and never credentials", async () => {
    const answers = [
      await fetch(`${server.url}/graphql`, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json", authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ query: "{ __typename }" }) }),
      await fetch(`${server.url}/graphql`, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json", accept: "application/graphql-response+json" }, body: "{" }),
      await fetch(`${server.url}/graphql`, { method: "POST", headers: { origin: ORIGIN, "content-type": "text/plain" }, body: "{}" }),
      await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { origin: ORIGIN } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 400, 415, 200]);
    for (const res of answers) {
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      noCredentials(res);
    }
  });

  it("the SDK's files are served to any origin; no other route sends CORS headers", async () => {
    for (const path of ["/connect.js", "/connect.d.ts"]) {
      const res = await fetch(`${server.url}${path}`, { headers: { origin: ORIGIN } });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      noCredentials(res);
    }
    const others: [string, RequestInit][] = [
      ["/connect", {}],
      ["/connect/popup.js", {}],
      ["/connect/closed", { method: "POST", body: "nothing" }],
      ["/oauth/callback?state=x&code=y", {}],
      ["/healthz", {}],
      ["/readyz", {}],
      ["/graphiql/app.js", {}],
      ["/logos/openai.svg", {}],
      ["/nowhere", {}],
    ];
    for (const [path, init] of others) {
      const res = await fetch(`${server.url}${path}`, { ...init, headers: { origin: ORIGIN } });
      expect(res.headers.get("access-control-allow-origin"), path).toBeNull();
      noCredentials(res);
    }
    const page = await fetch(`${server.url}/graphql`, { headers: { origin: ORIGIN, accept: "text/html" } });
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
  });

  const CREATE = `mutation { createHostedConnectionSession(input: { integrationSlug: "openai", endUserId: "form-victim" }) { sessionToken } }`;
  const sessions = () => server.services.prisma.hostedConnectionSession.count({ where: { endUserId: "form-victim" } });

  it.each([
    ["a form (application/x-www-form-urlencoded)", "application/x-www-form-urlencoded", `query=${encodeURIComponent(CREATE)}`],
    ["a multipart form", "multipart/form-data; boundary=b", `--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n${CREATE}\r\n--b--\r\n`],
    ["text/plain (what a form with enctype=text/plain sends)", "text/plain", JSON.stringify({ query: CREATE })],
    ["application/graphql", "application/graphql", CREATE],
    ["application/graphql+json", "application/graphql+json", JSON.stringify({ query: CREATE })],
    ["no content type", undefined, JSON.stringify({ query: CREATE })],
  ])("%s is refused with 415 BAD_REQUEST, and nothing runs", async (_name, type, body) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, ...(type ? { "content-type": type } : {}) },
      body: type === undefined ? new Blob([body]) : body,
    });
    expect(res.status).toBe(415);
    expect((await res.json()).errors[0].extensions.code).toBe("BAD_REQUEST");
    expect(await sessions()).toBe(0);
  });

  it("application/json (with a charset) runs it", async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ query: CREATE }),
    });
    expect(res.status).toBe(200);
    expect(await sessions()).toBe(1);
  });
});
