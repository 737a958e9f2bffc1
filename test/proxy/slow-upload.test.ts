// The proxy's timeout counts stalls and the wait for the provider's answer, not the length of an
// upload: a body that keeps coming for longer than the timeout still goes through, while one that
// stops for that long is given up on.
import http from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

let f: ProxyFixture;
let connectionId: string;
beforeAll(async () => {
  f = await startProxyFixture({ env: { ONE_RUNTIME_PROXY_TIMEOUT_SECONDS: "1" } });
  connectionId = await f.connectWith("proxy-header", { apiKey: "slow-upload-key-0001" });
});
afterAll(() => f?.stop());

/**
 * POSTs `chunks` pieces of 256 KB, `gapMs` apart (over 1 MB in all, so the proxy streams it rather
 * than holding it for a resend); resolves with the status the proxy answered.
 */
const CHUNK = 256 * 1024;
function trickle(chunks: number, gapMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${f.server.url}/proxy/${connectionId}/upload`);
    const req = http.request(url, { method: "POST", headers: { authorization: `Bearer ${f.org.apiKey}`, "content-length": String(chunks * CHUNK) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    let sent = 0;
    const next = () => {
      if (sent === chunks) return req.end();
      sent++;
      req.write(Buffer.alloc(CHUNK, 7));
      setTimeout(next, gapMs);
    };
    next();
  });
}

it("an upload that keeps coming for longer than the timeout is forwarded whole", async () => {
  expect(await trickle(10, 250)).toBe(200); // 2.5 s of upload against a 1 s timeout
  expect(f.api.seen.at(-1)!.bytes).toBe(10 * CHUNK);
});

it("an upload that stalls for the timeout is given up on with PROVIDER_TIMEOUT", async () => {
  expect(await trickle(6, 2_500)).toBe(504);
});
