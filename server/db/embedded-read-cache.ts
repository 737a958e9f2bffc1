// Reads of single rows served from memory on the embedded store, so PGlite (one WebAssembly
// PostgreSQL on the server's own thread, where every page read is a file call) does only the
// work that must reach the data: writes, lists, and the first read of a row. Sound because the
// embedded store has exactly one writer, this process (the data folder's lock; the admin CLI goes
// through the running server), so every change passes through here:
// - any statement that is not a cached read (a write, a raw statement) empties the cache before
//   and after it runs, and a read stores its answer only if nothing was emptied meanwhile;
// - nothing is stored while a transaction is open, and the cache is emptied when one ends
//   (committed or rolled back): an answer read inside it may never have been committed.
// PGlite runs transactions exclusively, so no read outside one sees its uncommitted writes.
// Never used on PostgreSQL, where other instances write too.
import { LRUCache } from "lru-cache";
import type { PrismaClient } from "../generated/prisma/client.js";

/** Single-row reads: the hot paths' lookups (a connection, a session by its token, an API key). */
const CACHED = new Set(["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow"]);
/** Reads passed through without touching the cache. */
const UNCACHED_READS = new Set(["findMany", "count", "aggregate", "groupBy"]);
const MAX_ROWS = 10_000;

export function withEmbeddedReadCache(prisma: PrismaClient): PrismaClient {
  let generation = 0;
  let openTransactions = 0;
  const answers = new LRUCache<string, { value: unknown }>({ max: MAX_ROWS });
  const invalidate = () => {
    generation++;
    answers.clear();
  };
  const extended = prisma.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        if (!model || !CACHED.has(operation)) {
          if (model && UNCACHED_READS.has(operation)) return query(args);
          invalidate();
          try {
            return await query(args);
          } finally {
            invalidate();
          }
        }
        let key: string;
        try {
          key = `${model}.${operation}:${JSON.stringify(args)}`;
        } catch {
          return query(args); // arguments JSON cannot spell (none today): just read
        }
        const hit = answers.get(key);
        if (hit) return structuredClone(hit.value);
        const seen = generation;
        const value = await query(args);
        if (generation === seen && openTransactions === 0) answers.set(key, { value: structuredClone(value) });
        return value;
      },
    },
  }) as unknown as PrismaClient;
  const transaction = extended.$transaction.bind(extended) as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(extended, "$transaction", {
    configurable: true,
    writable: true,
    value: async (...args: unknown[]) => {
      openTransactions++;
      try {
        return await transaction(...args);
      } finally {
        openTransactions--;
        invalidate();
      }
    },
  });
  return extended;
}
