// 50 MB through the proxy each way, streamed: what the server holds at any moment stays small.
// Everything runs in this process, so the live memory (after a forced collection, sampled while
// the bytes flow) bounds what the proxy holds; a proxy that buffered a body would hold 50 MB.
import { createHash } from "node:crypto";
import http from "node:http";
import { Readable } from "node:stream";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxyFixture, type ProxyFixture } from "../support/proxy-fixture.js";

const SIZE = 50 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** Generous: the streams' buffers are a few hundred KB; buffering one body would be 50 MB. */
const LIVE_GROWTH_LIMIT = 20 * 1024 * 1024;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const live = () => {
  // Twice: array buffers freed by the first collection are released by the second's sweep.
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** 50 MB of deterministic, non-repeating-per-chunk bytes, made as they are read. */
function generated(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= SIZE) return void this.push(null);
      const chunk = Buffer.alloc(CHUNK, sent / CHUNK);
      chunk.writeUInt32BE(sent / CHUNK, 0);
      sent += CHUNK;
      this.push(chunk);
    },
  });
}
const expectedHash = async () => {
  const hash = createHash("sha256");
  for await (const c of generated()) hash.update(c as Buffer);
  return hash.digest("hex");
};

/** Samples live memory every 100 ms while `work` runs; returns the peak growth over the start. */
async function peakLiveGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = live();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, live())), 100);
  try {
    const result = await work();
    return { result, growth: peak - baseline };
  } finally {
    clearInterval(timer);
  }
}

let f: ProxyFixture;
let connectionId: string;
beforeAll(async () => {
  // 50 MB each way on a busy 2-core machine can outlast the default 30 s to send a request.
  f = await startProxyFixture({ env: { ONE_RUNTIME_REQUEST_TIMEOUT_SECONDS: "600" } });
  connectionId = await f.connectWith("proxy-header", { apiKey: "streaming-key-0001" });
});
afterAll(() => f?.stop());

describe("streaming through the proxy", () => {
  it("uploads 50 MB byte for byte with the server's live memory flat", async () => {
    const url = new URL(`${f.server.url}/proxy/${connectionId}/upload`);
    const { result, growth } = await peakLiveGrowth(
      () =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(url, { method: "POST", headers: { authorization: `Bearer ${f.org.apiKey}`, "content-length": String(SIZE), "content-type": "application/octet-stream" } }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode!));
          });
          req.on("error", reject);
          generated().pipe(req);
        }),
    );
    expect(result).toBe(200);
    const seen = f.api.seen.at(-1)!;
    expect(seen.bytes).toBe(SIZE);
    expect(seen.sha256).toBe(await expectedHash());
    expect(growth).toBeLessThan(LIVE_GROWTH_LIMIT);
  });

  it("downloads 50 MB byte for byte with the server's live memory flat", async () => {
    f.api.queue((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(SIZE) });
      generated().pipe(res);
    });
    const { result, growth } = await peakLiveGrowth(async () => {
      const res = await fetch(`${f.server.url}/proxy/${connectionId}/download`, { headers: { authorization: `Bearer ${f.org.apiKey}` } });
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const c of Readable.fromWeb(res.body! as import("node:stream/web").ReadableStream<Uint8Array>)) {
        bytes += c.length;
        hash.update(c);
      }
      return { status: res.status, bytes, sha256: hash.digest("hex") };
    });
    expect(result).toEqual({ status: 200, bytes: SIZE, sha256: await expectedHash() });
    expect(growth).toBeLessThan(LIVE_GROWTH_LIMIT);
  });
});
