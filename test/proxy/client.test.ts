// client.proxy() from @one-runtime/client, as a customer backend uses it: the built-in sandbox's
// API end to end, the provider's answers resolved whatever their status, One Runtime's own
// failures rejected as OneRuntimeError with their code, and bodies streamed.
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { createOneRuntimeClient, OneRuntimeError, type OneRuntimeClient } from "@one-runtime/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "../support/provider-api.js";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

let f: ProxyFixture;
let or: OneRuntimeClient;
beforeAll(async () => {
  f = await startProxyFixture();
  or = createOneRuntimeClient({ apiKey: f.org.apiKey, baseUrl: f.server.url });
});
afterAll(() => f?.stop());

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as OneRuntimeError);

describe("client.proxy", () => {
  it("lists the OAuth2 sandbox's resources through the proxy with no outside account", async () => {
    const connectionId = await f.connectSandbox("sandbox-user");
    const page = await or.proxy({ connectionId, path: "/resources", query: { limit: 2 } });
    expect(page.status).toBe(200);
    expect(page.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.json()).toEqual({ items: [expect.objectContaining({ id: "res_1" }), expect.objectContaining({ id: "res_2" })], nextCursor: "res_3" });
    const me = await or.proxy({ connectionId, path: "me" });
    expect(await me.json()).toMatchObject({ id: "sandbox-user", scopes: ["profile", "read"] });
  });

  it("resolves a provider's error status instead of throwing, and rejects the proxy's own failures with their code", async () => {
    const connectionId = await f.connectSandbox("sandbox-user-2");
    const missing = await or.proxy({ connectionId, path: "/resources/res_999" });
    expect([missing.status, missing.ok, await missing.json()]).toEqual([404, false, { error: "not_found" }]);

    const unknown = await rejection(or.proxy({ connectionId: "6f0b9a52-3c1d-4e8f-9a7b-0c2d4e6f8a1b", path: "/me" }));
    expect(unknown).toBeInstanceOf(OneRuntimeError);
    expect([unknown!.code, unknown!.status, unknown!.operation]).toEqual(["NOT_FOUND", 404, "proxy"]);
    expect(unknown!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const escape = await rejection(or.proxy({ connectionId, path: "/a%2Fb" }));
    expect(escape!.code).toBe("PATH_REFUSED");
  });

  it("sends JSON, query arrays, headers and retries, and streams a Node stream up and the answer down", async () => {
    const connectionId = await f.connectWith("proxy-header", { apiKey: "client-key-0001" });
    f.api.queue(status(503, { "retry-after": "0" }));
    const json = await or.proxy({ connectionId, method: "POST", path: "/items", query: { tag: ["a", "b"], n: 1 }, headers: { "x-trace": "t1" }, body: { name: "Ada" }, retries: 1, retryNonIdempotent: true });
    expect(json.status).toBe(200);
    const seen = f.api.seen.at(-1)!;
    expect([seen.url, seen.body, seen.headers["content-type"], seen.headers["x-trace"]]).toEqual(["/v1/items?tag=a&tag=b&n=1", '{"name":"Ada"}', "application/json", "t1"]);

    const upload = randomBytes(3 * 1024 * 1024);
    const download = randomBytes(2 * 1024 * 1024);
    f.api.queue((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(download);
    });
    const streamed = await or.proxy({ connectionId, method: "PUT", path: "/blob", body: Readable.from([upload.subarray(0, 1_000_000), upload.subarray(1_000_000)]) });
    expect(Buffer.from(await streamed.arrayBuffer()).equals(download)).toBe(true);
    expect(f.api.seen.at(-1)!.sha256).toBe(createHash("sha256").update(upload).digest("hex"));
  });
});
