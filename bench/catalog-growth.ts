// How the catalog search's cost grows with the catalog: the shipped catalog (with the sandbox
// entry the embedded store lists: 91), then synthetic catalogs of 1,000 and 10,000 entries written
// as an operator's ONE_RUNTIME_CATALOG_DIR and loaded (and validated) by the server's own loader.
// Measured in process on the server's Catalog — the search the API runs, without HTTP around it,
// so the growth is not lost in the request's fixed cost — as CPU time per
// `page({ search: "hub", first: 20 })`.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Catalog } from "../server/catalog/catalog.js";
import type { IntegrationEntry } from "../server/catalog/entry-schema.js";
import { loadCatalog } from "../server/catalog/load.js";
import { sandboxEntry } from "../server/oauth/sandbox.js";
import { growth, num, type Row } from "./report.js";

/** A deterministic generator: the same synthetic catalog every run. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SYLLABLES = ["ka", "lo", "ve", "tri", "mon", "za", "pex", "qua", "ri", "sol", "den", "bo", "fy", "gra", "nu", "ster", "lin", "cor", "hal", "vi", "tes", "dra", "mo", "pli"];

/**
 * `count` valid entries: each copies a shipped entry's shape (auth type, fields, OAuth2 settings)
 * under a made-up name, description and keywords drawn from the shipped ones, so matches stay as
 * rare as in a real, larger catalog rather than cloned "HubSpot"s.
 */
function syntheticEntries(shipped: IntegrationEntry[], count: number): IntegrationEntry[] {
  const random = prng(count);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const keywords = [...new Set(shipped.flatMap((e) => e.keywords))];
  const word = () => Array.from({ length: 2 + Math.floor(random() * 2) }, () => pick(SYLLABLES)).join("");
  const templates = shipped.filter((e) => !e.sandbox);
  return Array.from({ length: count }, (_, i) => {
    const template = templates[i % templates.length]!;
    const name = `${word()} ${word()}`.replace(/\b\w/g, (c) => c.toUpperCase());
    return {
      ...template,
      slug: `synthetic-${i}-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`.slice(0, 64).replace(/-+$/, ""),
      name,
      description: `${name} connects your ${pick(keywords)} and ${pick(keywords)} data.`,
      keywords: [pick(keywords), pick(keywords), word()],
      featured: false,
    };
  });
}

async function writeOperatorCatalog(dir: string, entries: IntegrationEntry[]) {
  await mkdir(join(dir, "integrations"), { recursive: true });
  for (let i = 0; i < entries.length; i += 500) {
    await Promise.all(entries.slice(i, i + 500).map((e) => writeFile(join(dir, "integrations", `${e.slug}.json`), JSON.stringify(e))));
  }
}

/**
 * CPU time of one search, averaged over at least `minRuns` runs and `minMs` of running. CPU time,
 * not wall time: a machine busy with other work delays the search but does not make it cost more.
 */
function timeSearch(catalog: Catalog, minRuns: number, minMs: number): { cpuUs: number; runs: number; matches: number } {
  let runs = 0;
  let matches = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (runs < minRuns || performance.now() - started < minMs) {
    matches = catalog.page({ search: "hub", first: 20 }).totalCount;
    runs++;
  }
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / runs, runs, matches };
}

export async function measureCatalogGrowth(sizes: number[]): Promise<Row> {
  const shipped = await loadCatalog({});
  const base = shipped.integrations.length + 1; // + the sandbox entry, as the embedded store lists it
  const points: { n: number; cost: number; matches: number }[] = [];
  const tmp = await mkdtemp(join(tmpdir(), "one-runtime-bench-catalog-"));
  try {
    for (const size of sizes) {
      let loaded;
      if (size <= base) loaded = shipped;
      else {
        const dir = join(tmp, String(size));
        await writeOperatorCatalog(dir, syntheticEntries(shipped.integrations, size - base));
        loaded = await loadCatalog({ operatorDir: dir });
      }
      const catalog = new Catalog({ ...loaded, integrations: [...loaded.integrations, sandboxEntry] });
      timeSearch(catalog, 20, 50); // warm-up
      const t = timeSearch(catalog, 50, 500);
      points.push({ n: catalog.size, cost: t.cpuUs, matches: t.matches });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const g = growth(points);
  return {
    id: "catalog-growth",
    what: `catalog search \`integrations(search: "hub", first: 20)\` as the catalog grows (in process, the server's Catalog)`,
    figure: `${g.label} (cost ∝ n^${g.exponent.toFixed(2)}): ` + points.map((p) => `${p.n.toLocaleString("en-US")} entries ${num(p.cost)} µs CPU (${p.matches} matches)`).join(", "),
    ratio: `${num(points.at(-1)!.cost / points[0]!.cost)}× the cost for ${num(points.at(-1)!.n / points[0]!.n)}× the entries`,
    failures: 0,
    values: { growth: g.label, exponent: g.exponent, ...Object.fromEntries(points.flatMap((p) => [[`us@${p.n}`, p.cost], [`matches@${p.n}`, p.matches]])) },
  };
}
