// The GraphQL engine: graphql-yoga with query limits (graphql-armor), stable error codes, error
// masking whatever NODE_ENV says, and the caller resolved from its bearer credential. Exported on
// its own so tests can call yoga.fetch in process; HTTP and WebSocket both go through it.
import { randomUUID } from "node:crypto";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError } from "graphql";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { ServiceError, type ErrorCode } from "./errors.js";
import { resolvePrincipal } from "./principal.js";
import type { Context } from "./schema/context.js";
import { schema } from "./schema/index.js";
import type { Services } from "./services.js";

export type ServerContext = { requestId?: string };

/** Limits a legitimate client never reaches; each refusal has its own stable code. */
export const QUERY_LIMITS = { maxDepth: 12, maxAliases: 15, maxTokens: 2_000, maxDirectives: 20, maxCost: 5_000 };

function tagged(code: ErrorCode) {
  return [
    (_ctx: unknown, error: GraphQLError) => {
      (error.extensions as Record<string, unknown>).code = code;
      // armor throws out of validation, past yoga's own status tagging: without this a refused
      // query answered 200 with no `data`, which GraphQL over HTTP forbids for graphql-response+json.
      (error.extensions as Record<string, unknown>).http = { spec: true, status: 400 };
    },
  ];
}

/** Parse and validation failures get codes too, so every error a client sees has one. */
const errorCodesPlugin: Plugin = {
  onParse: () => ({ result }) => {
    if (result instanceof GraphQLError && !result.extensions.code) (result.extensions as Record<string, unknown>).code = "GRAPHQL_PARSE_FAILED" satisfies ErrorCode;
  },
  onValidate: () => ({ result }) => {
    for (const e of result) if (!e.extensions.code) (e.extensions as Record<string, unknown>).code = "GRAPHQL_VALIDATION_FAILED" satisfies ErrorCode;
  },
};

export function createGraphQL(services: Services): YogaServerInstance<ServerContext, Context> {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: false, // served from local files by server/http/graphql.ts
    landingPage: false,
    batching: false,
    multipart: false,
    logging: services.logger,
    maskedErrors: {
      isDev: false,
      maskError(error, message) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (error instanceof ServiceError || original instanceof ServiceError) return error as Error;
        if (error instanceof GraphQLError && !original) return error; // parse/validation/limit errors: safe to show
        const requestId = (error as { requestId?: string }).requestId;
        services.logger.error({ err: { name: (original as Error)?.name, message: (original as Error)?.message, stack: (original as Error)?.stack }, requestId }, "unexpected error");
        // Keep where it happened (the spec requires `path` on field errors), never what happened.
        const located = error instanceof GraphQLError ? error : undefined;
        return new GraphQLError(message, {
          nodes: located?.nodes,
          source: located?.source,
          positions: located?.positions,
          path: located?.path,
          extensions: { code: "INTERNAL_SERVER_ERROR" satisfies ErrorCode },
        });
      },
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth, onReject: tagged("QUERY_TOO_DEEP"), exposeLimits: true },
        maxAliases: { n: QUERY_LIMITS.maxAliases, onReject: tagged("TOO_MANY_ALIASES"), exposeLimits: true },
        maxTokens: { n: QUERY_LIMITS.maxTokens, onReject: tagged("TOO_MANY_TOKENS"), exposeLimits: true },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives, onReject: tagged("TOO_MANY_DIRECTIVES"), exposeLimits: true },
        costLimit: { maxCost: QUERY_LIMITS.maxCost, onReject: tagged("QUERY_TOO_COSTLY"), exposeLimits: true },
        blockFieldSuggestion: { enabled: true },
      }),
      errorCodesPlugin,
    ],
    context: async ({ request, requestId }) => ({
      services,
      requestId: requestId ?? randomUUID(),
      principal: await resolvePrincipal(services, request.headers.get("authorization")),
      popupPageId: request.headers.get("x-one-runtime-popup-page"),
    }),
  });
}
