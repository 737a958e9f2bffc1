// client.proxyPages() from @one-runtime/client against a provider API stand-in that paginates by
// RFC 8288 Link headers and by cursors in the body, and the built-in sandbox's cursor API.
import { createOneRuntimeClient, ProxyPageError, type OneRuntimeClient, type ProxyPage } from "@one-runtime/client";
import type http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

let f: ProxyFixture;
let or: OneRuntimeClient;
let connectionId: string;
beforeAll(async () => {
  f = await startProxyFixture();
  or = createOneRuntimeClient({ apiKey: f.org.apiKey, baseUrl: f.server.url });
  connectionId = await f.connectWith("proxy-header", { apiKey: "pages-key-0001" });
});
afterAll(() => f?.stop());

/** A JSON page with these headers. */
const page =
  (body: unknown, headers: Record<string, string> = {}) =>
  (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

async function all<T>(pages: AsyncIterable<ProxyPage<T>>): Promise<ProxyPage<T>[]> {
  const out: ProxyPage<T>[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

describe("client.proxyPages", () => {
  it("follows Link rel=next headers, absolute and relative, keeping the provider's query as it was written", async () => {
    const seen = f.api.seen.length;
    f.api.queue(
      page({ items: [1, 2] }, { link: `<${f.api.url}/v1/items?page=2&cursor=a%2Bb>; rel="next", <${f.api.url}/v1/items?page=9>; rel="last"` }),
      page({ items: [3, 4] }, { link: `</v1/items?page=3>; rel="prev next"` }),
      page({ items: [5] }, { link: `<${f.api.url}/v1/items?page=1>; rel="first"` }),
    );
    const pages = await all(or.proxyPages<{ items: number[] }>({ connectionId, path: "/items", query: { per_page: 2 }, headers: { "x-trace": "t" } }));
    expect(pages.flatMap((p) => p.body.items)).toEqual([1, 2, 3, 4, 5]);
    const sent = f.api.seen.slice(seen);
    expect(sent.map((s) => s.url)).toEqual(["/v1/items?per_page=2", "/v1/items?page=2&cursor=a%2Bb", "/v1/items?page=3"]);
    expect(sent.map((s) => [s.headers["x-api-key"], s.headers["x-trace"]])).toEqual(Array(3).fill(["pages-key-0001", "t"]));
  });

  it("refuses a next link to another host or outside the API base URL before requesting it", async () => {
    for (const link of ["http://evil.example/v1/items?page=2", `${f.api.url}/admin/export`, `//127.0.0.1:1/v1/items`, `http://user:pw@127.0.0.1:${f.api.port}/v1/items`]) {
      f.api.queue(page({ items: [1] }, { link: `<${link}>; rel="next"` }));
      const seen = f.api.seen.length;
      await expect(all(or.proxyPages({ connectionId, path: "/items" })), link).rejects.toThrow(/not under the connection's API base URL/);
      expect(f.api.seen.length).toBe(seen + 1);
    }
  });

  it("follows a caller's cursor rule (HubSpot's paging.next.after) and stops when it returns undefined", async () => {
    type Hub = { results: string[]; paging?: { next: { after: string } } };
    f.api.queue(page({ results: ["a"], paging: { next: { after: "10" } } }), page({ results: ["b"], paging: { next: { after: "20" } } }), page({ results: ["c"] }));
    const seen = f.api.seen.length;
    const pages = await all(
      or.proxyPages<Hub>({ connectionId, path: "/crm/v3/objects/contacts", query: { limit: 1 }, next: (_page, body) => (body.paging ? { query: { limit: 1, after: body.paging.next.after } } : undefined) }),
    );
    expect(pages.flatMap((p) => p.body.results)).toEqual(["a", "b", "c"]);
    expect(f.api.seen.slice(seen).map((s) => s.url)).toEqual(["/v1/crm/v3/objects/contacts?limit=1", "/v1/crm/v3/objects/contacts?limit=1&after=10", "/v1/crm/v3/objects/contacts?limit=1&after=20"]);
  });

  it("stops after maxPages even when every page links to another", async () => {
    const seen = f.api.seen.length;
    // Exactly two queued: a third request would get the stand-in's echo, and a third page.
    f.api.queue(...Array.from({ length: 2 }, (_, i) => page({ n: i }, { link: `</v1/loop?page=${i + 1}>; rel="next"` })));
    const pages = await all(or.proxyPages({ connectionId, path: "/loop", maxPages: 2 }));
    expect(pages.map((p) => p.body)).toEqual([{ n: 0 }, { n: 1 }]);
    expect(f.api.seen.length).toBe(seen + 2);
  });

  it("throws ProxyPageError on a page outside 2xx instead of ending as if the list were complete", async () => {
    f.api.queue(page({ items: [1] }, { link: `</v1/items?page=2>; rel="next"` }), (_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "boom" }));
    });
    const got: unknown[] = [];
    const error = await (async () => {
      for await (const p of or.proxyPages({ connectionId, path: "/items" })) got.push(p.body);
    })().catch((e: unknown) => e);
    expect(got).toEqual([{ items: [1] }]);
    expect(error).toBeInstanceOf(ProxyPageError);
    expect([(error as ProxyPageError).pageNumber, (error as ProxyPageError).page.status, (error as ProxyPageError).page.body]).toEqual([2, 500, { error: "boom" }]);
  });

  it("walks the sandbox's resources by its nextCursor", async () => {
    const sandbox = await f.connectSandbox("pages-user");
    type Resources = { items: { id: string }[]; nextCursor: string | null };
    const pages = await all(
      or.proxyPages<Resources>({ connectionId: sandbox, path: "/resources", query: { limit: 2 }, next: (_p, body) => (body.nextCursor ? { query: { limit: 2, cursor: body.nextCursor } } : undefined) }),
    );
    const ids = pages.flatMap((p) => p.body.items.map((r) => r.id));
    expect(pages.length).toBeGreaterThan(1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe("res_1");
    expect(pages.at(-1)!.body.nextCursor).toBeNull();
  });
});
