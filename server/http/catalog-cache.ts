// Answers to catalog queries, kept at the HTTP edge: the catalog is immutable data for the life
// of a process, and customer backends send the same searches over and over as their users type.
// An answer is kept only for an operation that reads nothing but the catalog and succeeded, per
// organization (so no answer ever crosses organizations, whatever a catalog type grows), per
// Accept header and per exact request text. A hit still authenticates and spends the caller's
// budget; it skips parsing, validation and execution.
import { getOperationAST, Kind, type DocumentNode, type ExecutionResult } from "graphql";
import { LRUCache } from "lru-cache";
import type { Principal } from "../principal.js";

/** Root fields that read the catalog and nothing else. */
const CATALOG_ROOT_FIELDS = new Set(["integrations", "integration", "categories", "__typename"]);
const MAX_ENTRIES = 5_000;
const MAX_BYTES = 64 * 1024 * 1024;
/** Larger answers (a whole catalog page of every field) are served, just not kept. */
const MAX_ENTRY_BYTES = 512 * 1024;

export type CachedAnswer = { status: number; contentType: string; body: Buffer };

/** What the edge knows of one GraphQL request before yoga, shared with yoga's plugins through its server context. */
export type EdgeRequest = {
  caller: PromiseSettledResult<Principal>;
  /** Set when an answer to this request may be kept: an organization asked. */
  cacheKey?: string;
  /** Set by execution: the operation read only the catalog and succeeded. */
  cacheable: boolean;
};

export type CatalogCache = {
  keyFor(caller: PromiseSettledResult<Principal>, method: string, accept: string, request: string): string | undefined;
  get(key: string): CachedAnswer | undefined;
  set(key: string, answer: CachedAnswer): void;
};

/** Whether an operation reads the catalog only: a query whose every root selection is a catalog field. */
export function readsCatalogOnly(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== "query") return false;
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && CATALOG_ROOT_FIELDS.has(s.name.value));
}

export const succeeded = (result: ExecutionResult) => !result.errors?.length;

export function createCatalogCache(): CatalogCache {
  const answers = new LRUCache<string, CachedAnswer>({
    max: MAX_ENTRIES,
    maxSize: MAX_BYTES,
    maxEntrySize: MAX_ENTRY_BYTES,
    sizeCalculation: (a, key) => a.body.length + key.length,
  });
  return {
    keyFor(caller, method, accept, request) {
      if (caller.status !== "fulfilled" || caller.value.kind !== "organization") return undefined;
      return `${caller.value.organization.organizationId}\n${method}\n${accept}\n${request}`;
    },
    get: (key) => answers.get(key),
    set: (key, answer) => void answers.set(key, answer),
  };
}
