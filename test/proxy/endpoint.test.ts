// The proxy over HTTP, as a customer backend calls it: /proxy/<connectionId>/<path> with the
// organization's API key, against a real provider API stand-in and oauth2-mock-server.
import { randomBytes, createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "../support/provider-api.js";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

let f: ProxyFixture;
let keyConnection: string;
beforeAll(async () => {
  f = await startProxyFixture({ extraEntries: () => ({ "proxy-closed-port": { categories: ["developer-tools"], docsUrl: "https://example.com/docs", description: "d", authType: "NONE", api: { baseUrl: "http://127.0.0.1:1/v1" } } }) });
  keyConnection = await f.connectWith("proxy-header", { apiKey: "endpoint-key-0001" });
});
afterAll(() => f?.stop());

type Raw = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
/** A request with the target sent byte for byte (fetch would resolve `..` and re-encode). */
function raw(target: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer; apiKey?: string | null } = {}): Promise<Raw> {
  const url = new URL(f.server.url);
  const apiKey = opts.apiKey === undefined ? f.org.apiKey : opts.apiKey;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: opts.method ?? "GET", path: target, headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}
const json = (r: Raw) => JSON.parse(r.body.toString("utf8"));

describe("forwarding", () => {
  it("adds the connection's credential, never forwards our API key, and passes the provider's answer through", async () => {
    const r = await raw(`/proxy/${keyConnection}/widgets/42?expand=owner&x=%20y`, { headers: { "x-caller": "yes", "x-one-runtime-retries": "0" } });
    expect(r.status).toBe(200);
    expect(r.headers["x-one-runtime-proxy-error"]).toBeUndefined();
    expect(r.headers["x-provider"]).toBe("stand-in");
    expect(r.headers["set-cookie"]).toBeUndefined();
    expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(json(r)).toEqual({ method: "GET", url: "/v1/widgets/42?expand=owner&x=%20y", bytes: 0 });
    const seen = f.api.seen.at(-1)!;
    expect(seen.headers["x-api-key"]).toBe("endpoint-key-0001");
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(f.org.apiKey);
    expect(seen.headers["x-caller"]).toBe("yes");
    expect(Object.keys(seen.headers).filter((h) => h.startsWith("x-one-runtime"))).toEqual([]);
  });

  it("strips hop-by-hop headers both ways, and never forwards a host or forwarding header", async () => {
    f.api.queue((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", connection: "keep-alive, x-provider-hop", "x-provider-hop": "1", "x-kept": "yes" });
      res.end("ok");
    });
    const r = await raw(`/proxy/${keyConnection}/hops`, {
      headers: { connection: "keep-alive, x-caller-hop", "x-caller-hop": "1", "x-forwarded-host": "evil.example", forwarded: "host=evil.example", "x-kept": "yes" },
    });
    expect([r.status, r.headers["x-provider-hop"], r.headers["x-kept"]]).toEqual([200, undefined, "yes"]);
    const seen = f.api.seen.at(-1)!;
    expect(seen.headers.host).toBe(`127.0.0.1:${f.api.port}`);
    expect([seen.headers["x-caller-hop"], seen.headers["x-forwarded-host"], seen.headers.forwarded, seen.headers["x-kept"]]).toEqual([undefined, undefined, undefined, "yes"]);
  });

  it("is binary safe both ways and passes provider errors through unmarked", async () => {
    const upload = randomBytes(300_000);
    const download = randomBytes(200_000);
    f.api.queue((_req, res) => {
      res.writeHead(201, { "content-type": "application/octet-stream" });
      res.end(download);
    });
    const r = await raw(`/proxy/${keyConnection}/files`, { method: "PUT", body: upload, headers: { "content-type": "application/octet-stream" } });
    expect(r.status).toBe(201);
    expect(createHash("sha256").update(r.body).digest("hex")).toBe(createHash("sha256").update(download).digest("hex"));
    expect(f.api.seen.at(-1)!.sha256).toBe(createHash("sha256").update(upload).digest("hex"));

    f.api.queue(status(404));
    const missing = await raw(`/proxy/${keyConnection}/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers["x-one-runtime-proxy-error"]).toBeUndefined();
  });

  it("waits out a 429 with Retry-After when the caller asks for retries", async () => {
    f.api.queue(status(429, { "retry-after": "1" }));
    const r = await raw(`/proxy/${keyConnection}/busy`, { headers: { "x-one-runtime-retries": "2" } });
    expect(r.status).toBe(200);
    f.api.queue(status(429, { "retry-after": "1" }));
    expect((await raw(`/proxy/${keyConnection}/busy`)).status).toBe(429);
    const bad = await raw(`/proxy/${keyConnection}/busy`, { headers: { "x-one-runtime-retries": "99" } });
    expect([bad.status, json(bad).error.code]).toEqual([400, "BAD_USER_INPUT"]);
  });

  it("never follows a redirect: another host named in Location is not reached", async () => {
    let reached = 0;
    const elsewhere = http.createServer((_req, res) => {
      reached++;
      res.end("stolen");
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    const location = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/collect`;
    f.api.queue(status(302, { location }));
    const r = await raw(`/proxy/${keyConnection}/moved`);
    expect([r.status, r.headers.location]).toEqual([302, location]);
    expect(reached).toBe(0);
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
  });
});

describe("the proxy's own failures: JSON with a stable code and the proxy-error header", () => {
  it("answers an unknown connection and another organization's the same way", async () => {
    const other = await f.server.createOrganization("Someone else");
    const seen = f.api.seen.length;
    const foreign = await raw(`/proxy/${keyConnection}/widgets`, { apiKey: other.apiKey });
    const unknown = await raw(`/proxy/6f0b9a52-3c1d-4e8f-9a7b-0c2d4e6f8a1b/widgets`, { apiKey: other.apiKey });
    for (const r of [foreign, unknown]) {
      expect(r.status).toBe(404);
      expect(r.headers["x-one-runtime-proxy-error"]).toBe("NOT_FOUND");
      expect(json(r).error).toMatchObject({ code: "NOT_FOUND", message: "Connection not found" });
    }
    expect({ ...json(foreign).error, requestId: "" }).toEqual({ ...json(unknown).error, requestId: "" });
    expect(f.api.seen.length).toBe(seen);
  });

  it("refuses callers without an API key, and session tokens", async () => {
    const anonymous = await raw(`/proxy/${keyConnection}/widgets`, { apiKey: null });
    expect([anonymous.status, json(anonymous).error.code, anonymous.headers["x-one-runtime-proxy-error"]]).toEqual([401, "UNAUTHENTICATED", "UNAUTHENTICATED"]);
    const { sessionToken } = await f.server.createSession(f.org.apiKey, { integrationSlug: "proxy-header", endUserId: "someone" });
    const session = await raw(`/proxy/${keyConnection}/widgets`, { apiKey: sessionToken });
    expect([session.status, json(session).error.code]).toEqual([403, "FORBIDDEN"]);
  });

  it("refuses every path escape before anything is sent", async () => {
    const seen = f.api.seen.length;
    for (const path of ["/../../graphql", "/a/../../b", "/a/%2e%2e/b", "/a%2Fb", "/a%5cb", "//evil.example/x", "/https://evil.example/x", "/@evil.example/x", "/a%00b"]) {
      const r = await raw(`/proxy/${keyConnection}${path}`);
      expect([r.status, r.headers["x-one-runtime-proxy-error"]], path).toEqual([400, "PATH_REFUSED"]);
    }
    expect(f.api.seen.length).toBe(seen);
  });

  it("answers an unreachable provider with PROVIDER_UNREACHABLE, and a method it does not proxy with 405", async () => {
    const closed = await f.connectWith("proxy-closed-port", {});
    const r = await raw(`/proxy/${closed}/x`);
    expect([r.status, json(r).error.code, r.headers["x-one-runtime-proxy-error"]]).toEqual([502, "PROVIDER_UNREACHABLE", "PROVIDER_UNREACHABLE"]);
    const trace = await raw(`/proxy/${keyConnection}/x`, { method: "TRACE" });
    expect([trace.status, json(trace).error.code]).toEqual([405, "BAD_REQUEST"]);
  });

  it("refuses a body declared over the cap with 413 without reading it", async () => {
    const r = await new Promise<Raw>((resolve, reject) => {
      const url = new URL(f.server.url);
      const req = http.request(
        { host: url.hostname, port: url.port, method: "POST", path: `/proxy/${keyConnection}/upload`, headers: { authorization: `Bearer ${f.org.apiKey}`, "content-length": String(200 * 1024 * 1024) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on("error", reject);
      req.write(Buffer.alloc(1024));
    });
    expect([r.status, json(r).error.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  });

  it("marks a connection the provider no longer accepts NEEDS_REAUTH after one refused refresh", async () => {
    const id = await f.connectOAuth("revoked-for-good");
    f.api.queue(status(401));
    f.oauth.server.service.once("beforeResponse", (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 400;
      response.body = { error: "invalid_grant" };
    });
    const r = await raw(`/proxy/${id}/me`);
    expect([r.status, json(r).error.code, r.headers["x-one-runtime-proxy-error"]]).toEqual([424, "NEEDS_REAUTH", "NEEDS_REAUTH"]);
    const again = await raw(`/proxy/${id}/me`);
    expect(json(again).error.code).toBe("NEEDS_REAUTH");
  });
});

describe("a server with a small API key budget and a 1 s provider timeout", () => {
  let limited: ProxyFixture;
  beforeAll(async () => {
    limited = await startProxyFixture({ env: { ONE_RUNTIME_RATE_LIMIT_API_KEY: "3/60s", ONE_RUNTIME_PROXY_TIMEOUT_SECONDS: "1" } });
  });
  afterAll(() => limited?.stop());

  it("spends one request of the API key's budget per proxied call, then answers RATE_LIMITED with Retry-After", async () => {
    const fresh = await limited.server.createOrganization("Budgeted org");
    const id = await limited.connectWith("proxy-header", { apiKey: "budget-key-0001" }, fresh.apiKey); // 1 of 3
    const call = () => fetch(`${limited.server.url}/proxy/${id}/x`, { headers: { authorization: `Bearer ${fresh.apiKey}` } });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const refused = await call();
    expect([refused.status, refused.headers.get("x-one-runtime-proxy-error"), Number(refused.headers.get("retry-after")) > 0]).toEqual([429, "RATE_LIMITED", true]);
  });

  it("answers a provider that stays silent past the timeout with 504 PROVIDER_TIMEOUT", async () => {
    const fresh = await limited.server.createOrganization("Patient org");
    const id = await limited.connectWith("proxy-header", { apiKey: "silent-key-0001" }, fresh.apiKey);
    limited.api.queue(() => {}); // accepts the request and never answers
    const r = await fetch(`${limited.server.url}/proxy/${id}/slow`, { headers: { authorization: `Bearer ${fresh.apiKey}` } });
    expect([r.status, r.headers.get("x-one-runtime-proxy-error"), ((await r.json()) as { error: { code: string } }).error.code]).toEqual([504, "PROVIDER_TIMEOUT", "PROVIDER_TIMEOUT"]);
  });
});

describe("logs and metrics", () => {
  it("logs each call without its query string or any secret, and counts it per integration", async () => {
    const id = await f.connectOAuth("logged-user");
    const token = await f.accessTokenOf(id);
    const r = await raw(`/proxy/${id}/reports?access_token=query-secret-123&page=2`);
    expect(r.status).toBe(200);
    const requestId = r.headers["x-request-id"];
    const line = f.server.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "proxy request" && l.requestId === requestId);
    expect(line).toMatchObject({ connectionId: id, integration: "proxy-oauth", method: "GET", path: "/reports", status: 200, origin: "provider", attempts: 1 });
    expect(line.durationMs).toBeTypeOf("number");
    const everything = f.server.logs.join("\n");
    for (const secret of [token, f.org.apiKey, "query-secret-123", "endpoint-key-0001", "proxy-client-secret-9d2e4f"]) expect(everything).not.toContain(secret);

    const metrics = await fetch(`${f.server.url}/metrics`).then((m) => m.text());
    expect(metrics).toMatch(/one_runtime_proxy_requests_total\{integration="proxy-oauth",outcome="2xx"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/one_runtime_proxy_requests_total\{integration="unknown",outcome="NOT_FOUND"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/one_runtime_http_requests_total\{route="\/proxy\/\*"/);
  });
});
