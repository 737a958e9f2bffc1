// The GraphQL engine: graphql-yoga with query limits (graphql-armor), client mistakes refused at
// the edge, stable error codes, error masking whatever NODE_ENV says (each unexpected error logged
// once, with its request id, through the logger's redaction), introspection as configured, and
// the caller resolved from its bearer credential. Exported on its own so tests can call
// yoga.fetch in process; HTTP and WebSocket both go through it.
import { randomUUID } from "node:crypto";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError, NoSchemaIntrospectionCustomRule, validate, type ExecutionArgs } from "graphql";
import { createYoga, handleStreamOrSingleExecutionResult, type Plugin, type YogaLogger, type YogaServerInstance } from "graphql-yoga";
import type { Config } from "./config.js";
import { ServiceError, type ErrorCode } from "./errors.js";
import { readsCatalogOnly, succeeded, type CatalogCache, type EdgeRequest } from "./http/catalog-cache.js";
import { inputChecksPlugin } from "./http/graphql-input.js";
import type { Logger } from "./logger.js";
import { resolveCaller, type Principal } from "./principal.js";
import type { Context } from "./schema/context.js";
import { schema } from "./schema/index.js";
import type { Services } from "./services.js";

/**
 * What the transport knows of a request before yoga: its id, the peer's address (the socket's;
 * behind a proxy, the proxy's) and, over HTTP, the caller the edge resolved (server/http/graphql.ts).
 */
export type ServerContext = { requestId?: string; clientAddress?: string; edge?: EdgeRequest };

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

/** Parse and validation errors: the client's mistakes, even those graphql-js gives a cause. */
const documentErrors = new WeakSet<GraphQLError>();

/** Parse and validation failures get codes too, so every error a client sees has one. */
const errorCodesPlugin: Plugin = {
  onParse: () => ({ result }) => {
    if (!(result instanceof GraphQLError)) return;
    documentErrors.add(result);
    if (!result.extensions.code) (result.extensions as Record<string, unknown>).code = "GRAPHQL_PARSE_FAILED" satisfies ErrorCode;
  },
  onValidate: () => ({ result }) => {
    for (const e of result) {
      documentErrors.add(e);
      if (!e.extensions.code) (e.extensions as Record<string, unknown>).code = "GRAPHQL_VALIDATION_FAILED" satisfies ErrorCode;
    }
  },
};

/** An error the client may see as it is; anything else is masked and logged. */
function isExpected(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  if (error instanceof ServiceError || error.originalError instanceof ServiceError) return true;
  // Without a cause: a request, parse, validation, limit or input refusal made by the edge.
  return !error.originalError || documentErrors.has(error);
}

const requestIdOf = (context: unknown) => (context as { requestId?: string } | undefined)?.requestId;

/** Logs each unexpected error once, with the request id whenever it is known. */
function unexpectedErrorLog(logger: Logger) {
  const logged = new WeakSet<object>();
  const log = (error: unknown, requestId?: string) => {
    if (typeof error === "object" && error !== null) {
      if (logged.has(error)) return;
      logged.add(error);
    }
    const located = error instanceof GraphQLError ? error : undefined;
    logger.error({ err: located?.originalError ?? error, requestId, path: located?.path?.join(".") }, "unexpected error");
  };
  const inspect = (errors: readonly unknown[] | undefined, context: unknown) => {
    for (const e of errors ?? []) if (!isExpected(e)) log(e, requestIdOf(context));
  };
  /** Sees every result before masking (it comes before yoga's masking plugin), with its context. */
  const plugin: Plugin = {
    onPluginInit({ registerContextErrorHandler }) {
      registerContextErrorHandler(({ error, context }) => inspect([error], context));
    },
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, ({ result }) => inspect(result.errors, args.contextValue)),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload as never, ({ result }) => inspect(result.errors, args.contextValue)),
      onSubscribeError: ({ error }) => inspect([error], args.contextValue),
    }),
  };
  /**
   * yoga's own logger: its debug lines are fixed texts; the errors it logs after masking were
   * logged already (with the request id), anything else goes through `log`. Never variables.
   */
  const yogaLogger: YogaLogger = {
    debug: (...args) => logger.debug(args.filter((a) => typeof a === "string").join(" ")),
    info: (...args) => logger.info(args.filter((a) => typeof a === "string").join(" ")),
    warn: (...args) => logger.warn(args.filter((a) => typeof a === "string").join(" ")),
    error: (...args) => log(args.find((a) => typeof a === "object" && a !== null) ?? new Error(String(args.find((a) => typeof a === "string") ?? "unknown error"))),
  };
  return { log, plugin, yogaLogger };
}

/**
 * Introspection (`__schema`, `__type`) for everyone, for callers with an organization's API key,
 * or for no one. Checked before execution, once the caller is known (validation is cached per
 * document, whoever sends it). `__typename` is always allowed.
 */
function introspectionPolicy(mode: Config["introspection"]): Plugin {
  if (mode === "public") return {};
  const refuse = (args: ExecutionArgs, stop: (result: unknown) => void) => {
    if (mode === "api-key" && (args.contextValue as Context).principal.kind === "organization") return;
    if (!validate(args.schema, args.document, [NoSchemaIntrospectionCustomRule]).length) return;
    const message = mode === "api-key" ? "Schema introspection needs an API key" : "Schema introspection is disabled";
    stop({ errors: [new GraphQLError(message, { extensions: { code: "GRAPHQL_VALIDATION_FAILED" satisfies ErrorCode, http: { spec: true, status: 400 } } })] });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => refuse(args, setResultAndStopExecution as never),
    onSubscribe: ({ args, setResultAndStopExecution }) => refuse(args, setResultAndStopExecution as never),
  };
}

/** Keeps the answers of operations that read only the catalog (see server/http/catalog-cache.ts). */
function catalogCachePlugin(cache: CatalogCache): Plugin<Context, ServerContext> {
  return {
    onExecute: ({ args }) => {
      const edge = (args.contextValue as Context & ServerContext).edge;
      if (!edge?.cacheKey || !readsCatalogOnly(args.document, args.operationName)) return;
      return {
        onExecuteDone: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result }) => {
            if (succeeded(result)) edge.cacheable = true;
          }),
      };
    },
    async onResponse({ response, serverContext }) {
      const edge = serverContext.edge;
      if (!edge?.cacheable || !edge.cacheKey || response.status !== 200) return;
      const body = Buffer.from(await response.clone().arrayBuffer());
      cache.set(edge.cacheKey, { status: response.status, contentType: response.headers.get("content-type") ?? "application/json", body });
    },
  };
}

/** The edge's settled caller, or (WebSocket operations) the caller resolved here. */
function callerOf(edge: EdgeRequest | undefined, resolve: () => Promise<Principal>): Promise<Principal> | Principal {
  if (!edge) return resolve();
  if (edge.caller.status === "rejected") throw edge.caller.reason;
  return edge.caller.value;
}

export function createGraphQL(services: Services, catalogCache: CatalogCache): YogaServerInstance<ServerContext, Context> {
  const unexpected = unexpectedErrorLog(services.logger);
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: false, // served from local files by server/http/graphql.ts
    landingPage: false,
    batching: false,
    multipart: false,
    // CORS is answered by server/http/graphql.ts: yoga's default reflects any origin with credentials.
    cors: false,
    logging: unexpected.yogaLogger,
    maskedErrors: {
      isDev: false,
      maskError(error, message) {
        if (isExpected(error)) {
          // yoga's "invalid JSON" error carries the parser's message, which quotes the body: keep
          // only its name (yoga answers 400 rather than 200 because it is there).
          const extensions = (error as GraphQLError).extensions as Record<string, unknown>;
          const cause = extensions.originalError as { name?: unknown } | undefined;
          if (cause && typeof cause === "object") extensions.originalError = { name: String(cause.name ?? "Error") };
          return error as Error;
        }
        unexpected.log(error); // once: usually logged already, with its request id
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
      inputChecksPlugin(services.logger),
      introspectionPolicy(services.config.introspection),
      unexpected.plugin,
      catalogCachePlugin(catalogCache),
    ],
    context: async ({ request, requestId, clientAddress, edge }) => ({
      services,
      requestId: requestId ?? randomUUID(),
      principal: await callerOf(edge, () => resolveCaller(services, request.headers.get("authorization"), clientAddress)),
      popupPageId: request.headers.get("x-one-runtime-popup-page"),
    }),
  });
}
