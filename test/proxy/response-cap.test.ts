// The proxy's cap on a provider's response body, on a server configured with a 1 MB cap so the
// tests send a few MB rather than 100: a body declared over the cap is refused before any of it
// is forwarded, and one that streams past it is cut, so the caller never holds a truncated body
// that looks complete.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

const CAP = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 7);

let f: ProxyFixture;
let connectionId: string;
beforeAll(async () => {
  f = await startProxyFixture({ env: { ONE_RUNTIME_PROXY_MAX_BODY_MB: "1" } });
  connectionId = await f.connectWith("proxy-header", { apiKey: "capped-key-0001" });
});
afterAll(() => f?.stop());

type Received = { status: number; headers: http.IncomingHttpHeaders; bytes: number; body: Buffer; complete: boolean };
/** Reads the whole answer, or as much as arrives before the connection is cut (`complete` false). */
function get(path: string): Promise<Received> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${f.server.url}/proxy/${connectionId}${path}`, { headers: { authorization: `Bearer ${f.org.apiKey}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", () => {}); // a cut connection; `complete` reports it
      res.on("close", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, bytes: body.length, body, complete: res.complete });
      });
    });
    req.on("error", reject);
  });
}

/** A chunked (undeclared length) answer of `total` bytes, written chunk by chunk. */
function chunked(total: number) {
  return (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    let sent = 0;
    const more = () => {
      while (sent < total) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once("drain", more);
      }
      res.end();
    };
    res.on("error", () => {});
    more();
  };
}

describe("the proxy's response size cap", () => {
  it("answers a response declared over the cap with 502 PROVIDER_ERROR, forwards none of it, and drops the provider's connection", async () => {
    let providerClosed!: Promise<void>;
    f.api.queue((_req, res) => {
      providerClosed = new Promise((resolve) => res.once("close", () => resolve()));
      res.on("error", () => {});
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(CAP + 1), "x-provider": "big" });
      res.write(CHUNK); // and then nothing: only the proxy can end this exchange
    });
    const r = await get("/export");
    expect([r.status, r.headers["x-one-runtime-proxy-error"], r.headers["x-provider"], r.complete]).toEqual([502, "PROVIDER_ERROR", undefined, true]);
    expect(JSON.parse(r.body.toString("utf8")).error).toMatchObject({ code: "PROVIDER_ERROR", message: `The provider's response is over ${CAP} bytes` });
    await providerClosed;
  });

  it("cuts a chunked response that streams past the cap, so the caller sees an incomplete body", async () => {
    f.api.queue(chunked(3 * CAP));
    const r = await get("/stream");
    expect(r.status).toBe(200);
    expect(r.complete).toBe(false);
    expect(r.bytes).toBeLessThanOrEqual(CAP);
  });

  it("passes a chunked response up to the cap through whole", async () => {
    f.api.queue(chunked(CAP));
    const r = await get("/stream");
    expect([r.status, r.complete, r.bytes]).toEqual([200, true, CAP]);
  });

  it("refuses a chunked upload that grows past the cap with 413 PAYLOAD_TOO_LARGE", async () => {
    const r = await new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
      const req = http.request(`${f.server.url}/proxy/${connectionId}/upload`, { method: "POST", headers: { authorization: `Bearer ${f.org.apiKey}`, "transfer-encoding": "chunked" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, code: JSON.parse(Buffer.concat(chunks).toString("utf8")).error?.code }));
      });
      req.on("error", reject);
      let sent = 0;
      const more = () => {
        while (sent < 3 * CAP) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) return void req.once("drain", more);
        }
        req.end();
      };
      more();
    });
    expect(r).toEqual({ status: 413, code: "PAYLOAD_TOO_LARGE" });
  });
});
