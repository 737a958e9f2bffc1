// The server's import graph, read from the source with TypeScript's own pre-processor: no import
// circles, and no import from a lower layer up (domain → schema or transport, schema → transport).
// Type-only imports count: a reader follows them as much as any other.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const serverDir = join(root, "server");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === "generated" ? [] : sourceFiles(path);
    return d.name.endsWith(".ts") ? [path] : [];
  });
}

/** server-relative file → the server-relative files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(serverDir)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => relative(serverDir, resolve(dirname(file), name.replace(/\.js$/, ".ts"))))
      .filter((target) => !target.startsWith("generated/") && !target.startsWith(".."));
    graph.set(relative(serverDir, file), [...new Set(targets)]);
  }
  return graph;
}

/** Tarjan's strongly connected components of more than one file: each is an import circle. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The layers, lowest first. A file may import its own layer or lower ones, never higher. */
const LAYERS: { name: string; matches: (file: string) => boolean }[] = [
  {
    name: "foundation",
    matches: (f) => f.startsWith("db/") || ["config.ts", "logger.ts", "errors.ts", "crypto-tokens.ts", "vault.ts", "pubsub.ts", "redis-events.ts", "watcher-slots.ts", "rate-limits.ts", "paging.ts", "validation.ts", "egress.ts"].includes(f),
  },
  { name: "domain", matches: (f) => /^(catalog|sessions|connections|oauth|organizations|admin|proxy|events|webhooks|health)\//.test(f) || ["services.ts", "principal.ts"].includes(f) },
  { name: "schema", matches: (f) => f.startsWith("schema/") },
  { name: "transport", matches: (f) => f.startsWith("http/") || ["yoga.ts", "ws.ts"].includes(f) },
  { name: "start-up", matches: (f) => ["app.ts", "main.ts", "admin/cli.ts", "db/migrate-cli.ts"].includes(f) },
];
const layerOf = (file: string) => {
  // The most specific layer wins: admin/cli.ts is start-up although admin/ is domain.
  for (let i = LAYERS.length - 1; i >= 0; i--) if (LAYERS[i]!.matches(file)) return i;
  throw new Error(`${file} is in no layer: add it to LAYERS`);
};

describe("the server's import graph", () => {
  const graph = importGraph();

  it("has no import circle", () => {
    expect(circles(graph)).toEqual([]);
  });

  it("puts every file in a layer", () => {
    for (const file of graph.keys()) expect(() => layerOf(file)).not.toThrow();
  });

  it("never imports from a higher layer (domain → schema or transport, schema → transport)", () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (layerOf(target) > layerOf(file)) upward.push(`${file} (${LAYERS[layerOf(file)]!.name}) → ${target} (${LAYERS[layerOf(target)]!.name})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("keeps HTTP out of the domain: no domain file imports node:http", () => {
    const offenders = [...graph.keys()].filter(
      (f) => LAYERS[layerOf(f)]!.name === "domain" && /from "node:http"/.test(readFileSync(join(serverDir, f), "utf8")),
    );
    expect(offenders).toEqual([]);
  });
});
