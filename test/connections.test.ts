// The backend's view of connections: listing with filters and stable paging, reading, deleting.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let org: { apiKey: string };
const ids: string[] = [];

async function connect(endUserId: string, integrationSlug: string, connectionName?: string) {
  const { sessionToken } = await server.createSession(org.apiKey, { integrationSlug, endUserId });
  const r = await server.gql(
    `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { connectionId } }`,
    { input: { connectionName } },
    { token: sessionToken },
  );
  return r.data.completeHostedConnectionSession.connectionId as string;
}

beforeAll(async () => {
  server = await startTestServer();
  org = await server.createOrganization("Connections org");
  for (let i = 0; i < 7; i++) ids.push(await connect(i % 2 ? "alice" : "bob", i % 3 ? "hacker-news" : "open-meteo", `c${i}`));
});
afterAll(() => server?.stop());

const LIST = `query($endUserId: String, $integrationSlug: String, $first: Int, $after: String) {
  connections(endUserId: $endUserId, integrationSlug: $integrationSlug, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id name endUser { id } integrationSlug }
  }
}`;

describe("connections", () => {
  it("lists newest first and filters by end user and integration", async () => {
    const all = await server.gql(LIST, {}, { token: org.apiKey });
    expect(all.data.connections.totalCount).toBe(7);
    expect(all.data.connections.nodes.map((n: { id: string }) => n.id)).toEqual([...ids].reverse());
    const alice = await server.gql(LIST, { endUserId: "alice" }, { token: org.apiKey });
    expect(alice.data.connections.nodes.every((n: { endUser: { id: string } }) => n.endUser.id === "alice")).toBe(true);
    expect(alice.data.connections.totalCount).toBe(3);
    const meteoBob = await server.gql(LIST, { endUserId: "bob", integrationSlug: "open-meteo" }, { token: org.apiKey });
    expect(meteoBob.data.connections.nodes.map((n: { name: string }) => n.name).sort()).toEqual(["c0", "c6"]);
  });

  it("pages through every connection exactly once, even when new ones arrive meanwhile", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const r: any = await server.gql(LIST, { first: 3, after }, { token: org.apiKey });
      seen.push(...r.data.connections.nodes.map((n: { id: string }) => n.id));
      after = r.data.connections.pageInfo.hasNextPage ? r.data.connections.pageInfo.endCursor : null;
      if (pages++ === 0) ids.push(await connect("carol", "hacker-news")); // newer than the cursor: not in this walk
    } while (after);
    expect(seen).toEqual(ids.slice(0, 7).reverse());
  });

  it("refuses a page size over 100 and a forged cursor", async () => {
    const big = await server.gql(LIST, { first: 101 }, { token: org.apiKey });
    expect(big.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const forged = await server.gql(LIST, { after: "bm90LWEtY3Vyc29y" }, { token: org.apiKey });
    expect(forged.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("deletes a connection; it is then gone from reads and lists", async () => {
    const id = ids[0]!;
    const del = await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id } }`, { id }, { token: org.apiKey });
    expect(del.data.deleteConnection.id).toBe(id);
    const read = await server.gql(`query($id: ID!) { connection(id: $id) { id } }`, { id }, { token: org.apiKey });
    expect(read.data.connection).toBeNull();
    const again = await server.gql(`mutation($id: ID!) { deleteConnection(id: $id) { id } }`, { id }, { token: org.apiKey });
    expect(again.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("treats a malformed id like an unknown one", async () => {
    const r = await server.gql(`{ connection(id: "not-a-uuid") { id } }`, {}, { token: org.apiKey });
    expect(r.errors).toBeUndefined();
    expect(r.data.connection).toBeNull();
  });
});
