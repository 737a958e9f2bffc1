// The one pager: page sizes, opaque cursors and the page shape every list in the API returns.
import { badInput } from "./errors.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export type Page<T> = { nodes: T[]; totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

export function checkPageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}`, [{ field: "first", message: `between 0 and ${MAX_PAGE_SIZE}` }]);
  }
  return size;
}

/**
 * Cursors for one list: `kind` keeps a cursor of one list from being replayed on another.
 * `decode` refuses anything it did not encode with BAD_USER_INPUT on `after`.
 */
export function cursorCodec(kind: string) {
  const prefix = `${kind}:`;
  return {
    encode: (position: string) => Buffer.from(prefix + position).toString("base64url"),
    decode(cursor: string): string {
      const text = Buffer.from(cursor, "base64url").toString("utf8");
      if (!text.startsWith(prefix)) throw invalidCursor();
      return text.slice(prefix.length);
    },
  };
}

export const invalidCursor = () => badInput("Invalid cursor", [{ field: "after", message: "not a cursor from this list" }]);

/** A page of `size` from rows fetched with one extra (`take: size + 1`), so hasNextPage costs no query. */
export function pageOf<T>(rows: T[], size: number, totalCount: number, cursorOf: (row: T) => string): Page<T> {
  const nodes = rows.slice(0, size);
  const last = nodes.at(-1);
  return { nodes, totalCount, pageInfo: { hasNextPage: rows.length > size, endCursor: last ? cursorOf(last) : null } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Position = { createdAt: Date; id: string };

/**
 * Cursors for a list ordered by (createdAt, id): a keyset that stays stable while rows are added.
 * `after` is the filter for the rows past a position, newest-first (`desc`) or oldest-first.
 */
export function timeOrderedCursors(kind: string) {
  const codec = cursorCodec(kind);
  return {
    encode: (row: Position) => codec.encode(`${row.createdAt.toISOString()}|${row.id}`),
    decode(cursor: string): Position {
      const [at, id] = codec.decode(cursor).split("|");
      const createdAt = new Date(at ?? "");
      if (Number.isNaN(createdAt.getTime()) || !id || !UUID.test(id)) throw invalidCursor();
      return { createdAt, id };
    },
    after(position: Position, order: "asc" | "desc") {
      const past = order === "desc" ? "lt" : "gt";
      return { OR: [{ createdAt: { [past]: position.createdAt } }, { createdAt: position.createdAt, id: { [past]: position.id } }] };
    },
  };
}
