// The egress guard: addresses are judged after DNS resolution, so no spelling of a name reaches a
// private, loopback, link-local or metadata address unless loopback is explicitly allowed.
import http from "node:http";
import type { AddressInfo, LookupFunction } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDestination, DestinationBlocked, egressAgent, isDestinationBlocked, type EgressPolicy } from "../server/egress.js";

const answers: Record<string, string> = { "loopback.example": "127.0.0.1", "metadata.example": "169.254.169.254", "private.example": "10.1.2.3" };
const lookup = ((hostname: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  const address = answers[hostname];
  if (!address) return cb(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }));
  return options.all ? cb(null, [{ address, family: 4 }]) : cb(null, address, 4);
}) as unknown as LookupFunction;

let server: http.Server;
let port = 0;
beforeAll(async () => {
  server = http.createServer((_req, res) => res.end("reached"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// Goes straight to the agent (no checkDestination), so only the after-DNS check can refuse.
function get(url: string, policy: EgressPolicy): Promise<string> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .get(target, { agent: egressAgent(target, policy) }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

describe("egress guard", () => {
  it("refuses a name that resolves to loopback, and reaches it only with the switch on", async () => {
    const error = await get(`http://loopback.example:${port}/`, { allowLoopback: false, lookup }).catch((e: unknown) => e);
    expect(isDestinationBlocked(error)).toBe(true);
    await expect(get(`http://loopback.example:${port}/`, { allowLoopback: true, lookup })).resolves.toBe("reached");
  });

  it("refuses names resolving to metadata or private addresses even with loopback allowed", async () => {
    for (const host of ["metadata.example", "private.example"]) {
      const error = await get(`http://${host}:${port}/`, { allowLoopback: true, lookup }).catch((e: unknown) => e);
      expect(isDestinationBlocked(error), host).toBe(true);
    }
  });

  it("judges literal addresses, schemes and credentials from the URL alone", () => {
    const strict = { allowLoopback: false };
    const refused = [
      "http://127.0.0.1/",
      "https://localhost/",
      "https://169.254.169.254/latest/meta-data",
      "https://[::ffff:127.0.0.1]/",
      "https://10.0.0.1/",
      "https://[fd00::1]/",
      "http://example.com/",
      "ftp://example.com/",
      "https://user:pw@example.com/",
    ];
    for (const url of refused) expect(() => checkDestination(new URL(url), strict), url).toThrow(DestinationBlocked);
    expect(() => checkDestination(new URL("https://api.example.com/x"), strict)).not.toThrow();
    expect(() => checkDestination(new URL("http://127.0.0.1:8080/"), { allowLoopback: true })).not.toThrow();
    expect(() => checkDestination(new URL("http://169.254.169.254/"), { allowLoopback: true })).toThrow(DestinationBlocked);
  });
});
