// A real OAuth2 authorization server for tests (oauth2-mock-server on 127.0.0.1), registered with
// One Runtime as an operator's own catalog entry, and a driver that follows an authorization
// URL the way a browser would (the mock approves at once).
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Socket } from "node:net";
import { OAuth2Server } from "oauth2-mock-server";

export type MockProvider = {
  server: OAuth2Server;
  url: string;
  catalogDir: string;
  /** Token endpoint requests seen, by grant type. */
  tokenRequests: { grant_type: string; code_verifier?: string; refresh_token?: string }[];
  stop(): Promise<void>;
};

export async function startMockProvider(slug = "mock-provider"): Promise<MockProvider> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate("RS256");
  await server.start(0, "127.0.0.1");
  const url = server.issuer.url!;
  const tokenRequests: MockProvider["tokenRequests"] = [];
  server.service.on("beforeResponse", (_response: unknown, req: { body: MockProvider["tokenRequests"][number] }) => {
    tokenRequests.push({ ...req.body });
  });
  // A token endpoint that accepts connections and never answers: the exchange must time out.
  const hung = new Set<Socket>();
  const silent = createServer((socket) => {
    hung.add(socket);
    socket.on("close", () => hung.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
  const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const catalogDir = await mkdtemp(join(tmpdir(), "one-runtime-catalog-"));
  await mkdir(join(catalogDir, "integrations"));
  const entry = (s: string, extra: Record<string, unknown> = {}) => ({
    slug: s,
    name: `Mock Provider ${s}`,
    description: "An OAuth2 authorization server run by the test.",
    categories: ["developer-tools"],
    authType: "OAUTH2",
    docsUrl: "https://example.com/docs",
    oauth2: {
      authorizationUrl: `${url}/authorize`,
      tokenUrl: `${url}/token`,
      revocationUrl: `${url}/revoke`,
      defaultScopes: ["read", "write"],
      tokenEndpointAuthMethod: "client_secret_basic",
      tokenResponseMetadata: ["scope"],
      callbackMetadata: ["realmId"],
      ...extra,
    },
  });
  await writeFile(join(catalogDir, "integrations", `${slug}.json`), JSON.stringify(entry(slug)));
  await writeFile(join(catalogDir, "integrations", "issuer-provider.json"), JSON.stringify(entry("issuer-provider", { issuer: url })));
  await writeFile(join(catalogDir, "integrations", "silent-provider.json"), JSON.stringify(entry("silent-provider", { tokenUrl: `${silentUrl}/token` })));
  await writeFile(
    join(catalogDir, "integrations", "tenant-provider.json"),
    JSON.stringify(
      entry("tenant-provider", {
        authorizationUrl: "https://{tenant}.example.com/oauth/authorize",
        tokenUrl: "https://{tenant}.example.com/oauth/token",
        revocationUrl: undefined,
        userInputs: [{ key: "tenant", label: "Workspace", pattern: "[a-z0-9-]{3,30}", placeholder: "acme" }],
      }),
    ),
  );
  return {
    server,
    url,
    catalogDir,
    tokenRequests,
    stop: async () => {
      for (const socket of hung) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await server.stop();
    },
  };
}

/** Follows the provider's redirect back to our callback; returns the callback's response. */
export async function followAuthorization(authorizationUrl: string): Promise<{ callbackUrl: string; status: number; body: string }> {
  const atProvider = await fetch(authorizationUrl, { redirect: "manual" });
  const callbackUrl = atProvider.headers.get("location");
  if (!callbackUrl) throw new Error(`provider did not redirect (${atProvider.status})`);
  const back = await fetch(callbackUrl, { redirect: "manual" });
  return { callbackUrl, status: back.status, body: await back.text() };
}
