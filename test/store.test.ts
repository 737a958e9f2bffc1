// The store's query hook, which the benchmarks count a flow's database round trips with: every
// statement Prisma sends reaches `onQuery` when asked for, and Prisma's query log stays off
// otherwise (no cost on the normal path).
import { afterAll, expect, it } from "vitest";
import { openStore, type Store } from "../server/db/store.js";
import { testStore } from "./support/server.js";
import { createStoreLocation, type StoreLocation } from "./support/store.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function open(onQuery?: Parameters<typeof openStore>[0]["onQuery"]): Promise<Store> {
  const location: StoreLocation = await createStoreLocation();
  cleanups.push(() => location.dispose());
  const store = await openStore({ dataDir: location.dataDir, databaseUrl: location.databaseUrl, poolSize: 2, ...(onQuery ? { onQuery } : {}) });
  cleanups.push(() => store.close());
  return store;
}

it("a store opened with onQuery reports each statement Prisma sends, with its duration", async () => {
  const seen: { query: string; durationMs: number }[] = [];
  const store = await open((e) => seen.push(e));
  await store.prisma.$queryRaw`SELECT 41 + 1 AS answer`;
  await store.prisma.$executeRaw`SELECT 'second'`;
  expect(seen.map((e) => e.query)).toEqual([expect.stringContaining("41 + 1"), expect.stringContaining("'second'")]);
  for (const e of seen) expect(e.durationMs).toBeGreaterThanOrEqual(0);
});

// The embedded store's client is an extended one (its read cache), which offers no $on at all.
it.skipIf(testStore === "pglite")("a store opened without onQuery keeps Prisma's query log off", async () => {
  const store = await open();
  let events = 0;
  store.prisma.$on("query" as never, () => events++);
  await store.prisma.$queryRaw`SELECT 1`;
  expect(events).toBe(0);
});
