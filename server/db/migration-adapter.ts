// Wraps a driver adapter factory for the schema engine so that a migration script runs as ONE
// awaited query. The PGlite adapter does not await its script (a failing migration was recorded
// as applied) and adapter-pg splits scripts on ";" (breaking $$ function bodies).
import { DriverAdapterError, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";

type RunScript = (script: string) => Promise<void>;

function withWholeScript(adapter: SqlDriverAdapter, run: RunScript): SqlDriverAdapter {
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      if (prop === "executeScript") {
        return async (script: string) => {
          try {
            await run(script);
          } catch (error) {
            const e = error as { code?: string; message?: string; severity?: string; detail?: string };
            throw new DriverAdapterError({
              kind: "postgres",
              code: e.code ?? "N/A",
              severity: e.severity ?? "ERROR",
              message: e.message ?? String(error),
              detail: e.detail,
              column: undefined,
              hint: undefined,
            });
          }
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export function wholeScriptAdapterFactory(
  base: SqlMigrationAwareDriverAdapterFactory,
  run: RunScript,
): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: base.provider,
    adapterName: base.adapterName,
    connect: async () => withWholeScript(await base.connect(), run),
    // Only `migration:new` diffs against a shadow database, and it always does so on a fresh
    // in-memory PGlite, never on a user's server (which would need CREATEDB and a cleanup).
    connectToShadowDb: async () => {
      const shadow = new PGlite();
      await shadow.waitReady;
      const adapter = await new PrismaPGlite(shadow).connect();
      return withWholeScript(adapter, async (script) => {
        await shadow.exec(script);
      });
    },
  };
}
