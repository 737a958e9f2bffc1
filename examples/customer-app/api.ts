// The customer backend's JSON endpoints, the only place that holds the One Runtime API key. The
// page calls these; they call One Runtime with @one-runtime/client for the signed-in user only.
import type { IncomingMessage, ServerResponse } from "node:http";
import { OneRuntimeError, type OneRuntimeClient } from "@one-runtime/client";

/** The signed-in user. A real app takes this from its own session; the example has one user. */
export type AppUser = { id: string; name: string; email: string };

export type ApiRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const MAX_BODY_BYTES = 16 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "payload_too_large", "Request body too large");
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error();
    return body;
  } catch {
    throw new HttpError(400, "bad_request", "Expected a JSON object");
  }
}

const optionalString = (body: Record<string, unknown>, key: string): string | undefined => {
  const value = body[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new HttpError(400, "bad_request", `${key} must be a string`);
  return value;
};

/** How a One Runtime failure reaches the page: the browser can fix bad input, not our API key. */
function httpStatusOf(error: OneRuntimeError): number {
  switch (error.code) {
    case "BAD_USER_INPUT":
      return 400;
    case "NOT_FOUND":
      return 404;
    case "INTEGRATION_NOT_CONFIGURED":
      return 409;
    case "RATE_LIMITED":
      return 429;
    default:
      return 502;
  }
}

/** The event ids the backend's webhook inbox has received, to show which events arrived by webhook. */
export type ReceivedWebhooks = () => Map<string, { type: string; at: string }>;

export function createApiRoutes(oneRuntime: OneRuntimeClient, user: AppUser, log: (message: string) => void = console.error, received: ReceivedWebhooks = () => new Map()) {
  const routes = apiRoutes(oneRuntime, user, received);
  const connectionPath = /^\/api\/one-runtime\/connections\/([0-9a-fA-F-]{1,64})$/;
  const resourcesPath = /^\/api\/one-runtime\/connections\/([0-9a-fA-F-]{1,64})\/resources$/;

  return async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const route = routes[`${req.method} ${url.pathname}`];
    const connectionId = connectionPath.exec(url.pathname)?.[1];
    const resourcesOf = req.method === "GET" ? resourcesPath.exec(url.pathname)?.[1] : undefined;
    if (!route && !(connectionId && req.method === "DELETE") && !resourcesOf) {
      if (!url.pathname.startsWith("/api/")) return false;
      sendJson(res, 404, { error: { code: "not_found", message: "No such endpoint" } });
      return true;
    }
    try {
      if (route) await route(req, res, url);
      else if (resourcesOf) await listSandboxResources(oneRuntime, user, resourcesOf, res);
      else await deleteOwnConnection(oneRuntime, user, connectionId!, res);
    } catch (error) {
      sendError(res, error, log);
    }
    return true;
  };
}

/** The JSON endpoints by "METHOD path"; each acts for the signed-in user only. */
function apiRoutes(oneRuntime: OneRuntimeClient, user: AppUser, received: ReceivedWebhooks): Record<string, ApiRoute> {
  return {
    "GET /api/me": async (_req, res) => sendJson(res, 200, user),

    "GET /api/one-runtime/categories": async (_req, res) => {
      sendJson(res, 200, { categories: await oneRuntime.categories() });
    },

    "GET /api/one-runtime/integrations": async (_req, res, url) => {
      const search = url.searchParams.get("search")?.trim() || undefined;
      const category = url.searchParams.get("category") || undefined;
      const page = await oneRuntime.integrations({ search, category: search ? undefined : category, first: 50 });
      sendJson(res, 200, { totalCount: page.totalCount, integrations: page.nodes });
    },

    // The seed's contract: the page asks for a session for one integration and gets a token; or,
    // with `let_user_choose: true`, for a session whose popup lets the user pick from the catalog.
    "POST /api/one-runtime/hosted-connection-sessions": async (req, res) => {
      const body = await readJson(req);
      const integrationSlug = optionalString(body, "integration_slug");
      const letUserChoose = body.let_user_choose === true;
      if (!integrationSlug && !letUserChoose) throw new HttpError(400, "bad_request", "integration_slug is required (or let_user_choose: true)");
      if (integrationSlug && letUserChoose) throw new HttpError(400, "bad_request", "integration_slug or let_user_choose, not both");
      const endUserId = optionalString(body, "end_user_id") ?? user.id;
      // Sessions are only ever for the signed-in user, whatever the page sent.
      if (endUserId !== user.id) throw new HttpError(403, "forbidden", "end_user_id must be the signed-in user");
      const { sessionToken } = await oneRuntime.createHostedConnectionSession({
        input: {
          integrationSlug,
          endUserId: user.id,
          endUserName: optionalString(body, "end_user_name") ?? user.name,
          endUserEmail: optionalString(body, "end_user_email") ?? user.email,
          suggestedConnectionName: optionalString(body, "suggested_connection_name"),
        },
      });
      sendJson(res, 201, { session_token: sessionToken });
    },

    // The user's recent events from One Runtime's log, each marked with when its webhook arrived here.
    "GET /api/one-runtime/events": async (_req, res) => {
      const page = await oneRuntime.events({ first: 100 });
      const arrived = received();
      const events = page.nodes
        .filter((e) => e.endUserId === user.id)
        .map((e) => ({ id: e.id, type: e.type, createdAt: e.createdAt, integrationSlug: e.integrationSlug, connectionId: e.connectionId, webhookReceivedAt: arrived.get(e.id)?.at ?? null }));
      sendJson(res, 200, { events });
    },

    "GET /api/one-runtime/connections": async (_req, res) => {
      const page = await oneRuntime.connections({ endUserId: user.id, first: 100 });
      sendJson(res, 200, { connections: page.nodes });
    },
  };
}

/** Deletes the user's connection, or a 404 when it is someone else's: ids from the browser are not trusted. */
async function deleteOwnConnection(oneRuntime: OneRuntimeClient, user: AppUser, id: string, res: ServerResponse) {
  const connection = await oneRuntime.connection({ id });
  if (!connection || connection.endUser.id !== user.id) throw new HttpError(404, "not_found", "No such connection");
  await oneRuntime.deleteConnection({ id: connection.id });
  sendJson(res, 200, { deleted: connection.id });
}

/**
 * The sandbox's resources, read through One Runtime's proxy: this backend never holds the
 * connection's token, One Runtime adds it. Only for the user's own OAuth2 sandbox connection.
 */
async function listSandboxResources(oneRuntime: OneRuntimeClient, user: AppUser, id: string, res: ServerResponse) {
  const connection = await oneRuntime.connection({ id });
  if (!connection || connection.endUser.id !== user.id || connection.integrationSlug !== "oauth2-sandbox") throw new HttpError(404, "not_found", "No such sandbox connection");
  const answer = await oneRuntime.proxy({ connectionId: connection.id, path: "/resources", query: { limit: 5 } });
  if (!answer.ok) throw new HttpError(502, "provider_error", `The sandbox answered HTTP ${answer.status}`);
  const { items } = await answer.json<{ items: { id: string; name: string; kind: string }[] }>();
  sendJson(res, 200, { resources: items });
}

/** Our own refusals as they are, One Runtime's mapped and logged, anything else logged and masked. */
function sendError(res: ServerResponse, error: unknown, log: (message: string) => void) {
  if (error instanceof HttpError) {
    sendJson(res, error.status, { error: { code: error.code, message: error.message } });
  } else if (error instanceof OneRuntimeError) {
    // The request id finds the call in One Runtime's logs.
    log(`One Runtime ${error.operation} failed: ${error.code} ${error.message} (request ${error.requestId ?? "-"})`);
    sendJson(res, httpStatusOf(error), {
      error: { code: error.code, message: error.message, field_errors: error.fieldErrors, request_id: error.requestId },
    });
  } else {
    log(`Unexpected error: ${(error as Error)?.stack ?? error}`);
    sendJson(res, 500, { error: { code: "internal", message: "Something went wrong" } });
  }
}
