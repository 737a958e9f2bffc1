// The local admin channel: lets the admin CLI act through a running server instead of opening an
// embedded data folder the server holds. Loopback callers only, with the random token the server
// wrote into the folder's lock file (readable only by the folder's owner).
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ZodError } from "zod";
import type { PrismaClient } from "../generated/prisma/client.js";
import { runAdminCommand } from "../admin/commands.js";
import { ServiceError } from "../errors.js";
import type { ApiKeyVerifier } from "../organizations/api-key-verifier.js";
import type { Vault } from "../vault.js";
import { readBody, sendJson, type RouteHandler } from "./responses.js";

export const ADMIN_TOKEN_HEADER = "x-one-runtime-admin-token";

const isLoopback = (address: string | undefined) => !!address && (address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127."));

function sameToken(a: string, b: string) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Commands run with the server's own store and keys (reencrypt re-seals with its newest key). */
export function adminChannel(prisma: PrismaClient, token: string, vault: Vault, apiKeys: ApiKeyVerifier): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const presented = req.headers[ADMIN_TOKEN_HEADER];
    if (req.method !== "POST" || !isLoopback(req.socket.remoteAddress) || typeof presented !== "string" || !sameToken(presented, token)) {
      return sendJson(res, 404, { error: "not found" });
    }
    const body = await readBody(req, 16 * 1024);
    let command: unknown;
    try {
      command = JSON.parse(body?.toString("utf8") ?? "");
    } catch {
      return sendJson(res, 400, { error: { code: "BAD_USER_INPUT", message: "Body must be JSON" } });
    }
    try {
      return sendJson(res, 200, { result: await runAdminCommand(prisma, command, { vault, onApiKeyRevoked: apiKeys.revoked }) });
    } catch (e) {
      if (e instanceof ZodError) return sendJson(res, 400, { error: { code: "BAD_USER_INPUT", message: e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") } });
      if (e instanceof ServiceError) return sendJson(res, 400, { error: { code: e.code, message: e.message } });
      throw e;
    }
  };
}
