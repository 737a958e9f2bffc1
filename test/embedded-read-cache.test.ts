// The embedded store serves single-row reads from memory; these are the ways such a cache goes
// stale, each shown not to: a write, a raw statement, a transaction rolled back after it read its
// own uncommitted write. On a real PGlite store, through the client the server uses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../server/db/migrations.js";
import { openStore, type Store } from "../server/db/store.js";
import { testStore } from "./support/server.js";
import { createStoreLocation, type StoreLocation } from "./support/store.js";

describe.skipIf(testStore !== "pglite")("the embedded store's read cache", () => {
  let location: StoreLocation;
  let store: Store;
  const queries: string[] = [];
  let orgId: string;
  const read = () => store.prisma.organization.findUnique({ where: { id: orgId } });

  beforeAll(async () => {
    location = await createStoreLocation();
    store = await openStore({ dataDir: location.dataDir, onQuery: (e) => queries.push(e.query) });
    await applyMigrations(store);
    orgId = (await store.prisma.organization.create({ data: { name: "Original" } })).id;
  });
  afterAll(async () => {
    await store?.close();
    await location?.dispose();
  });

  it("answers a repeated read from memory, as a copy the caller may change", async () => {
    const first = await read();
    first!.name = "changed by the caller";
    const before = queries.length;
    expect((await read())?.name).toBe("Original");
    expect(queries.length).toBe(before);
  });

  it("never answers with a row a write has changed or removed", async () => {
    await read();
    await store.prisma.organization.update({ where: { id: orgId }, data: { name: "Renamed" } });
    expect((await read())?.name).toBe("Renamed");
    await store.prisma.$executeRaw`UPDATE "Organization" SET name = 'Raw' WHERE id = ${orgId}::uuid`;
    expect((await read())?.name).toBe("Raw");
    const other = await store.prisma.organization.create({ data: { name: "Short-lived" } });
    expect(await store.prisma.organization.findUnique({ where: { id: other.id } })).not.toBeNull();
    await store.prisma.organization.delete({ where: { id: other.id } });
    expect(await store.prisma.organization.findUnique({ where: { id: other.id } })).toBeNull();
  });

  it("keeps nothing a rolled-back transaction read of its own writes", async () => {
    const committed = (await read())?.name;
    await expect(
      store.prisma.$transaction(async (tx) => {
        await tx.organization.update({ where: { id: orgId }, data: { name: "Never committed" } });
        expect((await tx.organization.findUnique({ where: { id: orgId } }))?.name).toBe("Never committed");
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect((await read())?.name).toBe(committed);
  });
});
