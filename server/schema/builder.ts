// The one Pothos SchemaBuilder. Domains add their types in their own files (catalog.ts, ...).
import SchemaBuilder from "@pothos/core";
import PrismaPlugin from "@pothos/plugin-prisma";
import { GraphQLError, Kind } from "graphql";
import type { Context } from "./context.js";
import type PrismaTypes from "../generated/pothos-prisma-types.js";
import { getDatamodel } from "../generated/pothos-prisma-types.js";

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [PrismaPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.services.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
});

builder.scalarType("DateTime", {
  description: "An instant, as an ISO-8601 string in UTC.",
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const d = typeof value === "string" ? new Date(value) : undefined;
    if (!d || Number.isNaN(d.getTime())) throw new GraphQLError("DateTime must be an ISO-8601 string");
    return d;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || Number.isNaN(new Date(ast.value).getTime())) throw new GraphQLError("DateTime must be an ISO-8601 string");
    return new Date(ast.value);
  },
});

builder.scalarType("JSON", {
  description: "Arbitrary JSON (output only: connection metadata).",
  serialize: (value) => value,
  parseValue: () => {
    throw new GraphQLError("JSON is output only");
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
