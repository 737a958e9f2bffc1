// Reads the shipped catalog and an operator's own folder (ONE_RUNTIME_CATALOG_DIR), validates
// every file, and fails with the file and field named. Both folders have the same layout:
// categories.json, integrations/<slug>.json, logos/<slug>.svg (optional).
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { categoriesFileSchema, integrationEntrySchema, type Category, type IntegrationEntry } from "./entry-schema.js";

export const shippedCatalogDir = resolve(fileURLToPath(new URL("../../catalog/", import.meta.url)));

export class CatalogError extends Error {}

export type LoadedCatalog = {
  categories: Category[];
  integrations: IntegrationEntry[];
  /** Shipped SVG logos by slug; others get a generated monogram. */
  logos: Map<string, string>;
};

const MAX_LOGO_BYTES = 64 * 1024;

function describeIssues(file: string, error: z.ZodError): string {
  const lines = error.issues.map((i) => `  ${i.path.length ? i.path.join(".") : "(entry)"}: ${i.message}`);
  return `Invalid catalog file ${file}:\n${lines.join("\n")}`;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CatalogError(`Invalid catalog file ${file}: not JSON (${(e as Error).message})`);
  }
}

async function listFiles(dir: string, ext: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [];
    throw e;
  });
  return entries.filter((e) => e.isFile() && e.name.endsWith(ext)).map((e) => join(dir, e.name)).sort();
}

async function loadFolder(dir: string, requireCategories: boolean) {
  const categoriesFile = join(dir, "categories.json");
  let categories: Category[] = [];
  const rawCategories = await readJson(categoriesFile).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    if (requireCategories) throw new CatalogError(`Catalog folder ${dir} has no categories.json`);
    return undefined;
  });
  if (rawCategories !== undefined) {
    const parsed = categoriesFileSchema.safeParse(rawCategories);
    if (!parsed.success) throw new CatalogError(describeIssues(categoriesFile, parsed.error));
    categories = parsed.data;
  }
  const integrations: { file: string; entry: IntegrationEntry }[] = [];
  for (const file of await listFiles(join(dir, "integrations"), ".json")) {
    const parsed = integrationEntrySchema.safeParse(await readJson(file));
    if (!parsed.success) throw new CatalogError(describeIssues(file, parsed.error));
    if (basename(file, ".json") !== parsed.data.slug) {
      throw new CatalogError(`Invalid catalog file ${file}:\n  slug: "${parsed.data.slug}" must match the file name`);
    }
    integrations.push({ file, entry: parsed.data });
  }
  const logos = new Map<string, string>();
  for (const file of await listFiles(join(dir, "logos"), ".svg")) {
    const svg = await readFile(file, "utf8");
    if (svg.length > MAX_LOGO_BYTES || !/<svg[\s>]/.test(svg)) throw new CatalogError(`Invalid logo ${file}: not an SVG under 64 KB`);
    logos.set(basename(file, ".svg"), svg);
  }
  return { categories, integrations, logos };
}

/**
 * An operator's folder must exist and hold a catalog: a typo in ONE_RUNTIME_CATALOG_DIR used to
 * start the service on the shipped catalog alone, without a word.
 */
async function checkOperatorFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new CatalogError(`ONE_RUNTIME_CATALOG_DIR: folder ${dir} does not exist`);
  if (!info.isDirectory()) throw new CatalogError(`ONE_RUNTIME_CATALOG_DIR: ${dir} is not a folder`);
  const names = await readdir(dir);
  if (!names.includes("categories.json") && !names.includes("integrations")) {
    throw new CatalogError(`ONE_RUNTIME_CATALOG_DIR: folder ${dir} has neither categories.json nor integrations/ (same layout as catalog/)`);
  }
}

export async function loadCatalog(opts: { operatorDir?: string | undefined; shippedDir?: string }): Promise<LoadedCatalog> {
  if (opts.operatorDir) await checkOperatorFolder(opts.operatorDir);
  const shipped = await loadFolder(opts.shippedDir ?? shippedCatalogDir, true);
  const operator = opts.operatorDir ? await loadFolder(opts.operatorDir, false) : undefined;

  const categories = new Map(shipped.categories.map((c) => [c.slug, c]));
  for (const c of operator?.categories ?? []) categories.set(c.slug, c);

  // An operator's entry with a shipped slug replaces it: that is how a deployment corrects one.
  const bySlug = new Map<string, { file: string; entry: IntegrationEntry }>();
  for (const item of shipped.integrations) bySlug.set(item.entry.slug, item);
  for (const item of operator?.integrations ?? []) bySlug.set(item.entry.slug, item);

  for (const { file, entry } of bySlug.values()) {
    entry.categories.forEach((c, i) => {
      if (!categories.has(c)) throw new CatalogError(`Invalid catalog file ${file}:\n  categories.${i}: unknown category "${c}"`);
    });
  }
  const logos = new Map([...shipped.logos, ...(operator?.logos ?? [])]);
  return {
    categories: [...categories.values()],
    integrations: [...bySlug.values()].map((v) => v.entry).sort((a, b) => a.slug.localeCompare(b.slug)),
    logos,
  };
}
