// GET <publicUrl>/oauth/callback, per the OAuth 2.0 Security BCP (RFC 9700): the `state` is
// consumed atomically exactly once, `iss` is checked when the provider declares one (RFC 9207),
// the redirect URI is the exact one sent, the code is exchanged with the PKCE verifier, tokens
// are sealed, and the session ends CONNECTED or FAILED. The page never posts a message anywhere:
// the SDK learns the outcome from its subscription.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as oauth from "oauth4webapi";
import { sha256Hex } from "../crypto-tokens.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { expireIfDue } from "../sessions/lifecycle.js";
import { endSession, finishSessionWithConnection } from "../sessions/finish.js";
import { oauthClientFor } from "./apps.js";
import type { SealedFlow } from "./authorize.js";
import { oauth2Of, providerErrorCode, providerFor, tokenSetFrom } from "./provider.js";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const safeCode = (s: string | null) => (s && /^[A-Za-z0-9_.-]{1,64}$/.test(s) ? s : "provider_error");

function page(res: ServerResponse, status: number, title: string, detail: string, closeAfterMs: number | null) {
  const nonce = randomBytes(16).toString("base64");
  const script = closeAfterMs === null ? "" : `<script nonce="${nonce}">setTimeout(function(){window.close()},${closeAfterMs})</script>`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#1f2937;text-align:center;padding:0 24px}p{color:#4b5563}</style>
</head><body><main role="status"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></main>${script}</body></html>`);
}

async function exchange(services: Services, session: HostedConnectionSession, url: URL, state: string) {
  const entry = services.catalog.get(session.integrationSlug);
  if (!entry || !session.oauthFlowEnc || !session.oauthFlowKeyId) {
    await endSession(services, session, "FAILED", { code: "integration_unavailable", message: "The integration is no longer available" });
    return { ok: false as const, title: "Connection failed", detail: "This integration is no longer available." };
  }
  const def = oauth2Of(entry);
  const flow = services.vault.open<SealedFlow>({ ciphertext: session.oauthFlowEnc, keyId: session.oauthFlowKeyId }, { purpose: "oauth-flow", organizationId: session.organizationId, rowId: session.id });
  try {
    const credentials = await oauthClientFor(services, session.organizationId, entry);
    const provider = providerFor(entry, credentials, { publicUrl: services.publicUrl(), userInputs: flow.userInputs });
    // RFC 9207: `iss` is compared with the issuer the catalog names; a provider whose issuer we
    // do not know (most configure none) cannot be checked, so its `iss` is not compared with a guess.
    const authResponse = new URL(url);
    if (!def.issuer) authResponse.searchParams.delete("iss");
    // Checks state (again, against the one we matched) and iss, and turns `error=` into an exception.
    const params = oauth.validateAuthResponse(provider.as, provider.client, authResponse, state);
    const response = await oauth.authorizationCodeGrantRequest(provider.as, provider.client, provider.clientAuth, params, flow.redirectUri, flow.codeVerifier ?? oauth.nopkce, provider.requestOptions());
    const result = await oauth.processAuthorizationCodeResponse(provider.as, provider.client, response);
    const tokens = tokenSetFrom(result, { refreshToken: null, scopes: flow.scopes }, def);
    const metadata: Record<string, string> = {};
    for (const key of def.tokenResponseMetadata) {
      const v = result[key];
      if (typeof v === "string" || typeof v === "number") metadata[key] = String(v).slice(0, 500);
    }
    for (const key of def.callbackMetadata) {
      const v = url.searchParams.get(key);
      if (v) metadata[key] = v.slice(0, 500);
    }
    await finishSessionWithConnection(
      services,
      session,
      entry,
      { type: "OAUTH2", tokens, userInputs: flow.userInputs },
      { connectionName: session.connectionName, scopes: tokens.scopes, tokenExpiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null, metadata },
      ["AUTHORIZING"],
    );
    return { ok: true as const, title: `Connected to ${entry.name}`, detail: "You can close this window; it closes itself." };
  } catch (error) {
    const reason = error instanceof oauth.AuthorizationResponseError ? { code: safeCode(error.error), message: error.error_description ?? error.error } : error instanceof oauth.OperationProcessingError && /iss/.test(error.message) ? { code: "issuer_mismatch", message: "The authorization response came from an unexpected issuer" } : providerErrorCode(error);
    if ((error as { code?: string }).code === "SESSION_EXPIRED" || (error as { code?: string }).code === "SESSION_COMPLETED") {
      return { ok: false as const, title: "This session has ended", detail: "Close this window and start again from the app." };
    }
    services.logger.warn({ sessionId: session.id, integration: entry.slug, reason: reason.code, detail: (error as Error).message }, "OAuth2 authorization failed");
    await endSession(services, session, "FAILED", { code: safeCode(reason.code), message: reason.message.slice(0, 300) });
    return { ok: false as const, title: "Connection failed", detail: `${entry.name} did not complete the authorization (${safeCode(reason.code)}).` };
  }
}

export function oauthCallback(services: Services) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method !== "GET") return page(res, 405, "Method not allowed", "", null);
    const state = url.searchParams.get("state");
    if (!state || state.length > 200) return page(res, 400, "Invalid request", "This authorization response is missing its state.", null);
    const hash = sha256Hex(state);
    const found = await services.prisma.hostedConnectionSession.findUnique({ where: { oauthStateHash: hash } });
    if (!found) return page(res, 400, "This link is not valid", "The authorization was already used, replaced or never started here.", null);
    // Consume the state: of two concurrent callbacks with one state, exactly one gets count 1.
    const { count } = await services.prisma.hostedConnectionSession.updateMany({
      where: { id: found.id, oauthStateHash: hash, status: "AUTHORIZING" },
      data: { oauthStateHash: null },
    });
    if (count !== 1) return page(res, 400, "This link is not valid", "The authorization was already used.", null);
    const session = await expireIfDue(services, found);
    if (session.status === "EXPIRED") return page(res, 410, "This session has expired", "Close this window and start again from the app.", null);
    const outcome = await exchange(services, session, url, state);
    return page(res, outcome.ok ? 200 : 400, outcome.title, outcome.detail, outcome.ok ? 1200 : null);
  };
}
