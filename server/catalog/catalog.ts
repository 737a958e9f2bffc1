// The catalog as the API sees it: loaded entries, their categories, the search index, and
// cursor paging over a query's ranked results.
import { createHash } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client.js";
import { badInput } from "../errors.js";
import type { Category, IntegrationEntry } from "./entry-schema.js";
import type { LoadedCatalog } from "./load.js";
import { monogramSvg } from "./logo.js";
import { CatalogIndex, type CatalogQuery } from "./search-index.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export type Page<T> = { nodes: T[]; totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

const encodeCursor = (slug: string) => Buffer.from(`integration:${slug}`).toString("base64url");
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!text.startsWith("integration:")) throw badInput("Invalid cursor", [{ field: "after", message: "not a cursor from this list" }]);
  return text.slice("integration:".length);
}

export function checkPageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}`, [{ field: "first", message: `between 0 and ${MAX_PAGE_SIZE}` }]);
  }
  return size;
}

export class Catalog {
  readonly categories: Category[];
  private readonly bySlug: Map<string, IntegrationEntry>;
  private readonly index: CatalogIndex;
  private readonly logos: Map<string, string>;

  constructor(loaded: LoadedCatalog) {
    this.categories = loaded.categories;
    this.bySlug = new Map(loaded.integrations.map((i) => [i.slug, i]));
    this.index = new CatalogIndex(loaded.integrations, loaded.categories);
    this.logos = loaded.logos;
  }

  get size() {
    return this.bySlug.size;
  }

  get(slug: string): IntegrationEntry | undefined {
    return this.bySlug.get(slug);
  }

  all(): IntegrationEntry[] {
    return [...this.bySlug.values()];
  }

  integrationCount(categorySlug: string): number {
    return this.index.countInCategory(categorySlug);
  }

  logoSvg(slug: string): string | undefined {
    const entry = this.bySlug.get(slug);
    if (!entry) return undefined;
    return this.logos.get(slug) ?? monogramSvg(entry);
  }

  page(query: CatalogQuery & { first?: number | null; after?: string | null }): Page<IntegrationEntry> {
    const size = checkPageSize(query.first);
    if (query.search && query.search.length > 100) throw badInput("search is limited to 100 characters", [{ field: "search", message: "at most 100 characters" }]);
    const all = this.index.query(query);
    let start = 0;
    if (query.after) {
      const slug = decodeCursor(query.after);
      const at = all.findIndex((i) => i.slug === slug);
      if (at < 0) throw badInput("Invalid cursor", [{ field: "after", message: "not a cursor from this list" }]);
      start = at + 1;
    }
    const nodes = all.slice(start, start + size);
    const last = nodes.at(-1);
    return {
      nodes,
      totalCount: all.length,
      pageInfo: { hasNextPage: start + size < all.length, endCursor: last ? encodeCursor(last.slug) : null },
    };
  }
}

const contentHash = (entry: IntegrationEntry) => createHash("sha256").update(JSON.stringify(entry)).digest("hex");

/**
 * Mirrors the catalog into the Integration table, which sessions and connections reference.
 * Idempotent and safe when several instances start at once: unchanged entries write nothing.
 */
export async function syncCatalogToDatabase(prisma: PrismaClient, catalog: Catalog): Promise<{ created: number; updated: number }> {
  const existing = new Map((await prisma.integration.findMany({ select: { slug: true, contentHash: true } })).map((r) => [r.slug, r.contentHash]));
  const rows = catalog.all().map((entry) => ({
    slug: entry.slug,
    name: entry.name,
    authType: entry.authType,
    definition: JSON.parse(JSON.stringify(entry)),
    contentHash: contentHash(entry),
  }));
  const missing = rows.filter((r) => !existing.has(r.slug));
  const changed = rows.filter((r) => existing.has(r.slug) && existing.get(r.slug) !== r.contentHash);
  if (missing.length) await prisma.integration.createMany({ data: missing, skipDuplicates: true });
  for (const r of changed) await prisma.integration.update({ where: { slug: r.slug }, data: r });
  return { created: missing.length, updated: changed.length };
}
