// The page types every list returns (`nodes`, `pageInfo`, `totalCount`), built the same way for
// each node type from the one pager (server/paging.ts).
import type { ObjectRef } from "@pothos/core";
import type { Page } from "../paging.js";
import { builder } from "./builder.js";

const PageInfoRef = builder.objectRef<Page<unknown>["pageInfo"]>("PageInfo").implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage"),
    endCursor: t.exposeString("endCursor", { nullable: true }),
  }),
});

/** `<name>` with `nodes: [node!]!`, `pageInfo` and `totalCount`. */
export function pageType<T>(name: string, nodeRef: ObjectRef<any, T>) {
  return builder.objectRef<Page<T>>(name).implement({
    fields: (t) => ({
      nodes: t.field({ type: [nodeRef], resolve: (p) => p.nodes }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (p) => p.pageInfo }),
      totalCount: t.exposeInt("totalCount"),
    }),
  });
}
