// A real HTTP server on 127.0.0.1 standing in for a provider's API: it records what reached it
// (method, path, headers, body size and hash) and answers with whatever the test queued, by
// default 200 with a JSON echo. Catalog entries pointing at it are written next to the mock
// OAuth2 provider's, so one test server knows both.
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export type SeenRequest = { method: string; url: string; headers: http.IncomingHttpHeaders; bytes: number; sha256: string; body: string };
export type Answer = (req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest) => void;

export type ProviderApi = {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** Answers the next requests in order; afterwards the default echo. */
  queue(...answers: Answer[]): void;
  stop(): Promise<void>;
};

export const echo: Answer = (_req, res, seen) => {
  res.writeHead(200, { "content-type": "application/json", "set-cookie": "provider_session=abc", "x-provider": "stand-in" });
  res.end(JSON.stringify({ method: seen.method, url: seen.url, bytes: seen.bytes }));
};

export const status =
  (code: number, headers: Record<string, string> = {}): Answer =>
  (_req, res) => {
    res.writeHead(code, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ status: code }));
  };

/**
 * 401 for requests carrying `authorization`, held until `count` of them have arrived, so they were
 * provably in flight together; any other request is echoed.
 */
export function refuseTogether(authorization: string, count: number): Answer {
  const held: http.ServerResponse[] = [];
  return (req, res, seen) => {
    if (seen.headers.authorization !== authorization) return echo(req, res, seen);
    held.push(res);
    if (held.length === count) for (const r of held.splice(0)) status(401)(req, r, seen);
  };
}

export async function startProviderApi(): Promise<ProviderApi> {
  const seen: SeenRequest[] = [];
  const pending: Answer[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer(async (req, res) => {
    const hash = createHash("sha256");
    let bytes = 0;
    let head = "";
    for await (const chunk of req as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      hash.update(chunk);
      if (head.length < 4096) head += chunk.toString("utf8", 0, Math.min(chunk.length, 4096));
    }
    const entry: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, bytes, sha256: hash.digest("hex"), body: head };
    seen.push(entry);
    (pending.shift() ?? echo)(req, res, entry);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    queue: (...answers) => void pending.push(...answers),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes the proxy tests' catalog entries (one per credential placement) into `catalogDir`. */
export async function writeProxyEntries(catalogDir: string, oauthUrl: string, apiUrl: string, extra: Record<string, object> = {}) {
  const base = { categories: ["developer-tools"], docsUrl: "https://example.com/docs", description: "A provider API stand-in run by the test." };
  const key = (k = "apiKey") => ({ key: k, label: "API key", secret: true });
  const entries: Record<string, object> = {
    "proxy-oauth": {
      ...base,
      authType: "OAUTH2",
      oauth2: { authorizationUrl: `${oauthUrl}/authorize`, tokenUrl: `${oauthUrl}/token`, defaultScopes: ["read"], tokenEndpointAuthMethod: "client_secret_basic" },
      api: { baseUrl: `${apiUrl}/v1`, headers: { "X-Api-Version": "2024-01-01" } },
    },
    // The API's origin comes from the token response (as Salesforce's instance_url does).
    "proxy-instance": {
      ...base,
      authType: "OAUTH2",
      oauth2: { authorizationUrl: `${oauthUrl}/authorize`, tokenUrl: `${oauthUrl}/token`, defaultScopes: ["read"], tokenEndpointAuthMethod: "client_secret_basic", tokenResponseMetadata: ["instance_url"] },
      api: { baseUrl: "{metadata.instance_url}/services/data" },
    },
    "proxy-header": { ...base, authType: "API_KEY", credentialFields: [key()], api: { baseUrl: `${apiUrl}/v1`, auth: { type: "header", name: "X-Api-Key", value: "{apiKey}" } } },
    "proxy-query": { ...base, authType: "API_KEY", credentialFields: [key()], api: { baseUrl: `${apiUrl}/v1`, auth: { type: "query", name: "api_key", value: "{apiKey}" } } },
    "proxy-basic": {
      ...base,
      authType: "BASIC",
      credentialFields: [{ key: "username", label: "User", secret: false }, { key: "password", label: "Password", secret: true }],
      api: { baseUrl: `${apiUrl}/v1` },
    },
    "proxy-tenant": {
      ...base,
      authType: "API_KEY",
      credentialFields: [key(), { key: "tenant", label: "Tenant", secret: false, pattern: "[a-z0-9-]{1,30}" }],
      api: { baseUrl: `${apiUrl}/tenants/{tenant}` },
    },
    ...extra,
  };
  for (const [slug, entry] of Object.entries(entries)) await writeFile(join(catalogDir, "integrations", `${slug}.json`), JSON.stringify({ slug, name: slug, ...entry }));
}
