// Loads Prisma's WebAssembly schema engine in-process. The native engine the Prisma CLI uses is a
// binary download, which fails offline; the wasm build ships inside an npm package.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";

export type { SchemaEngine };

let loaded: Promise<void> | undefined;

// The package entry imports its .wasm as an ES module, which Node 20 refuses, so we instantiate
// the module ourselves and hand it to the JS glue.
function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmPath = join(dirname(require.resolve("@prisma/schema-engine-wasm")), "schema_engine_bg.wasm");
    const bytes = await readFile(wasmPath);
    // The engine arms a JS timer for each of its timeouts (10 s around its advisory lock) and has
    // no way to clear one: a CLI that had finished lingered ~10 s before exiting. Unref'd, they
    // still fire while the engine waits on the database, whose socket keeps the process alive.
    const imports: Record<string, unknown> = { ...glue };
    for (const [name, fn] of Object.entries(glue)) {
      if (name.startsWith("__wbg_setTimeout_")) {
        imports[name] = (...args: unknown[]) => {
          const timer = (fn as (...a: unknown[]) => { unref?: () => void })(...args);
          timer?.unref?.();
          return timer;
        };
      }
    }
    const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": imports as never });
    const exports = instance.exports as Record<string, unknown> & { __wbindgen_start: () => void };
    (glue as unknown as { __wbg_set_wasm: (e: unknown) => void }).__wbg_set_wasm(exports);
    exports.__wbindgen_start();
  })();
  return loaded;
}

export async function openSchemaEngine(
  schemaPath: string,
  schemaText: string,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
): Promise<SchemaEngine> {
  await loadWasm();
  const engine = await glue.SchemaEngine.new(
    { datamodels: [[schemaPath, schemaText]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
  return engine as unknown as SchemaEngine;
}
