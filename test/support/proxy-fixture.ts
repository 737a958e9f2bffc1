// One test server that knows the mock OAuth2 provider and the provider API stand-in, with an
// organization and helpers that create its connections through the public API.
import { randomUUID } from "node:crypto";
import type { LookupFunction } from "node:net";
import { openCredentials } from "../../server/connections/credentials.js";
import { followAuthorization, startMockProvider, type MockProvider } from "./oauth-provider.js";
import { startProviderApi, writeProxyEntries, type ProviderApi } from "./provider-api.js";
import { startTestServer, type TestServer } from "./server.js";

export type ProxyFixture = {
  server: TestServer;
  oauth: MockProvider;
  api: ProviderApi;
  org: { apiKey: string; organizationId: string };
  /** Connects `proxy-oauth` (or `slug`) for an end user; `expiresIn` overrides the token's lifetime, `tokenExtras` adds token response fields. */
  connectOAuth(endUserId: string, opts?: { expiresIn?: number; slug?: string; tokenExtras?: Record<string, unknown> }): Promise<string>;
  /** Connects the built-in OAuth2 sandbox: consent page approved, as an end user would. */
  connectSandbox(endUserId: string): Promise<string>;
  /** Connects an API_KEY or BASIC entry with these values. */
  connectWith(slug: string, values: Record<string, string>, apiKey?: string): Promise<string>;
  accessTokenOf(connectionId: string): Promise<string>;
  stop(): Promise<void>;
};

const START = `mutation($input: StartHostedConnectionAuthorizationInput!) { startHostedConnectionAuthorization(input: $input) { authorizationUrl } }`;
const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { connectionId } }`;
const READ = `{ hostedConnectionSession { connectionId error { code } } }`;

export async function startProxyFixture(opts: { env?: Record<string, string>; egressLookup?: LookupFunction; extraEntries?: (apiUrl: string) => Record<string, object> } = {}): Promise<ProxyFixture> {
  const oauth = await startMockProvider();
  // The mock signs the same claims into the same token within a second: a jti tells them apart.
  oauth.server.service.on("beforeTokenSigning", (token: { payload: Record<string, unknown> }) => {
    token.payload.jti = randomUUID();
  });
  const api = await startProviderApi();
  await writeProxyEntries(oauth.catalogDir, oauth.url, api.url, opts.extraEntries?.(api.url));
  const server = await startTestServer({
    env: { ONE_RUNTIME_CATALOG_DIR: oauth.catalogDir, ONE_RUNTIME_SANDBOX: "true", ONE_RUNTIME_EGRESS_ALLOW_LOOPBACK: "true", ...opts.env },
    egressLookup: opts.egressLookup,
  });
  const org = await server.createOrganization("Proxy org");
  for (const integrationSlug of ["proxy-oauth", "proxy-instance"]) {
    const configured = await server.gql(
      `mutation($input: ConfigureIntegrationInput!) { configureIntegration(input: $input) { integrationSlug } }`,
      { input: { integrationSlug, oauthClientId: "proxy-client", oauthClientSecret: "proxy-client-secret-9d2e4f" } },
      { token: org.apiKey },
    );
    if (configured.errors) throw new Error(JSON.stringify(configured.errors));
  }

  const connectWith: ProxyFixture["connectWith"] = async (slug, values, apiKey = org.apiKey) => {
    const { sessionToken } = await server.createSession(apiKey, { integrationSlug: slug, endUserId: `user-${slug}` });
    const r = await server.gql(COMPLETE, { input: { credentials: Object.entries(values).map(([key, value]) => ({ key, value })) } }, { token: sessionToken });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.completeHostedConnectionSession.connectionId as string;
  };

  return {
    server,
    oauth,
    api,
    org,
    async connectOAuth(endUserId, o = {}) {
      const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: o.slug ?? "proxy-oauth", endUserId });
      const started = await server.gql(START, { input: { connectionName: endUserId } }, { token: sessionToken });
      if (started.errors) throw new Error(JSON.stringify(started.errors));
      if (o.expiresIn !== undefined || o.tokenExtras) {
        oauth.server.service.once("beforeResponse", (response: { body: Record<string, unknown> }) => {
          if (o.expiresIn !== undefined) response.body.expires_in = o.expiresIn;
          Object.assign(response.body, o.tokenExtras);
        });
      }
      const back = await followAuthorization(started.data.startHostedConnectionAuthorization.authorizationUrl);
      if (back.status !== 200) throw new Error(`callback answered ${back.status}`);
      const read = await server.gql(READ, {}, { token: sessionToken });
      return read.data.hostedConnectionSession.connectionId as string;
    },
    connectWith,
    async connectSandbox(endUserId) {
      const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug: "oauth2-sandbox", endUserId });
      const started = await server.gql(START, { input: {} }, { token: sessionToken });
      const form = new URLSearchParams(new URL(started.data.startHostedConnectionAuthorization.authorizationUrl).searchParams);
      form.set("decision", "approve");
      const approved = await fetch(`${server.url}/sandbox/oauth/authorize`, { method: "POST", body: form, redirect: "manual" });
      const back = await fetch(approved.headers.get("location")!, { redirect: "manual" });
      if (back.status !== 200) throw new Error(`callback answered ${back.status}`);
      const read = await server.gql(READ, {}, { token: sessionToken });
      return read.data.hostedConnectionSession.connectionId as string;
    },
    async accessTokenOf(connectionId) {
      // Read straight from the vault: the GraphQL read would refresh a token near expiry.
      const row = await server.services.prisma.connection.findUniqueOrThrow({ where: { id: connectionId } });
      const stored = openCredentials(server.services.vault, row);
      if (stored.type !== "OAUTH2") throw new Error("not an OAuth2 connection");
      return stored.tokens.accessToken;
    },
    async stop() {
      await server.stop();
      await api.stop();
      await oauth.stop();
    },
  };
}
