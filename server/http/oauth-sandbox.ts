// The OAuth2 sandbox's authorization server (authorization code + PKCE S256, refresh token
// rotation, revocation) under /sandbox/oauth/, and a small API under /sandbox/api/ that takes the
// access tokens it issued, for the sandbox integration (server/oauth/sandbox.ts) and the proxy.
// Development only: its grants live in this process's memory, and it is on by default only on the
// embedded store.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { SANDBOX_CLIENT } from "../oauth/sandbox.js";
import { escapeHtml, readBody, sendHtml, sendJson, type RouteHandler } from "./responses.js";

const ACCESS_TOKEN_SECONDS = 3600;
const CODE_SECONDS = 60;
const MAX_GRANTS = 10_000;

type Code = { redirectUri: string; challenge: string; scope: string; expiresAt: number };
const secret = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`;
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function clientAuthenticated(req: IncomingMessage, form: URLSearchParams): boolean {
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
  if (basic) {
    const [id, pw] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":").map(decodeURIComponent);
    return id === SANDBOX_CLIENT.clientId && same(pw ?? "", SANDBOX_CLIENT.clientSecret);
  }
  return form.get("client_id") === SANDBOX_CLIENT.clientId && same(form.get("client_secret") ?? "", SANDBOX_CLIENT.clientSecret);
}

function consentPage(params: URLSearchParams): string {
  const hidden = [...params].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>OAuth2 Sandbox</title><style>body{font:16px system-ui,sans-serif;margin:0;padding:32px 24px;color:#1f2937}
.badge{display:inline-block;background:#fef3c7;color:#92400e;border-radius:6px;padding:2px 8px;font-size:13px;font-weight:600}
h1{font-size:20px;margin:16px 0 8px}p{color:#4b5563}button{font:inherit;padding:10px 18px;border-radius:8px;border:1px solid #d1d5db;background:#fff;margin-right:8px;cursor:pointer}
button.primary{background:#7c3aed;border-color:#7c3aed;color:#fff}</style></head><body>
<span class="badge">Development sandbox</span><h1>Authorize access?</h1>
<p>An application asks for: <strong>${escapeHtml(params.get("scope") ?? "(no scopes)")}</strong>. This local authorization server is part of One Runtime for trying OAuth2 flows; no real account is involved.</p>
<form method="post">${hidden}<button class="primary" name="decision" value="approve" autofocus>Approve</button><button name="decision" value="deny">Deny</button></form>
</body></html>`;
}

/** What the sandbox API serves: a few fixed resources, the same for every end user. */
const RESOURCES = [
  { id: "res_1", name: "Quarterly report", kind: "document" },
  { id: "res_2", name: "Team roster", kind: "spreadsheet" },
  { id: "res_3", name: "Launch checklist", kind: "document" },
  { id: "res_4", name: "Support inbox", kind: "mailbox" },
  { id: "res_5", name: "Design review", kind: "meeting" },
];
export const SANDBOX_API_PATH = "/sandbox/api/";

/** The sandbox's endpoints (mounted under /sandbox/oauth/ and /sandbox/api/ by the route table). */
export function sandboxEndpoints(callbackUrl: () => string): { authorize: RouteHandler; token: RouteHandler; revoke: RouteHandler; api: RouteHandler } {
  const codes = new Map<string, Code>();
  const refreshTokens = new Map<string, string>(); // refresh token → scope
  const accessTokens = new Map<string, { scope: string; expiresAt: number }>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    if (map.size >= MAX_GRANTS) map.delete(map.keys().next().value!);
    map.set(key, value);
  };

  const authorize = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const params = req.method === "POST" ? new URLSearchParams((await readBody(req, 16 * 1024))?.toString("utf8") ?? "") : url.searchParams;
    const redirectUri = params.get("redirect_uri") ?? "";
    // Never redirect anywhere but our own callback: an open redirector is the classic sandbox hole.
    if (params.get("client_id") !== SANDBOX_CLIENT.clientId || redirectUri !== callbackUrl()) return sendJson(res, 400, { error: "invalid_request", error_description: "unknown client or redirect_uri" });
    const state = params.get("state") ?? "";
    const back = new URL(redirectUri);
    back.searchParams.set("state", state);
    if (params.get("response_type") !== "code" || params.get("code_challenge_method") !== "S256" || !params.get("code_challenge")) {
      back.searchParams.set("error", "invalid_request");
      back.searchParams.set("error_description", "authorization code with PKCE S256 required");
    } else if (req.method !== "POST") {
      return sendHtml(res, 200, consentPage(params), "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    } else if (params.get("decision") !== "approve") {
      back.searchParams.set("error", "access_denied");
    } else {
      const code = secret("sbx_code_");
      remember(codes, code, { redirectUri, challenge: params.get("code_challenge")!, scope: params.get("scope") ?? "", expiresAt: Date.now() + CODE_SECONDS * 1000 });
      back.searchParams.set("code", code);
    }
    res.writeHead(303, { location: back.toString(), "cache-control": "no-store", "referrer-policy": "no-referrer" });
    res.end();
  };

  const issue = (scope: string) => {
    const refreshToken = secret("sbx_rt_");
    remember(refreshTokens, refreshToken, scope);
    const accessToken = secret("sbx_at_");
    remember(accessTokens, accessToken, { scope, expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000 });
    return { access_token: accessToken, token_type: "Bearer", expires_in: ACCESS_TOKEN_SECONDS, refresh_token: refreshToken, scope };
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams((await readBody(req, 16 * 1024))?.toString("utf8") ?? "");
    const noStore = { "cache-control": "no-store" };
    if (req.method !== "POST" || !clientAuthenticated(req, form)) return sendJson(res, 401, { error: "invalid_client" }, noStore);
    if (form.get("grant_type") === "authorization_code") {
      const code = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      const challenge = createHash("sha256").update(form.get("code_verifier") ?? "").digest("base64url");
      if (!code || code.expiresAt < Date.now() || code.redirectUri !== form.get("redirect_uri") || !same(challenge, code.challenge)) {
        return sendJson(res, 400, { error: "invalid_grant" }, noStore);
      }
      return sendJson(res, 200, issue(code.scope), noStore);
    }
    if (form.get("grant_type") === "refresh_token") {
      const old = form.get("refresh_token") ?? "";
      const scope = refreshTokens.get(old);
      if (scope === undefined) return sendJson(res, 400, { error: "invalid_grant" }, noStore);
      refreshTokens.delete(old); // rotation: each refresh token works once
      return sendJson(res, 200, issue(scope), noStore);
    }
    return sendJson(res, 400, { error: "unsupported_grant_type" }, noStore);
  };

  const revoke = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams((await readBody(req, 16 * 1024))?.toString("utf8") ?? "");
    if (req.method !== "POST" || !clientAuthenticated(req, form)) return sendJson(res, 401, { error: "invalid_client" });
    refreshTokens.delete(form.get("token") ?? "");
    accessTokens.delete(form.get("token") ?? "");
    res.writeHead(200).end();
  };

  /** GET me, resources (?limit, ?cursor) and resources/<id>, for a Bearer token this sandbox issued and that has `read`. */
  const api = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    const grant = bearer ? accessTokens.get(bearer[1]!) : undefined;
    const noStore = { "cache-control": "no-store" };
    if (!grant || grant.expiresAt < Date.now()) {
      return sendJson(res, 401, { error: "invalid_token" }, { ...noStore, "www-authenticate": 'Bearer realm="sandbox", error="invalid_token"' });
    }
    if (!grant.scope.split(" ").includes("read")) return sendJson(res, 403, { error: "insufficient_scope" }, { ...noStore, "www-authenticate": 'Bearer realm="sandbox", error="insufficient_scope", scope="read"' });
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method_not_allowed" }, { ...noStore, allow: "GET, HEAD" });
    const path = url.pathname.slice(SANDBOX_API_PATH.length);
    if (path === "me") return sendJson(res, 200, { id: "sandbox-user", name: "Sandbox User", scopes: grant.scope.split(" ").filter(Boolean) }, noStore);
    if (path === "resources") {
      const limit = Math.min(Math.max(Number(url.searchParams.get("limit")) || RESOURCES.length, 1), RESOURCES.length);
      const start = Math.max(0, RESOURCES.findIndex((r) => r.id === url.searchParams.get("cursor")));
      const page = RESOURCES.slice(start, start + limit);
      return sendJson(res, 200, { items: page, nextCursor: RESOURCES[start + limit]?.id ?? null }, noStore);
    }
    const one = /^resources\/([a-z0-9_]+)$/.exec(path);
    const found = one && RESOURCES.find((r) => r.id === one[1]);
    if (found) return sendJson(res, 200, found, noStore);
    return sendJson(res, 404, { error: "not_found" }, noStore);
  };

  return { authorize, token, revoke, api };
}
