// `npm run start:prod`: the built server (dist/, rebuilt by the global setup whenever the sources
// changed) runs on plain node with no TypeScript tooling — on a fresh embedded data folder it
// starts, prints where it listens and a working development API key, serves the SDK and GraphQL,
// and exits 0 on SIGTERM.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnInstance, type Instance } from "./support/instances.js";
import { BUILT, nodeArgs, repoRoot } from "./support/server-build.js";
import { testStore } from "./support/server.js";

// The embedded store is the one a production start needs no service for; the PostgreSQL path of
// the same build runs in the multi-instance and shutdown tests.
describe.skipIf(testStore !== "pglite")("npm run start:prod", () => {
  let instance: Instance | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await instance?.stop("SIGKILL");
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("is plain node on the built entry point", async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts["start:prod"]).toBe(["node", ...nodeArgs(BUILT.server)].join(" "));
  });

  it("starts on a fresh embedded folder, serves /healthz, /connect.js and GraphQL with the printed API key, and exits 0 on SIGTERM", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "one-runtime-prod-"));
    // The defaults a user gets: no PostgreSQL, no Redis, the development organization made and shown.
    instance = await spawnInstance("start:prod", { ONE_RUNTIME_DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", ONE_RUNTIME_DEV_ORG: "" });
    const banner = instance.lines.join("\n");
    expect(banner).toContain(`Store:      embedded (${dataDir})`);
    const org = /Organization "Development" \(([0-9a-f-]{36})\) created/.exec(banner)?.[1];
    const apiKey = /API key:\s+(ort_test_\S+)/.exec(banner)?.[1];
    expect(org).toBeDefined();
    expect(apiKey).toBeDefined();

    const health = await fetch(`${instance.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    // The SDK the build serves is the one just built from popup/.
    const sdk = await fetch(`${instance.url}/connect.js`);
    expect(sdk.status).toBe(200);
    expect(sdk.headers.get("content-type")).toContain("javascript");
    expect(await sdk.text()).toBe(await readFile(join(repoRoot, "popup/dist/connect.js"), "utf8"));

    // The query the banner suggests, with the key it printed.
    const res = await fetch(`${instance.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: `{ viewer { organization { id name } } integrations(search: "crm") { totalCount nodes { slug } } }` }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data?: any; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data.viewer.organization).toEqual({ id: org, name: "Development" });
    expect(body.data.integrations.totalCount).toBeGreaterThan(0);
    expect(body.data.integrations.nodes.length).toBeGreaterThan(0);

    const exit = await instance.stop("SIGTERM");
    expect(exit).toMatchObject({ code: 0, signal: null });
    const logs = instance.logs();
    expect(logs.some((l) => l.msg === "shutdown complete")).toBe(true);
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
