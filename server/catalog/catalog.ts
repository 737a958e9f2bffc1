// The catalog as the API sees it: loaded entries, their categories, the search index, and
// cursor paging over a query's ranked results.
import { createHash } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client.js";
import { badInput, ServiceError } from "../errors.js";
import { checkPageSize, cursorCodec, invalidCursor, pageOf, type Page } from "../paging.js";
import type { Category, IntegrationEntry } from "./entry-schema.js";
import type { LoadedCatalog } from "./load.js";
import { monogramSvg } from "./logo.js";
import { CatalogIndex, type CatalogQuery } from "./search-index.js";

const cursors = cursorCodec("integration");

export class Catalog {
  /** Every category, featured first, then by name: the order the API lists them in. */
  readonly categories: Category[];
  private readonly bySlug: Map<string, IntegrationEntry>;
  private readonly index: CatalogIndex;
  private readonly logos: Map<string, string>;

  constructor(loaded: LoadedCatalog) {
    this.categories = [...loaded.categories].sort((a, b) => Number(b.featured) - Number(a.featured) || a.name.localeCompare(b.name));
    this.bySlug = new Map(loaded.integrations.map((i) => [i.slug, i]));
    this.index = new CatalogIndex(loaded.integrations, loaded.categories);
    this.logos = loaded.logos;
  }

  get size() {
    return this.bySlug.size;
  }

  /** For lookups whose answer may be "none" (the public `integration(slug)` query). */
  find(slug: string): IntegrationEntry | undefined {
    return this.bySlug.get(slug);
  }

  /**
   * The entry every flow needs, and the one policy when it is not there (an unknown slug, or an
   * entry an operator removed after sessions or connections were made with it): NOT_FOUND.
   */
  require(slug: string): IntegrationEntry {
    const entry = this.bySlug.get(slug);
    if (!entry) throw new ServiceError("NOT_FOUND", `Integration "${slug}" is not in the catalog`);
    return entry;
  }

  all(): IntegrationEntry[] {
    return [...this.bySlug.values()];
  }

  integrationCount(categorySlug: string): number {
    return this.index.countInCategory(categorySlug);
  }

  /** The categories holding at least one entry `only` accepts, in API order, each with that count. */
  categoriesWithin(only: (entry: IntegrationEntry) => boolean): { category: Category; count: number }[] {
    const counts = new Map<string, number>();
    for (const entry of this.bySlug.values()) if (only(entry)) for (const c of entry.categories) counts.set(c, (counts.get(c) ?? 0) + 1);
    return this.categories.filter((c) => counts.has(c.slug)).map((category) => ({ category, count: counts.get(category.slug)! }));
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
      const slug = cursors.decode(query.after);
      const at = all.findIndex((i) => i.slug === slug);
      if (at < 0) throw invalidCursor();
      start = at + 1;
    }
    return pageOf(all.slice(start, start + size + 1), size, all.length, (i) => cursors.encode(i.slug));
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
