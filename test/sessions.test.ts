// Hosted connection sessions through the public API: creation, the popup's operations, expiry,
// replay, isolation between organizations, and racing submissions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelAbandonedPopups, POPUP_CLOSE_GRACE_MS } from "../server/sessions/complete.js";
import { startTestServer, type TestServer } from "./support/server.js";

const CREATE = `mutation($input: CreateHostedConnectionSessionInput!) {
  createHostedConnectionSession(input: $input) { sessionToken expiresAt session { id status integration { slug name } endUser { id name email } suggestedConnectionName } }
}`;
const READ = `{ hostedConnectionSession { id status connectionId connectionName error { code message } integration { slug authType credentialFields { key secret } } endUser { id name email } suggestedConnectionName } }`;
const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { id status connectionId connectionName } }`;
const CANCEL = `mutation { cancelHostedConnectionSession { id status error { code } } }`;
const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

let server: TestServer;
let orgA: { apiKey: string; organizationId: string };
let orgB: { apiKey: string; organizationId: string };

beforeAll(async () => {
  server = await startTestServer();
  orgA = await server.createOrganization("Org A");
  orgB = await server.createOrganization("Org B");
});
afterAll(() => server?.stop());

const countRows = async () => ({
  sessions: await server.services.prisma.hostedConnectionSession.count(),
  connections: await server.services.prisma.connection.count(),
});

describe("createHostedConnectionSession", () => {
  it("returns a token once, stores only its hash, and defaults to a 30 minute lifetime", async () => {
    const before = Date.now();
    const r = await server.gql(CREATE, { input: { integrationSlug: "openai", endUserId: "user-1", endUserName: "Ada", endUserEmail: "ada@example.com", suggestedConnectionName: "Ada's OpenAI" } }, { token: orgA.apiKey });
    expect(r.errors).toBeUndefined();
    const p = r.data.createHostedConnectionSession;
    expect(p.sessionToken).toMatch(/^ort_sess_[A-Za-z0-9_-]{43}$/);
    expect(p.session).toMatchObject({ status: "PENDING", integration: { slug: "openai" }, endUser: { id: "user-1", name: "Ada", email: "ada@example.com" }, suggestedConnectionName: "Ada's OpenAI" });
    const lifetime = new Date(p.expiresAt).getTime() - before;
    expect(lifetime).toBeGreaterThan(29 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(30 * 60_000 + 5_000);
    const row = await server.services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: p.session.id } });
    expect(JSON.stringify(row)).not.toContain(p.sessionToken.slice(9));
  });

  it.each([
    ["an unknown integration", { integrationSlug: "no-such-tool", endUserId: "u" }, "NOT_FOUND"],
    ["a bad e-mail", { integrationSlug: "openai", endUserId: "u", endUserEmail: "not-an-email" }, "BAD_USER_INPUT"],
    ["an oversized end user id", { integrationSlug: "openai", endUserId: "x".repeat(201) }, "BAD_USER_INPUT"],
    ["an empty end user id", { integrationSlug: "openai", endUserId: "  " }, "BAD_USER_INPUT"],
    ["a lifetime beyond the bound", { integrationSlug: "openai", endUserId: "u", expiresInSeconds: 86_401 }, "BAD_USER_INPUT"],
    ["a lifetime below the bound", { integrationSlug: "openai", endUserId: "u", expiresInSeconds: 5 }, "BAD_USER_INPUT"],
    ["another organization's connection to re-authorize", { integrationSlug: "openai", endUserId: "u", connectionId: "00000000-0000-4000-8000-000000000000" }, "NOT_FOUND"],
  ])("refuses %s with a typed error and stores nothing", async (_name, input, code) => {
    const before = await countRows();
    const r = await server.gql(CREATE, { input }, { token: orgA.apiKey });
    expect(r.errors?.[0]?.extensions?.code).toBe(code);
    expect(await countRows()).toEqual(before);
  });

  it("names the offending field for bad input", async () => {
    const r = await server.gql(CREATE, { input: { integrationSlug: "openai", endUserId: "u", endUserEmail: "nope" } }, { token: orgA.apiKey });
    expect(r.errors?.[0]?.extensions?.fieldErrors).toEqual([expect.objectContaining({ field: "endUserEmail" })]);
  });

  it("cannot be called with a session token", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "u" });
    const r = await server.gql(CREATE, { input: { integrationSlug: "openai", endUserId: "u" } }, { token: sessionToken });
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("the popup's operations", () => {
  it("reads its session with the token alone, including what to ask for", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "u-read", endUserName: "Grace" });
    const r = await server.gql(READ, {}, { token: sessionToken });
    expect(r.data.hostedConnectionSession).toMatchObject({ id: sessionId, status: "PENDING", endUser: { name: "Grace" }, integration: { slug: "openai", authType: "API_KEY" } });
    expect(r.data.hostedConnectionSession.integration.credentialFields.some((f: { secret: boolean }) => f.secret)).toBe(true);
  });

  it("creates one connection from valid credentials; the backend then finds it", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "u-ok", suggestedConnectionName: "Suggested" });
    const done = await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: ` ${OPENAI_KEY} ` }] } }, { token: sessionToken });
    expect(done.errors).toBeUndefined();
    expect(done.data.completeHostedConnectionSession).toMatchObject({ status: "CONNECTED", connectionName: "Suggested" });
    const id = done.data.completeHostedConnectionSession.connectionId;
    const read = await server.gql(`query($id: ID!) { connection(id: $id) { id name status authType integration { slug } endUser { id } credentials { apiKey values { key value } } } }`, { id }, { token: orgA.apiKey });
    expect(read.data.connection).toMatchObject({ id, name: "Suggested", status: "ACTIVE", authType: "API_KEY", integration: { slug: "openai" }, endUser: { id: "u-ok" } });
    expect(read.data.connection.credentials.apiKey).toBe(OPENAI_KEY);
  });

  it("returns field-level errors for values that do not fit the integration, and creates nothing", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "u-bad" });
    const before = await countRows();
    const r = await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: "not a key" }, { key: "bogus", value: "x" }] } }, { token: sessionToken });
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const fields = r.errors![0]!.extensions!.fieldErrors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(["apiKey", "bogus"]);
    expect(await countRows()).toEqual(before);
    const still = await server.gql(READ, {}, { token: sessionToken });
    expect(still.data.hostedConnectionSession.status).toBe("PENDING");
  });

  it("requires every mandatory field", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "twilio", endUserId: "u" });
    const r = await server.gql(COMPLETE, { input: { credentials: [] } }, { token: sessionToken });
    expect(r.errors?.[0]?.extensions?.fieldErrors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(["username", "password"]));
  });

  it("connects a no-credential integration with nothing but a name", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "hacker-news", endUserId: "u-none" });
    const r = await server.gql(COMPLETE, { input: { connectionName: "HN feed" } }, { token: sessionToken });
    expect(r.data.completeHostedConnectionSession).toMatchObject({ status: "CONNECTED", connectionName: "HN feed" });
  });

  it("a finished token can only read its final state: replay is refused", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "hacker-news", endUserId: "u-replay" });
    await server.gql(COMPLETE, { input: {} }, { token: sessionToken });
    const before = await countRows();
    const again = await server.gql(COMPLETE, { input: {} }, { token: sessionToken });
    expect(again.errors?.[0]?.extensions?.code).toBe("SESSION_COMPLETED");
    const cancel = await server.gql(CANCEL, {}, { token: sessionToken });
    expect(cancel.errors?.[0]?.extensions?.code).toBe("SESSION_COMPLETED");
    expect(await countRows()).toEqual(before);
    const read = await server.gql(READ, {}, { token: sessionToken });
    expect(read.data.hostedConnectionSession.status).toBe("CONNECTED");
  });

  it("cancel ends the session; nothing can complete it afterwards", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "hacker-news", endUserId: "u-cancel" });
    const c = await server.gql(CANCEL, {}, { token: sessionToken });
    expect(c.data.cancelHostedConnectionSession).toMatchObject({ status: "CANCELLED", error: { code: "cancelled" } });
    const r = await server.gql(COMPLETE, { input: {} }, { token: sessionToken });
    expect(r.errors?.[0]?.extensions?.code).toBe("SESSION_COMPLETED");
  });

  it("an expired token cannot submit credentials, whatever the client believes", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "u-exp" });
    await server.services.prisma.hostedConnectionSession.update({ where: { id: sessionId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const before = await countRows();
    const r = await server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, { token: sessionToken });
    expect(r.errors?.[0]?.extensions?.code).toBe("SESSION_EXPIRED");
    expect(await countRows()).toEqual(before);
    const read = await server.gql(READ, {}, { token: sessionToken });
    expect(read.data.hostedConnectionSession).toMatchObject({ status: "EXPIRED", error: { code: "session_expired" } });
  });

  it.each([
    ["a malformed token", "ort_sess_short"],
    ["an unknown token", `ort_sess_${"A".repeat(43)}`],
  ])("%s is UNAUTHENTICATED", async (_n, token) => {
    const r = await server.gql(READ, {}, { token });
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("an API key cannot use the popup's operations", async () => {
    const r = await server.gql(READ, {}, { token: orgA.apiKey });
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("two submissions racing on one session create exactly one connection", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "u-race" });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => server.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: OPENAI_KEY }] } }, { token: sessionToken })),
    );
    const ok = results.filter((r) => !r.errors);
    expect(ok.length).toBe(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0]!.extensions!.code).toBe("SESSION_COMPLETED");
    expect(await server.services.prisma.connection.count({ where: { endUserId: "u-race" } })).toBe(1);
    const s = await server.services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: sessionId } });
    expect(s.connectionId).toBe(ok[0]!.data.completeHostedConnectionSession.connectionId);
  });
});

describe("isolation between organizations", () => {
  it("org B's key cannot read, list or delete org A's connection: it behaves as unknown", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "hacker-news", endUserId: "shared-user" });
    const done = await server.gql(COMPLETE, { input: {} }, { token: sessionToken });
    const id = done.data.completeHostedConnectionSession.connectionId;
    const readB = await server.gql(`query($id: ID!) { connection(id: $id) { id } }`, { id }, { token: orgB.apiKey });
    expect(readB.data.connection).toBeNull();
    const unknown = await server.gql(`query($id: ID!) { connection(id: $id) { id } }`, { id: "00000000-0000-4000-8000-000000000000" }, { token: orgB.apiKey });
    expect(readB).toEqual(unknown);
    const listB = await server.gql(`{ connections(endUserId: "shared-user") { totalCount nodes { id } } }`, {}, { token: orgB.apiKey });
    expect(listB.data.connections).toEqual({ totalCount: 0, nodes: [] });
    const delB = await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id } }`, { id }, { token: orgB.apiKey });
    expect(delB.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const delUnknown = await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id } }`, { id: "00000000-0000-4000-8000-000000000000" }, { token: orgB.apiKey });
    expect(delB.errors?.[0]).toEqual(delUnknown.errors?.[0]);
    const stillA = await server.gql(`query($id: ID!) { connection(id: $id) { id } }`, { id }, { token: orgA.apiKey });
    expect(stillA.data.connection.id).toBe(id);
  });

  it("org B cannot re-authorize org A's connection", async () => {
    const { sessionToken } = await server.createSession(orgA.apiKey, { integrationSlug: "hacker-news", endUserId: "u-re" });
    const id = (await server.gql(COMPLETE, { input: {} }, { token: sessionToken })).data.completeHostedConnectionSession.connectionId;
    const r = await server.gql(CREATE, { input: { integrationSlug: "hacker-news", endUserId: "u-re", connectionId: id } }, { token: orgB.apiKey });
    expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });
});

describe("the popup's close beacon", () => {
  /** The beacon a popup page sends at pagehide: its session token, then its page id. */
  const beacon = (token: string, page?: string) =>
    fetch(`${server.url}/connect/closed`, { method: "POST", body: page ? `${token} ${page}` : token, headers: { "content-type": "text/plain" } });
  /** A read by one load of the popup (it names its page), as the popup makes on load. */
  const readAs = (token: string, page: string) => server.gql(READ, {}, { token, headers: { "x-one-runtime-popup-page": page } });
  /** The row as stored, read without a token. */
  const stored = (id: string) => server.services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id } });
  const pastTheGrace = () => new Promise((resolve) => setTimeout(resolve, POPUP_CLOSE_GRACE_MS + 1_500));
  const PAGE_1 = "page-one-0123456789";
  const PAGE_2 = "page-two-0123456789";

  it("cancels a PENDING session once the grace has passed without another page of the popup reading it", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "beacon-1" });
    await readAs(sessionToken, PAGE_1);
    expect((await beacon(sessionToken, PAGE_1)).status).toBe(204);
    expect(await stored(sessionId)).toMatchObject({ status: "PENDING", closeRequestedAt: expect.any(Date) }); // a reload may still come
    await expect.poll(() => stored(sessionId)).toMatchObject({ status: "CANCELLED", errorCode: "popup_closed" });
    const read = await server.gql(READ, {}, { token: sessionToken });
    expect(read.data.hostedConnectionSession).toMatchObject({ status: "CANCELLED", error: { code: "popup_closed" } });
  });

  it("counts a beacon that names no page (a popup from before pages were named) after the grace too", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "beacon-no-page" });
    expect((await beacon(sessionToken)).status).toBe(204);
    expect((await stored(sessionId)).status).toBe("PENDING");
    await expect.poll(() => stored(sessionId)).toMatchObject({ status: "CANCELLED", errorCode: "popup_closed" });
  });

  it("keeps the session of a reloaded popup, whose new page reads it within the grace, and it can still finish", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "hacker-news", endUserId: "beacon-reload" });
    await readAs(sessionToken, PAGE_1);
    expect((await beacon(sessionToken, PAGE_1)).status).toBe(204);
    expect((await readAs(sessionToken, PAGE_2)).data.hostedConnectionSession.status).toBe("PENDING");
    await pastTheGrace();
    expect(await stored(sessionId)).toMatchObject({ status: "PENDING", closeRequestedAt: null, popupPageId: PAGE_2 });
    expect((await server.gql(COMPLETE, { input: {} }, { token: sessionToken })).data.completeHostedConnectionSession.status).toBe("CONNECTED");
  });

  it("ignores the old page's beacon when it arrives after the reloaded page has read the session", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "beacon-overtaken" });
    await readAs(sessionToken, PAGE_1);
    await readAs(sessionToken, PAGE_2);
    expect((await beacon(sessionToken, PAGE_1)).status).toBe(204);
    expect(await stored(sessionId)).toMatchObject({ status: "PENDING", closeRequestedAt: null });
    await pastTheGrace();
    expect((await stored(sessionId)).status).toBe("PENDING");
  });

  it("counts a close that follows a reload", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "beacon-reload-close" });
    await readAs(sessionToken, PAGE_1);
    await beacon(sessionToken, PAGE_1);
    await readAs(sessionToken, PAGE_2);
    await beacon(sessionToken, PAGE_2);
    await expect.poll(() => stored(sessionId)).toMatchObject({ status: "CANCELLED", errorCode: "popup_closed" });
  });

  it("a read that names no page (the SDK's) does not withdraw a close", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "beacon-sdk-read" });
    await readAs(sessionToken, PAGE_1);
    await beacon(sessionToken, PAGE_1);
    expect((await server.gql(READ, {}, { token: sessionToken })).data.hostedConnectionSession.status).toBe("PENDING");
    await expect.poll(() => stored(sessionId)).toMatchObject({ status: "CANCELLED", errorCode: "popup_closed" });
  });

  it("a close left pending by an instance that stopped is cancelled by the sweep", async () => {
    const { sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "openai", endUserId: "beacon-orphan" });
    // Recorded by a beacon whose instance stopped before its timer ran.
    await server.services.prisma.hostedConnectionSession.update({ where: { id: sessionId }, data: { closeRequestedAt: new Date(Date.now() - POPUP_CLOSE_GRACE_MS - 1_000) } });
    expect(await cancelAbandonedPopups(server.services)).toBeGreaterThanOrEqual(1);
    expect(await stored(sessionId)).toMatchObject({ status: "CANCELLED", errorCode: "popup_closed" });
  });

  it("leaves finished sessions alone and answers the same for unknown tokens", async () => {
    const { sessionToken, sessionId } = await server.createSession(orgA.apiKey, { integrationSlug: "hacker-news", endUserId: "beacon-2" });
    await server.gql(COMPLETE, { input: {} }, { token: sessionToken });
    expect((await beacon(sessionToken, PAGE_1)).status).toBe(204);
    expect(await stored(sessionId)).toMatchObject({ status: "CONNECTED", closeRequestedAt: null });
    expect((await beacon(`ort_sess_${"Z".repeat(43)}`)).status).toBe(204);
    expect((await beacon("garbage")).status).toBe(204);
  });
});


