// graphql-ws on the same server and path as HTTP GraphQL. Every operation runs through yoga's
// envelope, so WebSocket subscriptions get the same limits, error masking and context as HTTP.
// Refusals: an oversized frame closes with 1009 (ws), a malformed message with 4400, no
// connection_init in time with 4408, a second init with 4429 (graphql-ws); too many operations
// on one socket is an error for that operation (code RATE_LIMITED), the socket stays usable.
// Every socket is pinged; one that has not answered by the next ping is cut, so a connection a
// balancer dropped without a word frees its subscriptions.
import type { Server } from "node:http";
import { GraphQLError, getOperationAST, type ExecutionArgs } from "graphql";
import type { Context as Context_, SubscribePayload } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { YogaServerInstance } from "graphql-yoga";
import type { ErrorCode } from "./errors.js";
import type { Context } from "./schema/context.js";
import type { ServerContext } from "./yoga.js";

export const WS_LIMITS = { maxPayloadBytes: 64 * 1024, maxOperationsPerSocket: 10, connectionInitWaitMs: 5_000, pingIntervalMs: 12_000 };

/** Close code the SDK treats as "reconnect elsewhere": sent to every socket on shutdown. */
export const CLOSE_SERVICE_RESTART = 1012;

type Extra = { operations?: Set<string>; subscriptions?: Set<string> };

/** How long close() lets clients answer the close frame before it cuts their sockets. */
export const CLOSE_HANDSHAKE_MS = 2_000;

function withoutHttp(error: GraphQLError): GraphQLError {
  if (!error.extensions?.http) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions });
}

type SocketContext = Context_<Record<string, unknown> | undefined, Extra>;

/**
 * Turns one graphql-ws `subscribe` message into execution arguments through yoga's envelope (the
 * same limits, masking and caller resolution as HTTP), or into the errors that refuse it.
 */
async function prepareOperation(
  yoga: YogaServerInstance<ServerContext, Context>,
  ctx: SocketContext,
  id: string,
  payload: SubscribePayload,
  countSubscription: () => void,
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  const operations = (ctx.extra.operations ??= new Set());
  if (operations.size >= WS_LIMITS.maxOperationsPerSocket) {
    return [new GraphQLError("Too many operations on one socket", { extensions: { code: "RATE_LIMITED" satisfies ErrorCode } })];
  }
  // The caller authenticates the socket in connection_init (`{ authorization: "Bearer …" }`,
  // any case): it becomes the operation's Authorization header, resolved like HTTP's.
  const authorization = Object.entries(ctx.connectionParams ?? {}).find(([k]) => k.toLowerCase() === "authorization")?.[1];
  const request = { headers: new Headers(typeof authorization === "string" ? { authorization } : {}) };
  const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...ctx, request, params: payload } as never);
  let document;
  try {
    // Armor's limits throw from parse and validate rather than returning errors.
    document = parse(payload.query);
    const errors = validate(schema, document);
    if (errors.length) return errors.map(withoutHttp);
  } catch (e) {
    return [e instanceof GraphQLError ? withoutHttp(e) : new GraphQLError("Invalid query", { extensions: { code: "GRAPHQL_PARSE_FAILED" satisfies ErrorCode } })];
  }
  let contextValue;
  try {
    contextValue = await contextFactory();
  } catch (e) {
    // An unknown or malformed credential is this operation's typed error, as over HTTP.
    if (e instanceof GraphQLError) return [withoutHttp(e)];
    throw e;
  }
  operations.add(id);
  if (getOperationAST(document, payload.operationName)?.operation === "subscription") {
    (ctx.extra.subscriptions ??= new Set()).add(id);
    countSubscription();
  }
  return {
    schema,
    document,
    operationName: payload.operationName ?? null,
    variableValues: payload.variables ?? null,
    contextValue,
    rootValue: { execute, subscribe },
  };
}

export function attachWebSocket(server: Server, yoga: YogaServerInstance<ServerContext, Context>, opts: { pingIntervalMs?: number } = {}) {
  const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: WS_LIMITS.maxPayloadBytes });
  let openSubscriptions = 0;
  // A socket error (e.g. an oversized frame) must never surface as an unhandled 'error' event.
  const ignoreSocketError = () => {};
  wss.on("connection", (socket) => socket.on("error", ignoreSocketError));
  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      isProd: true,
      connectionInitWaitTimeout: WS_LIMITS.connectionInitWaitMs,
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: async (args) => {
        const result = await (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args);
        // A refusal before the first event (bad token, expired session) ends up as graphql-ws's
        // error message; HTTP-only details (status, headers) do not belong on the socket.
        const errors = (result as { errors?: readonly GraphQLError[] }).errors;
        if (errors && !(Symbol.asyncIterator in (result as object))) return { ...(result as object), errors: errors.map(withoutHttp) } as never;
        return result as never;
      },
      onSubscribe: (ctx, id, payload) => prepareOperation(yoga, ctx, id, payload, () => openSubscriptions++),
      onComplete: (ctx, id) => {
        ctx.extra.operations?.delete(id);
        if (ctx.extra.subscriptions?.delete(id)) openSubscriptions--;
      },
      onError: (ctx, id) => {
        ctx.extra.operations?.delete(id);
        if (ctx.extra.subscriptions?.delete(id)) openSubscriptions--;
      },
    },
    wss,
    // graphql-ws pings every interval and terminates a socket whose pong has not come by the next.
    opts.pingIntervalMs ?? WS_LIMITS.pingIntervalMs,
  );
  // graphql-ws answers a socket's error by printing it with its stack to stderr and closing with
  // 4500, but ws has closed that socket already (1009 for an oversized frame, or the peer is gone):
  // a client's mistake is not our failure, so only the quiet listener stays.
  wss.on("connection", (socket) => {
    for (const listener of socket.listeners("error")) if (listener !== ignoreSocketError) socket.off("error", listener as () => void);
  });
  return {
    wss,
    /** For metrics: open sockets and the subscriptions running on them. */
    stats: () => ({ connections: wss.clients.size, subscriptions: openSubscriptions }),
    /**
     * Closes every socket with a "reconnect" code and stops accepting new ones. Clients that do not
     * answer the close frame within CLOSE_HANDSHAKE_MS are cut, so shutdown stays bounded.
     */
    async close(code = CLOSE_SERVICE_RESTART, reason = "server restarting") {
      const closing = [...wss.clients].map((client) => new Promise<void>((resolve) => {
        if (client.readyState === client.CLOSED) return resolve();
        client.once("close", () => resolve());
        client.close(code, reason);
      }));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(closing), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_HANDSHAKE_MS)))]);
      clearTimeout(timer);
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
    },
  };
}
