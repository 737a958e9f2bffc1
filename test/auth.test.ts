// API keys over HTTP: every way a credential can be wrong is a 401 with UNAUTHENTICATED; a good
// key works and is stamped as used; keys rest only as hashes; session tokens stay in their lane.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

const CATALOG = `{ categories { slug } integrations(first: 1) { totalCount } }`;

let server: TestServer;
let org: { organizationId: string; apiKey: string; apiKeyId: string };

beforeAll(async () => {
  server = await startTestServer();
  org = await server.createOrganization("Auth Co");
});
afterAll(() => server?.stop());

async function post(headers: Record<string, string>, query = CATALOG) {
  const res = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

function expectUnauthenticated(r: Awaited<ReturnType<typeof post>>) {
  expect(r.status).toBe(401);
  expect(r.body.errors?.length).toBeGreaterThan(0);
  for (const e of r.body.errors!) expect(e.extensions?.code).toBe("UNAUTHENTICATED");
  expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
  expect(r.body.data?.categories ?? null).toBeNull();
}

describe("refused credentials", () => {
  it("no Authorization header: a protected field is 401 UNAUTHENTICATED", async () => {
    expectUnauthenticated(await post({}));
  });

  it.each([
    ["a Basic header", "Basic dXNlcjpwYXNz"],
    ["Bearer with nothing after it", "Bearer "],
    ["Bearer with garbage", "Bearer not-a-key"],
    ["Bearer with spaces inside", "Bearer ort_live_abc def"],
    ["a key of the wrong shape", `Bearer ort_prod_${"A".repeat(43)}`],
    ["a truncated key", `Bearer ort_live_${"A".repeat(42)}`],
    ["a well-formed live key nobody issued", `Bearer ort_live_${"A".repeat(43)}`],
    ["a well-formed test key nobody issued", `Bearer ort_test_${"B".repeat(43)}`],
  ])("%s is 401 UNAUTHENTICATED", async (_name, authorization) => {
    expectUnauthenticated(await post({ authorization }));
  });

  it("a key that differs from a real one in its last character is 401", async () => {
    const last = org.apiKey.at(-1) === "A" ? "B" : "A";
    expectUnauthenticated(await post({ authorization: `Bearer ${org.apiKey.slice(0, -1)}${last}` }));
  });

  it("a revoked key is 401 UNAUTHENTICATED from the next request on", async () => {
    const victim = await server.createOrganization("Revoked Co");
    expect((await post({ authorization: `Bearer ${victim.apiKey}` })).status).toBe(200);
    await server.admin({ command: "revoke-api-key", id: victim.apiKeyId });
    expectUnauthenticated(await post({ authorization: `Bearer ${victim.apiKey}` }));
  });

  it("a refused credential is refused even for fields that need none", async () => {
    const r = await post({ authorization: "Bearer not-a-key" }, `{ __typename }`);
    expect(r.status).toBe(401);
    expect(r.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("accepted keys", () => {
  it("a valid key gets 200 and the catalog, and its use is recorded", async () => {
    const fresh = await server.createOrganization("Fresh Co");
    const before = await server.services.prisma.apiKey.findUniqueOrThrow({ where: { id: fresh.apiKeyId } });
    expect(before.lastUsedAt).toBeNull();
    const started = Date.now();
    const r = await post({ authorization: `Bearer ${fresh.apiKey}` });
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.integrations.totalCount).toBeGreaterThan(0);
    // Written after the response, without holding it up: poll.
    await expect
      .poll(async () => (await server.services.prisma.apiKey.findUniqueOrThrow({ where: { id: fresh.apiKeyId } })).lastUsedAt)
      .toBeInstanceOf(Date);
    const after = await server.services.prisma.apiKey.findUniqueOrThrow({ where: { id: fresh.apiKeyId } });
    expect(after.lastUsedAt!.getTime()).toBeGreaterThanOrEqual(started - 1_000);
    expect(after.lastUsedAt!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("a test-environment key works like a live one", async () => {
    const r = (await server.admin({ command: "create-api-key", organizationId: org.organizationId, name: "ci", environment: "TEST" })) as {
      apiKey: { key: string };
    };
    expect(r.apiKey.key).toMatch(/^ort_test_[A-Za-z0-9_-]{43}$/);
    const v = await post({ authorization: `Bearer ${r.apiKey.key}` }, `{ viewer { organization { id } } }`);
    expect(v.body.data.viewer.organization.id).toBe(org.organizationId);
  });

  it("keys are issued as ort_live_… and stored only as a SHA-256 hash with a short prefix", async () => {
    expect(org.apiKey).toMatch(/^ort_live_[A-Za-z0-9_-]{43}$/);
    const row = await server.services.prisma.apiKey.findUniqueOrThrow({ where: { id: org.apiKeyId } });
    expect(row.hash).toBe(createHash("sha256").update(org.apiKey).digest("hex"));
    expect(org.apiKey.startsWith(row.prefix)).toBe(true);
    expect(row.prefix.length).toBeLessThanOrEqual(16);
    const secret = org.apiKey.slice("ort_live_".length);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(org.apiKey);
    // No stretch of the random part longer than the visible prefix shows survives anywhere.
    for (let i = 0; i + 8 <= secret.length; i++) {
      const piece = secret.slice(i, i + 8);
      if (row.prefix.includes(piece)) continue;
      expect(stored).not.toContain(piece);
    }
  });

  it("the key is never written to the logs", async () => {
    await post({ authorization: `Bearer ${org.apiKey}` });
    expect(server.logs.join("\n")).not.toContain(org.apiKey.slice("ort_live_".length));
  });
});

describe("what each credential may call", () => {
  it("a session token cannot call catalog queries: FORBIDDEN", async () => {
    const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "openai", endUserId: "u-auth" });
    for (const query of [`{ categories { slug } }`, `{ integrations { totalCount } }`, `{ integration(slug: "openai") { slug } }`, `{ viewer { organization { id } } }`]) {
      const r = await post({ authorization: `Bearer ${sessionToken}` }, query);
      expect(r.body.errors?.[0]?.extensions?.code, query).toBe("FORBIDDEN");
    }
  });

  it("introspection works without a key (GraphiQL and codegen need the schema)", async () => {
    const r = await post({}, `{ __schema { queryType { name } types { name } } }`);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.__schema.types.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["Integration", "Category"]));
  });
});
