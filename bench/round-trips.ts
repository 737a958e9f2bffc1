// Database round trips for one connect flow, counted from Prisma's query events: the server is
// started in this process (server/app.ts startServer) with the store's query hook on, and one
// flow runs over the public API with a count taken after each step. Steady state: a warm-up flow
// first (the API key's once-a-minute lastUsedAt stamp is not a per-flow cost), then the fewest of
// three counted flows (a background sweep may land inside one). Prisma reports a transaction's
// COMMIT (or ROLLBACK) but not the BEGIN its driver adapter sends first: each one counts for two.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAdminCommand } from "../server/admin/commands.js";
import { startServer } from "../server/app.js";
import { loadConfig } from "../server/config.js";
import { connectFlow, type FlowStep } from "../test/support/flows.js";
import { createTestDatabase } from "../test/support/postgres.js";
import type { Row } from "./report.js";
import { RATE_LIMIT_OVERRIDES } from "./servers-under-test.js";

const COUNTED_FLOWS = 3;
export const ROUND_TRIP_GOAL = 10;

type Counted = { total: number; events: number; steps: Record<FlowStep, number>; statements: string[] };

const TRANSACTION_END = /^(COMMIT|ROLLBACK)\b|Implicit "(COMMIT|ROLLBACK)"/;
/** Round trips behind these query events: each, plus the unreported BEGIN of each transaction. */
const roundTrips = (events: string[]) => events.length + events.filter((q) => TRANSACTION_END.test(q)).length;

export async function measureRoundTrips(store: "pglite" | "postgres"): Promise<Row> {
  const dataDir = await mkdtemp(join(tmpdir(), "one-runtime-bench-rt-"));
  const db = store === "postgres" ? await createTestDatabase() : undefined;
  let statements: string[] | undefined;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    ONE_RUNTIME_DATA_DIR: dataDir,
    ONE_RUNTIME_LOG_LEVEL: "silent",
    ONE_RUNTIME_DEV_ORG: "false",
    ...(db ? { DATABASE_URL: db.url, ONE_RUNTIME_ENCRYPTION_KEY: randomBytes(32).toString("base64") } : {}),
    ...RATE_LIMIT_OVERRIDES,
  });
  const running = await startServer(config, { onQuery: (e) => statements?.push(e.query) }).catch(async (e) => {
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  });
  try {
    const r = (await runAdminCommand(running.services.prisma, { command: "create-org", name: "Bench round trips" }, { onApiKeyRevoked: running.services.apiKeys.revoked })) as { apiKey: { key: string } };
    const apiKey = r.apiKey.key;
    await connectFlow({ apiKey, endUserId: "bench-rt-warm", createOn: running.url });
    const counted: Counted[] = [];
    for (let i = 0; i < COUNTED_FLOWS; i++) {
      const seen: string[] = (statements = []);
      const steps = {} as Record<FlowStep, number>;
      let last = 0;
      await connectFlow({
        apiKey,
        endUserId: `bench-rt-${i}`,
        createOn: running.url,
        onStep: (step) => {
          steps[step] = roundTrips(seen.slice(last));
          last = seen.length;
        },
      });
      statements = undefined;
      counted.push({ total: roundTrips(seen), events: seen.length, steps, statements: seen });
    }
    const best = counted.reduce((a, b) => (b.total < a.total ? b : a));
    const s = best.steps;
    return {
      id: `round-trips-${store}`,
      what: `database round trips for one connect flow (create → popup reads → subscribe → submit → CONNECTED), ${store === "pglite" ? "PGlite" : "PostgreSQL"}`,
      figure:
        `${best.total} (create ${s.created}, popup reads ${s.read}, subscribe ${s.watching}, submit → CONNECTED ${s.connected}); ` +
        `Prisma's query events: ${best.events}, plus ${best.total - best.events} unreported BEGIN`,
      goal: `≤ ${ROUND_TRIP_GOAL}`,
      met: best.total <= ROUND_TRIP_GOAL,
      failures: 0,
      values: {
        total: best.total,
        queryEvents: best.events,
        create: s.created,
        popupReads: s.read,
        subscribe: s.watching,
        submitToConnected: s.connected,
        countedFlows: counted.map((c) => c.total).join(" "),
        statements: best.statements.map((q) => q.replace(/\s+/g, " ").slice(0, 160)).join("\n"),
      },
    };
  } finally {
    await running.close();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
