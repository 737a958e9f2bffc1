// Generated code is committed, and built from committed sources: every file codegen.ts writes
// (the client's SDK and enums, the popup's operations) must be exactly what codegen makes of
// schema.graphql and the documents, the built client package (client/dist) must match client/*.ts,
// and each root field has a document in the package that calls it: the backend's in
// client/operations, the popup's and SDK's in popup/operations.
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { generate } from "@graphql-codegen/cli";
import { buildSchema, Kind, parse, type DefinitionNode, type OperationDefinitionNode } from "graphql";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import codegenConfig from "../codegen.js";

const root = new URL("..", import.meta.url).pathname;

/** Root fields the hosted popup and the browser SDK call, with a session token: not the backend's. */
const POPUP_ONLY = new Set([
  "Query.hostedConnectionSession",
  "Mutation.completeHostedConnectionSession",
  "Mutation.cancelHostedConnectionSession",
  "Mutation.startHostedConnectionAuthorization",
  "Mutation.chooseHostedConnectionIntegration",
  "Subscription.hostedConnectionSession",
]);

/** The operation documents of one folder, fragments.graphql aside, each parsed. */
async function operationDocuments(dir: string): Promise<{ file: string; definitions: readonly DefinitionNode[] }[]> {
  const files = (await readdir(join(root, dir))).filter((f) => f.endsWith(".graphql") && f !== "fragments.graphql").sort();
  return Promise.all(files.map(async (file) => ({ file, definitions: parse(await readFile(join(root, dir, file), "utf8")).definitions })));
}

/** `Type.field` for every root field the documents of `dir` select. */
async function rootFieldsOf(dir: string): Promise<Set<string>> {
  const covered = new Set<string>();
  for (const { definitions } of await operationDocuments(dir)) {
    for (const d of definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION) continue;
      const type = d.operation === "query" ? "Query" : d.operation === "mutation" ? "Mutation" : "Subscription";
      for (const s of d.selectionSet.selections) if (s.kind === Kind.FIELD) covered.add(`${type}.${s.name.value}`);
    }
  }
  return covered;
}

describe("the files codegen.ts generates", () => {
  const generated = new Map<string, string>();
  beforeAll(async () => {
    const outputs: { filename: string; content: string }[] = await generate({ ...codegenConfig, cwd: root, silent: true }, false);
    for (const { filename, content } of outputs) generated.set(relative(root, resolve(root, filename)), content);
  });

  it.each(Object.keys(codegenConfig.generates))("%s is what `npm run generate` makes of schema.graphql and the documents (run it after changing either)", async (path) => {
    expect(generated.get(path), `codegen produced no ${path}`).toBeDefined();
    expect(await readFile(join(root, path), "utf8")).toBe(generated.get(path));
  });
});

describe.each(["client/operations", "popup/operations"])("%s", (dir) => {
  it("holds one named operation per file, named like the file, selecting one root field", async () => {
    for (const { file, definitions } of await operationDocuments(dir)) {
      const operations = definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations, file).toHaveLength(1);
      const [operation] = operations;
      expect(operation!.name?.value, file).toBe(file.replace(/\.graphql$/, ""));
      // A method resolves to the operation's root field, so there must be exactly one.
      expect(operation!.selectionSet.selections.filter((s) => s.kind === Kind.FIELD), file).toHaveLength(1);
    }
  });
});

describe("client/operations", () => {
  it("cover every backend (API key) query and mutation of schema.graphql", async () => {
    const schema = buildSchema(await readFile(join(root, "schema.graphql"), "utf8"));
    const covered = await rootFieldsOf("client/operations");
    const backend = [schema.getQueryType(), schema.getMutationType()]
      .flatMap((type) => (type ? Object.keys(type.getFields()).map((f) => `${type.name}.${f}`) : []))
      .filter((f) => !POPUP_ONLY.has(f));
    const missing = backend.filter((f) => !covered.has(f));
    expect(missing, "add client/operations/<name>.graphql for each, then `npm run generate`").toEqual([]);
    expect([...covered].filter((f) => POPUP_ONLY.has(f)), "popup operations do not belong in the backend client").toEqual([]);
  });
});

describe("popup/operations", () => {
  it("select exactly the session-token root fields the popup and SDK call", async () => {
    expect([...(await rootFieldsOf("popup/operations"))].sort()).toEqual([...POPUP_ONLY].sort());
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
