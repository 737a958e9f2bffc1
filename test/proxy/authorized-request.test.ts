// sendAuthorizedRequest, the domain function behind the proxy endpoint and connection health
// checks: the credential the catalog says, placed by us, against a real provider API stand-in and
// a real OAuth2 authorization server (oauth2-mock-server).
import type { LookupFunction } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceError } from "../../server/errors.js";
import { apiBaseUrl, targetUrl } from "../../server/proxy/api-target.js";
import { sendAuthorizedRequest, type ProviderRequest } from "../../server/proxy/authorized-request.js";
import { OPENAI_TEST_KEY } from "../support/flows.js";
import { refuseTogether, status } from "../support/provider-api.js";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

let f: ProxyFixture;
beforeAll(async () => {
  f = await startProxyFixture();
});
afterAll(() => f?.stop());

const send = async (connectionId: string, request: Partial<ProviderRequest> = {}, organizationId = f.org.organizationId) => {
  const r = await sendAuthorizedRequest(f.server.services, organizationId, connectionId, { path: "/things", ...request });
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return { ...r, text: Buffer.concat(chunks).toString("utf8") };
};
const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: ServiceError) => e.code ?? String(e));
const lastSeen = () => f.api.seen.at(-1)!;

describe("the credential the catalog names, added by us", () => {
  it("sends an OAuth2 connection's access token as Bearer, never the caller's Authorization or cookies", async () => {
    const id = await f.connectOAuth("bearer-user");
    const r = await send(id, { headers: { authorization: "Bearer ort_test_callers_own_key", cookie: "mine=1", "x-custom": "kept" }, query: "a=1&b=two" });
    expect(r.status).toBe(200);
    const seen = lastSeen();
    expect(seen.url).toBe("/v1/things?a=1&b=two");
    expect(seen.headers.authorization).toBe(`Bearer ${await f.accessTokenOf(id)}`);
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers["x-custom"]).toBe("kept");
    expect(seen.headers["x-api-version"]).toBe("2024-01-01"); // the entry's default header
    expect(r.headers["set-cookie"]).toBeUndefined();
    expect(r.headers["x-provider"]).toBe("stand-in");
  });

  it("places API keys in the named header or query parameter, and BASIC as a Basic header", async () => {
    const header = await f.connectWith("proxy-header", { apiKey: "key-in-a-header-123" });
    await send(header);
    expect(lastSeen().headers["x-api-key"]).toBe("key-in-a-header-123");
    expect(lastSeen().headers.authorization).toBeUndefined();

    const query = await f.connectWith("proxy-query", { apiKey: "key-in-the-query-456" });
    await send(query, { query: "api_key=callers-guess&x=1" });
    expect(new URL(lastSeen().url, "http://x").searchParams.getAll("api_key")).toEqual(["key-in-the-query-456"]);
    expect(new URL(lastSeen().url, "http://x").searchParams.get("x")).toBe("1");

    const basic = await f.connectWith("proxy-basic", { username: "ada", password: "s3cret-pass" });
    await send(basic, { headers: { authorization: "Basic bm90OnRoaXM=" } });
    expect(lastSeen().headers.authorization).toBe(`Basic ${Buffer.from("ada:s3cret-pass").toString("base64")}`);
  });

  it("builds a per-connection base URL from a token response value kept as metadata", async () => {
    const id = await f.connectOAuth("instance-user", { slug: "proxy-instance", tokenExtras: { instance_url: f.api.url } });
    const r = await send(id, { path: "/v62.0/sobjects" });
    expect(r.status).toBe(200);
    expect(lastSeen().url).toBe("/services/data/v62.0/sobjects");
    expect(lastSeen().headers.authorization).toBe(`Bearer ${await f.accessTokenOf(id)}`);
  });

  it("builds a per-connection base URL from the end user's non-secret input", async () => {
    const id = await f.connectWith("proxy-tenant", { apiKey: "tenant-key-789", tenant: "acme-eu" });
    await send(id, { path: "/users" });
    expect(lastSeen().url).toBe("/tenants/acme-eu/users");
    expect(lastSeen().headers.authorization).toBe("Bearer tenant-key-789");
  });
});

describe("OAuth2 tokens", () => {
  it("refreshes a token that expires within the margin before the call", async () => {
    const id = await f.connectOAuth("expiring-user", { expiresIn: 60 });
    const before = await f.accessTokenOf(id);
    const refreshes = f.oauth.tokenRequests.filter((t) => t.grant_type === "refresh_token").length;
    await send(id);
    const after = await f.accessTokenOf(id);
    expect(after).not.toBe(before);
    expect(f.oauth.tokenRequests.filter((t) => t.grant_type === "refresh_token").length).toBe(refreshes + 1);
    expect(lastSeen().headers.authorization).toBe(`Bearer ${after}`);
  });

  it("answers a provider 401 with one refresh and one retry, then passes a second 401 through", async () => {
    const id = await f.connectOAuth("revoked-user");
    const before = await f.accessTokenOf(id);
    const refreshes = () => f.oauth.tokenRequests.filter((t) => t.grant_type === "refresh_token").length;
    const r0 = refreshes();
    const seen0 = f.api.seen.length;
    f.api.queue(status(401));
    const r = await send(id);
    expect(r.status).toBe(200);
    expect(r.attempts).toBe(2);
    expect(refreshes()).toBe(r0 + 1);
    const [first, second] = f.api.seen.slice(seen0);
    expect(first!.headers.authorization).toBe(`Bearer ${before}`);
    expect(second!.headers.authorization).toBe(`Bearer ${await f.accessTokenOf(id)}`);
    expect(second!.headers.authorization).not.toBe(first!.headers.authorization);

    f.api.queue(status(401), status(401));
    const twice = await send(id);
    expect(twice.status).toBe(401);
    expect(twice.attempts).toBe(2);
    expect(refreshes()).toBe(r0 + 2);
  });

  it("refreshes once for concurrent 401s on the same token, and both calls succeed with the new one", async () => {
    const id = await f.connectOAuth("concurrent-user");
    const old = `Bearer ${await f.accessTokenOf(id)}`;
    // Both first attempts are answered 401 only once both have arrived.
    const refusesOld = refuseTogether(old, 2);
    f.api.queue(refusesOld, refusesOld, refusesOld, refusesOld);
    const refreshes = () => f.oauth.tokenRequests.filter((t) => t.grant_type === "refresh_token").length;
    const before = refreshes();
    const results = await Promise.all([send(id), send(id)]);
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      [200, 2],
      [200, 2],
    ]);
    expect(refreshes()).toBe(before + 1);
  });
});

describe("retries", () => {
  it("waits out a 429's Retry-After on a GET when asked to retry", async () => {
    const id = await f.connectWith("proxy-header", { apiKey: "retry-key-000" });
    f.api.queue(status(429, { "retry-after": "1" }));
    const started = Date.now();
    const r = await send(id, { retries: 2 });
    expect(r.status).toBe(200);
    expect(r.attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("does not retry without the opt-in, nor a POST unless told to", async () => {
    const id = await f.connectWith("proxy-header", { apiKey: "retry-key-001" });
    f.api.queue(status(503));
    expect((await send(id)).status).toBe(503);
    f.api.queue(status(503, { "retry-after": "0" }));
    expect((await send(id, { method: "POST", body: Buffer.from("{}"), retries: 3 })).status).toBe(503);
    f.api.queue(status(503, { "retry-after": "0" }));
    const told = await send(id, { method: "POST", body: Buffer.from("{}"), retries: 3, retryNonIdempotent: true });
    expect([told.status, told.attempts]).toEqual([200, 2]);
  });
});

describe("refusals", () => {
  it("treats another organization's connection exactly like an unknown one", async () => {
    const id = await f.connectWith("proxy-header", { apiKey: "tenant-a-key-111" });
    const other = await f.server.createOrganization("Other org");
    const seen = f.api.seen.length;
    expect(await codeOf(send(id, {}, other.organizationId))).toBe("NOT_FOUND");
    expect(await codeOf(send("6f0b9a52-3c1d-4e8f-9a7b-0c2d4e6f8a1b"))).toBe("NOT_FOUND");
    expect(await codeOf(send("not-a-uuid"))).toBe("NOT_FOUND");
    expect(f.api.seen.length).toBe(seen);
  });

  it("refuses an integration whose catalog entry names no API", async () => {
    const id = await f.connectWith("openai", { apiKey: OPENAI_TEST_KEY });
    expect(await codeOf(send(id))).toBe("PROXY_NOT_SUPPORTED");
  });

  it("gives up on a provider that does not answer within the timeout", async () => {
    const id = await f.connectWith("proxy-header", { apiKey: "slow-key-0001" });
    f.api.queue(() => {}); // accepts the request and never answers
    expect(await codeOf(send(id, { timeoutMs: 300 }))).toBe("PROVIDER_TIMEOUT");
  });

  it("refuses paths that could leave the base URL", () => {
    const base = new URL("https://api.example.com/v1/");
    for (const path of ["/../admin", "/a/%2e%2e/b", "/a%2fb", "/a%5cb", "//evil.example/x", "/https://evil.example/", "/@evil.example/x", "/a\\b", "/a b", "/a%00b", "/http:/x"]) {
      expect(() => targetUrl(base, path), path).toThrow(/path was refused/);
    }
    expect(targetUrl(base, "/users/me@example.com/messages", "q=1").href).toBe("https://api.example.com/v1/users/me@example.com/messages?q=1");
    expect(targetUrl(base, "").href).toBe("https://api.example.com/v1/");
  });

  it("refuses a base URL value that would move the host", () => {
    const api = { baseUrl: "https://{tenant}.example.com/api", headers: {} };
    const values = (tenant: string) => ({ publicUrl: "", inputs: { tenant }, metadata: {} });
    expect(apiBaseUrl(api, values("acme")).href).toBe("https://acme.example.com/api/");
    for (const tenant of ["evil.com/x", "a@b", "evil.com#", "x:1"]) expect(() => apiBaseUrl(api, values(tenant)), tenant).toThrow(/cannot be built/);
  });
});

describe("destinations checked after DNS resolution", () => {
  const answers: Record<string, string> = { "loopback.proxy.test": "127.0.0.1", "metadata.proxy.test": "169.254.169.254" };
  const lookup = ((hostname: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    const address = answers[hostname];
    if (!address) return cb(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }));
    return options.all ? cb(null, [{ address, family: 4 }]) : cb(null, address, 4);
  }) as unknown as LookupFunction;
  let strict: ProxyFixture;
  beforeAll(async () => {
    const key = { key: "apiKey", label: "API key", secret: true };
    const entry = (host: string) => ({ categories: ["developer-tools"], docsUrl: "https://example.com/docs", description: "d", authType: "API_KEY", credentialFields: [key], api: { baseUrl: `https://${host}/v1` } });
    strict = await startProxyFixture({
      env: { ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "false" },
      egressLookup: lookup,
      extraEntries: () => ({ "proxy-dns-loopback": entry("loopback.proxy.test"), "proxy-dns-metadata": entry("metadata.proxy.test") }),
    });
  });
  afterAll(() => strict?.stop());

  it("refuses a name resolving to 127.0.0.1 (loopback switch off) or to 169.254.169.254", async () => {
    for (const slug of ["proxy-dns-loopback", "proxy-dns-metadata"]) {
      const id = await strict.connectWith(slug, { apiKey: "dns-key-123" });
      await expect(codeOf(sendAuthorizedRequest(strict.server.services, strict.org.organizationId, id, { path: "/x" })), slug).resolves.toBe("DESTINATION_BLOCKED");
    }
  });
});
