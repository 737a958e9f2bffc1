// Security matrix — the OAuth2 callback, against a real authorization server (oauth2-mock-server):
// missing, unknown, tampered, oversized and replayed state; `iss` mismatch; a wrong PKCE verifier
// (a code injected into another flow); the provider's `error` reflected safely (escaped, no
// script, no redirect). Each case asserts the refusal AND that nothing changed beyond what the
// case defines (a flow the provider failed ends FAILED, and only that). Behaviour: test/oauth.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followAuthorization, startMockProvider, type MockProvider } from "../support/oauth-provider.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createSession, errorLogLines, post, snapshot, unchangedBy, type Snapshot } from "./fixtures.js";

const START = `mutation { startHostedConnectionAuthorization(input: {}) { authorizationUrl } }`;

let server: TestServer;
let provider: MockProvider;
let apiKey: string;

beforeAll(async () => {
  provider = await startMockProvider();
  server = await startTestServer({ env: { ONE_RUNTIME_CATALOG_DIR: provider.catalogDir } });
  ({ apiKey } = await server.createOrganization("OAuth matrix org"));
  for (const integrationSlug of ["mock-provider", "issuer-provider"]) {
    const r = await post(server, `mutation($s: String!) { configureIntegration(input: { integrationSlug: $s, oauthClientId: "mock-client", oauthClientSecret: "mock-secret-value" }) { id } }`, { s: integrationSlug }, apiKey);
    expect(r.body.errors).toBeUndefined();
  }
});
afterAll(async () => {
  await server?.stop();
  await provider?.stop();
});

/** A session moved to AUTHORIZING, and the callback URL the provider sends the browser back to (not yet followed). */
async function authorizing(integrationSlug = "mock-provider") {
  const { sessionToken, sessionId } = await createSession(server, apiKey, { integrationSlug, endUserId: `oauth-${Math.random().toString(36).slice(2)}` });
  const started = await post(server, START, {}, sessionToken);
  expect(started.body.errors).toBeUndefined();
  const authorizationUrl = started.body.data.startHostedConnectionAuthorization.authorizationUrl as string;
  const atProvider = await fetch(authorizationUrl, { redirect: "manual" });
  const callback = new URL(atProvider.headers.get("location")!);
  return { sessionId, sessionToken, authorizationUrl, callback };
}

const callback = (url: URL | string, init: RequestInit = {}) => fetch(url, { redirect: "manual", ...init });

async function expectRefusalPage(res: Response, status = 400) {
  expect(res.status).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  return res.text();
}

const sessionRow = (id: string) => server.services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id } });

/** What a failed flow may change: that one session, to FAILED with `code`; nothing else. */
async function expectOnlyFailed(before: Snapshot, sessionId: string, code: string) {
  const after = await snapshot(server);
  expect(after.connections).toEqual(before.connections);
  expect(after.configs).toEqual(before.configs);
  expect(after.sessions.filter((s) => s.id !== sessionId)).toEqual(before.sessions.filter((s) => s.id !== sessionId));
  expect(after.sessions.find((s) => s.id === sessionId)).toMatchObject({ status: "FAILED", errorCode: code, connectionId: null });
}

describe("state", () => {
  it("missing: 400, nothing changed", async () => {
    const flow = await authorizing();
    const url = new URL(flow.callback);
    url.searchParams.delete("state");
    await unchangedBy(server, async () => expectRefusalPage(await callback(url)));
    expect((await sessionRow(flow.sessionId)).status).toBe("AUTHORIZING");
  });

  it.each([
    ["unknown (well-formed, never issued)", () => "A".repeat(43)],
    ["tampered (one character changed)", (s: string) => s.slice(0, -1) + (s.at(-1) === "A" ? "B" : "A")],
    ["oversized", (s: string) => s.repeat(10)],
    ["empty", () => ""],
  ])("%s: 400, nothing changed, the real flow still AUTHORIZING", async (_name, forge) => {
    const flow = await authorizing();
    const url = new URL(flow.callback);
    url.searchParams.set("state", forge(url.searchParams.get("state")!));
    await unchangedBy(server, async () => expectRefusalPage(await callback(url)));
    expect((await sessionRow(flow.sessionId)).status).toBe("AUTHORIZING");
    // The genuine callback still works afterwards: a forged one consumed nothing.
    expect((await callback(flow.callback)).status).toBe(200);
  });

  it("replayed after success: 400, nothing changed", async () => {
    const flow = await authorizing();
    expect((await callback(flow.callback)).status).toBe(200);
    await unchangedBy(server, async () => expectRefusalPage(await callback(flow.callback)));
  });

  it("replayed after the provider failed the flow: 400, nothing changed", async () => {
    const flow = await authorizing();
    const failed = new URL(flow.callback);
    failed.searchParams.delete("code");
    failed.searchParams.set("error", "access_denied");
    expect((await callback(failed)).status).toBe(400);
    await unchangedBy(server, async () => expectRefusalPage(await callback(flow.callback)));
    expect((await sessionRow(flow.sessionId)).status).toBe("FAILED");
  });

  it("a POST to the callback: 405, nothing changed", async () => {
    const flow = await authorizing();
    await unchangedBy(server, async () => expectRefusalPage(await callback(flow.callback, { method: "POST" }), 405));
  });
});

describe("the provider's response", () => {
  it("`iss` other than the issuer the catalog names: 400, the flow FAILED (issuer_mismatch), nothing else changed", async () => {
    const flow = await authorizing("issuer-provider");
    const url = new URL(flow.callback);
    url.searchParams.set("iss", "https://attacker.example.com");
    const before = await snapshot(server);
    await expectRefusalPage(await callback(url));
    await expectOnlyFailed(before, flow.sessionId, "issuer_mismatch");
  });

  it("a wrong PKCE verifier (one flow's code injected into another's callback): the provider refuses, the flow FAILED, no connection", async () => {
    const victim = await authorizing();
    const attacker = await authorizing();
    // The attacker's code, delivered with the victim's state: exchanged with the victim's
    // verifier, which does not match the challenge the attacker's code was issued for.
    const injected = new URL(victim.callback);
    injected.searchParams.set("code", attacker.callback.searchParams.get("code")!);
    const before = await snapshot(server);
    await expectRefusalPage(await callback(injected));
    const after = await snapshot(server);
    expect(after.connections).toEqual(before.connections);
    expect(after.sessions.find((s) => s.id === victim.sessionId)).toMatchObject({ status: "FAILED", connectionId: null, errorCode: "token_exchange_failed" });
    expect(after.sessions.filter((s) => s.id !== victim.sessionId)).toEqual(before.sessions.filter((s) => s.id !== victim.sessionId));
  });

  it("a provider `error` is reflected safely: escaped, no script of its own, no redirect; the flow FAILED with a safe code", async () => {
    const flow = await authorizing();
    const url = new URL(flow.callback);
    url.searchParams.delete("code");
    url.searchParams.set("error", `<script>alert("x")</script>`);
    url.searchParams.set("error_description", `<img src=x onerror=alert(1)>`);
    url.searchParams.set("error_uri", "javascript:alert(1)");
    url.searchParams.set("redirect_uri", "https://attacker.example.com/steal");
    url.searchParams.set("next", "https://attacker.example.com/");
    const before = await snapshot(server);
    const html = await expectRefusalPage(await callback(url));
    expect(html).not.toMatch(/<script>alert|<img|onerror|javascript:|attacker\.example/i);
    // The only script a refusal page may carry is none: no nonce'd closer on failures either.
    expect(html).not.toMatch(/<script/i);
    await expectOnlyFailed(before, flow.sessionId, "provider_error");
    const read = await post(server, `{ hostedConnectionSession { status error { code message } } }`, {}, flow.sessionToken);
    expect(read.body.data.hostedConnectionSession.error.code).toBe("provider_error");
  });

  it("a provider `error` with a state that matches nothing fails nobody's flow: 400, nothing changed", async () => {
    const flow = await authorizing();
    const url = new URL(flow.callback);
    url.searchParams.delete("code");
    url.searchParams.set("error", "access_denied");
    url.searchParams.set("state", "B".repeat(43));
    await unchangedBy(server, async () => expectRefusalPage(await callback(url)));
    expect((await sessionRow(flow.sessionId)).status).toBe("AUTHORIZING");
  });

  it("a provider answering with a valid flow's state but no code: the flow FAILED, no connection", async () => {
    const flow = await authorizing();
    const url = new URL(flow.callback);
    url.searchParams.delete("code");
    const before = await snapshot(server);
    await expectRefusalPage(await callback(url));
    const after = await snapshot(server);
    expect(after.connections).toEqual(before.connections);
    expect(after.sessions.find((s) => s.id === flow.sessionId)).toMatchObject({ status: "FAILED", connectionId: null });
  });
});

it("the genuine flow still connects (the matrix's refusals are not everything refused)", async () => {
  const { sessionToken, sessionId } = await createSession(server, apiKey, { integrationSlug: "mock-provider", endUserId: "genuine" });
  const started = await post(server, START, {}, sessionToken);
  expect((await followAuthorization(started.body.data.startHostedConnectionAuthorization.authorizationUrl)).status).toBe(200);
  expect((await sessionRow(sessionId)).status).toBe("CONNECTED");
});

it("no refusal in this file was logged as an error", () => {
  expect(errorLogLines(server)).toEqual([]);
});
