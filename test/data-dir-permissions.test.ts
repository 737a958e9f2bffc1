// The embedded data folder is its owner's alone: after a start and a flow (an end user's email
// in the database and its WAL), no file under it is readable or writable by group or others and
// no folder is accessible to them; a folder left with looser modes by an older version is
// tightened on the next start.
import { chmod, lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, testStore, type TestServer } from "./support/server.js";

const COMPLETE = `mutation($input: CompleteHostedConnectionSessionInput!) { completeHostedConnectionSession(input: $input) { status connectionId } }`;

type Entry = { path: string; mode: number; dir: boolean };
async function walk(path: string, out: Entry[] = []): Promise<Entry[]> {
  const info = await lstat(path);
  out.push({ path, mode: info.mode & 0o777, dir: info.isDirectory() });
  if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name), out);
  return out;
}
/** Every entry some other user could read, write or enter, with its mode. */
const openToOthers = (entries: Entry[]) => entries.filter((e) => e.mode & 0o077).map((e) => `${e.mode.toString(8)} ${e.path}`);

let server: TestServer | undefined;
const dataDir = mkdtemp(join(tmpdir(), "one-runtime-modes-"));
afterAll(async () => {
  await server?.stop();
  await rm(await dataDir, { recursive: true, force: true });
});

async function connectSomeone(s: TestServer, endUserId: string) {
  const org = await s.createOrganization("Modes org");
  const { sessionToken } = await s.createSession(org.apiKey, { integrationSlug: "openai", endUserId, endUserEmail: `${endUserId}@example.com` });
  const done = await s.gql(COMPLETE, { input: { credentials: [{ key: "apiKey", value: "sk-proj-modesmodesmodesmodes0123456789" }] } }, { token: sessionToken });
  expect(done.data?.completeHostedConnectionSession.status).toBe("CONNECTED");
}

describe.runIf(testStore === "pglite")("the embedded data folder", { timeout: 180_000 }, () => {
  it("holds only owner-only files (0600) and folders (0700) after a start and a flow, running and stopped", async () => {
    server = await startTestServer({ dataDir: await dataDir, env: { ONE_RUNTIME_DEV_ORG: "true" } });
    await connectSomeone(server, "ada");
    const running = await walk(await dataDir);
    // The folder really holds the store, the development key and the lock (so the check means something).
    expect(running.length).toBeGreaterThan(500);
    expect(running.map((e) => e.path)).toEqual(expect.arrayContaining(["pgdata", "encryption-key", "dev-api-key", "server.lock"].map((n) => join(server!.dataDir, n))));
    expect(openToOthers(running)).toEqual([]);

    await server.stop();
    server = undefined;
    expect(openToOthers(await walk(await dataDir))).toEqual([]);
  });

  it("an existing folder with 0644 files and 0755 folders is tightened on start", async () => {
    const loosened = await walk(await dataDir);
    for (const e of loosened) await chmod(e.path, e.dir ? 0o755 : 0o644);
    expect(openToOthers(await walk(await dataDir)).length).toBe(loosened.length);

    server = await startTestServer({ dataDir: await dataDir, env: { ONE_RUNTIME_DEV_ORG: "true" } });
    expect(openToOthers(await walk(await dataDir))).toEqual([]);
    // And the store still works.
    await connectSomeone(server, "grace");
    expect(openToOthers(await walk(await dataDir))).toEqual([]);
  });
});
