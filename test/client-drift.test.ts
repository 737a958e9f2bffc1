// The typed client is generated and built from committed sources: client/generated/sdk.ts must be
// exactly what codegen makes of schema.graphql and client/operations/, the built package
// (client/dist) must match client/*.ts, and every backend operation of the API has a document.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "@graphql-codegen/cli";
import { buildSchema, Kind, parse, type OperationDefinitionNode } from "graphql";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import codegenConfig, { SDK_PATH } from "../codegen.js";

const root = new URL("..", import.meta.url).pathname;
const operationsDir = join(root, "client/operations");

/** Root fields only the hosted popup calls, with a session token: not the backend's. */
const POPUP_ONLY = new Set([
  "Query.hostedConnectionSession",
  "Mutation.completeHostedConnectionSession",
  "Mutation.cancelHostedConnectionSession",
  "Mutation.startHostedConnectionAuthorization",
  "Subscription.hostedConnectionSession",
]);

async function operationDocuments() {
  const files = (await readdir(operationsDir)).filter((f) => f.endsWith(".graphql") && f !== "fragments.graphql").sort();
  return Promise.all(
    files.map(async (file) => {
      const definitions = parse(await readFile(join(operationsDir, file), "utf8")).definitions;
      return { file, definitions };
    }),
  );
}

describe("client/generated/sdk.ts", () => {
  it("is what `npm run generate` makes of schema.graphql and client/operations (run it after changing either)", async () => {
    const outputs = await generate({ ...codegenConfig, cwd: root, silent: true }, false);
    const sdk = outputs.find((o: { filename: string }) => o.filename.endsWith(SDK_PATH));
    expect(sdk, "codegen produced no SDK").toBeDefined();
    expect(await readFile(join(root, SDK_PATH), "utf8")).toBe(sdk.content);
  });
});

describe("client/operations", () => {
  it("holds one named operation per file, named like the file, selecting one root field", async () => {
    for (const { file, definitions } of await operationDocuments()) {
      const operations = definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations, file).toHaveLength(1);
      const [operation] = operations;
      expect(operation!.name?.value, file).toBe(file.replace(/\.graphql$/, ""));
      // A method resolves to the operation's root field, so there must be exactly one.
      expect(operation!.selectionSet.selections.filter((s) => s.kind === Kind.FIELD), file).toHaveLength(1);
    }
  });

  it("cover every backend (API key) query and mutation of schema.graphql", async () => {
    const schema = buildSchema(await readFile(join(root, "schema.graphql"), "utf8"));
    const covered = new Set<string>();
    for (const { definitions } of await operationDocuments()) {
      for (const d of definitions) {
        if (d.kind !== Kind.OPERATION_DEFINITION) continue;
        const type = d.operation === "query" ? "Query" : d.operation === "mutation" ? "Mutation" : "Subscription";
        for (const s of d.selectionSet.selections) if (s.kind === Kind.FIELD) covered.add(`${type}.${s.name.value}`);
      }
    }
    const backend = [schema.getQueryType(), schema.getMutationType()]
      .flatMap((type) => (type ? Object.keys(type.getFields()).map((f) => `${type.name}.${f}`) : []))
      .filter((f) => !POPUP_ONLY.has(f));
    const missing = backend.filter((f) => !covered.has(f));
    expect(missing, "add client/operations/<name>.graphql for each, then `npm run generate`").toEqual([]);
    expect([...covered].filter((f) => POPUP_ONLY.has(f)), "popup operations do not belong in the backend client").toEqual([]);
  });
});

describe("client/dist", () => {
  it("is built from the current client sources (run `npm run build -w @one-runtime/client`)", async () => {
    const configPath = join(root, "client/tsconfig.json");
    const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
    if (!parsed) throw new Error("client/tsconfig.json could not be read");
    const emitted = new Map<string, string>();
    const result = ts.createProgram(parsed.fileNames, parsed.options).emit(undefined, (fileName, text) => emitted.set(fileName, text));
    expect(result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
    expect(emitted.size).toBeGreaterThan(0);
    for (const [fileName, text] of emitted) {
      const built = await readFile(fileName, "utf8").catch(() => undefined);
      expect(built, `${fileName.slice(root.length)} is stale or missing`).toBe(text);
    }
  });
});
