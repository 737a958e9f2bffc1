// The in-memory catalog index: built once at load, answers every listing and search without a
// database round trip. Ranking, best first: exact slug or name, then prefix, then whole-word
// and keyword/category matches, then word prefixes, then description words, then one typo.
import type { AuthTypeName, Category, IntegrationEntry } from "./entry-schema.js";

export type CatalogQuery = {
  category?: string | null | undefined;
  search?: string | null | undefined;
  authType?: AuthTypeName | null | undefined;
  /** Only entries this accepts (a session's picker: its allowed and connectable integrations). */
  only?: ((entry: IntegrationEntry) => boolean) | undefined;
};

const enum Tier {
  Exact = 0,
  Prefix = 1,
  Word = 2,
  WordPrefix = 3,
  Description = 4,
  Typo = 5,
}

type Indexed = {
  entry: IntegrationEntry;
  slug: string;
  name: string;
  /** Name words, slug parts, keywords (whole and split), category slugs and names. */
  words: Set<string>;
  /** The same words as a list, for the prefix and typo scans (no copy per query). */
  wordList: string[];
  descriptionWords: Set<string>;
  /** The name with only letters and digits, for one-typo matches on names of several words. */
  compactName: string;
};

const words = (s: string) => s.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
const normalize = (s: string) => s.toLowerCase().trim().replace(/\s+/g, " ");

/** True when a and b differ by at most one insertion, deletion, substitution or adjacent swap. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // substitution
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swap
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

export class CatalogIndex {
  private readonly items: Indexed[];
  private readonly byWord = new Map<string, Set<Indexed>>();
  private readonly byCategory = new Map<string, Indexed[]>();

  constructor(integrations: IntegrationEntry[], categories: Category[]) {
    const categoryNames = new Map(categories.map((c) => [c.slug, c.name]));
    this.items = integrations
      .map((entry) => {
        const w = new Set<string>([...words(entry.name), ...words(entry.slug), entry.slug.replace(/-/g, "")]);
        for (const k of entry.keywords) {
          w.add(normalize(k));
          for (const part of words(k)) w.add(part);
        }
        for (const c of entry.categories) {
          w.add(c);
          for (const part of [...words(c), ...words(categoryNames.get(c) ?? "")]) w.add(part);
        }
        const name = normalize(entry.name);
        return { entry, slug: entry.slug, name, words: w, wordList: [...w], descriptionWords: new Set(words(entry.description)), compactName: name.replace(/[^a-z0-9]/g, "") };
      })
      // Listing order (no search): by name, then slug, so pages never shuffle.
      .sort((a, b) => a.name.localeCompare(b.name) || a.slug.localeCompare(b.slug));
    for (const item of this.items) {
      for (const w of item.words) {
        let set = this.byWord.get(w);
        if (!set) this.byWord.set(w, (set = new Set()));
        set.add(item);
      }
      for (const c of item.entry.categories) {
        const list = this.byCategory.get(c) ?? [];
        list.push(item);
        this.byCategory.set(c, list);
      }
    }
  }

  countInCategory(slug: string): number {
    return this.byCategory.get(slug)?.length ?? 0;
  }

  /** Every match of the query, best first; the order is deterministic for a given catalog. */
  query(q: CatalogQuery): IntegrationEntry[] {
    let pool = q.category != null ? (this.byCategory.get(q.category) ?? []) : this.items;
    if (q.authType) pool = pool.filter((i) => i.entry.authType === q.authType);
    if (q.only) pool = pool.filter((i) => q.only!(i.entry));
    const search = normalize(q.search ?? "");
    if (!search) return pool.map((i) => i.entry);

    const tokens = words(search);
    const ranked: { item: Indexed; tier: Tier }[] = [];
    for (const item of pool) {
      const tier = this.rank(item, search, tokens);
      if (tier !== undefined) ranked.push({ item, tier });
    }
    ranked.sort(
      (a, b) =>
        a.tier - b.tier ||
        Number(b.item.entry.featured) - Number(a.item.entry.featured) ||
        a.item.name.localeCompare(b.item.name) ||
        a.item.slug.localeCompare(b.item.slug),
    );
    return ranked.map((r) => r.item.entry);
  }

  private rank(item: Indexed, search: string, tokens: string[]): Tier | undefined {
    if (item.slug === search || item.name === search) return Tier.Exact;
    if (item.slug.startsWith(search) || item.name.startsWith(search)) return Tier.Prefix;
    if (item.words.has(search)) return Tier.Word;
    if (!tokens.length) return undefined;
    if (tokens.every((t) => this.byWord.get(t)?.has(item))) return Tier.Word;
    if (tokens.every((t) => item.words.has(t) || (t.length >= 2 && item.wordList.some((w) => w.startsWith(t))))) return Tier.WordPrefix;
    if (tokens.every((t) => item.words.has(t) || item.descriptionWords.has(t))) return Tier.Description;
    // One typo per token, and only for tokens long enough that a typo is still meaningful.
    if (
      tokens.every(
        (t) => item.words.has(t) || (t.length >= 4 && (withinOneEdit(t, item.compactName) || item.wordList.some((w) => w.length >= 3 && withinOneEdit(t, w)))),
      )
    ) {
      return Tier.Typo;
    }
    return undefined;
  }
}
