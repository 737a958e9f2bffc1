// The end of an OAuth2 authorization, per the OAuth 2.0 Security BCP (RFC 9700): the `state` is
// consumed atomically exactly once, `iss` is checked when the provider declares one (RFC 9207),
// the redirect URI is the exact one sent, the code is exchanged with the PKCE verifier, tokens
// are sealed, and the session ends CONNECTED or FAILED. What the end user sees of it is an
// outcome for the callback page (server/http/oauth-callback.ts) to render.
import * as oauth from "oauth4webapi";
import { sha256Hex } from "../crypto-tokens.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { endSession, finishSessionWithConnection } from "../sessions/finish.js";
import { expireIfDue } from "../sessions/lifecycle.js";
import { chosenIntegration } from "../sessions/picker.js";
import { oauthProviderFor } from "./apps.js";
import { flowBinding, type SealedFlow } from "./authorize.js";
import { callbackHmacValid, oauth2Of, processOptions, providerErrorCode, tokenSetFrom } from "./provider.js";

/** What the callback page says; `closeAfterMs` closes the window by itself after a success. */
export type CallbackOutcome = { status: number; title: string; detail: string; closeAfterMs: number | null };

const CLOSE_AFTER_SUCCESS_MS = 1200;
const safeCode = (s: string | null | undefined) => (s && /^[A-Za-z0-9_.-]{1,64}$/.test(s) ? s : "provider_error");
const refused = (status: number, title: string, detail: string): CallbackOutcome => ({ status, title, detail, closeAfterMs: null });

/** Provider text we store: control characters (NUL above all, which PostgreSQL refuses) become spaces. */
const storable = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, 500);

/** Why an authorization failed, as a stable code and a message for the session's error. */
/** A callback we refuse ourselves, with the code the session records. */
class CallbackRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function failureReason(error: unknown): { code: string; message: string } {
  if (error instanceof CallbackRefused) return { code: error.reason, message: error.message };
  if (error instanceof oauth.AuthorizationResponseError) return { code: safeCode(error.error), message: storable(error.error_description ?? error.error) };
  if (error instanceof oauth.OperationProcessingError && /iss/.test(error.message)) {
    return { code: "issuer_mismatch", message: "The authorization response came from an unexpected issuer" };
  }
  return providerErrorCode(error);
}

/** Values the entry says to keep from the token response and the callback URL (instance_url, realmId...). */
function connectionMetadata(def: ReturnType<typeof oauth2Of>, tokenResponse: oauth.TokenEndpointResponse, url: URL): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const key of def.tokenResponseMetadata) {
    const v = tokenResponse[key];
    if (typeof v === "string" || typeof v === "number") metadata[key] = storable(String(v));
  }
  for (const key of def.callbackMetadata) {
    const v = url.searchParams.get(key);
    if (v) metadata[key] = storable(v);
  }
  return metadata;
}

async function exchange(services: Services, session: HostedConnectionSession, url: URL, state: string): Promise<CallbackOutcome> {
  let entryName = "The provider";
  try {
    const entry = chosenIntegration(services, session);
    entryName = entry.name;
    const def = oauth2Of(entry);
    if (!session.oauthFlowEnc || !session.oauthFlowKeyId) throw new Error("the session has no sealed flow");
    const flow = services.vault.open<SealedFlow>({ ciphertext: session.oauthFlowEnc, keyId: session.oauthFlowKeyId }, flowBinding(session));
    const { provider, client } = await oauthProviderFor(services, session.organizationId, entry, flow.userInputs);
    // Before anything is sent to the provider: a callback its signature does not vouch for ends here.
    if (!callbackHmacValid(def, url, client.clientSecret)) throw new CallbackRefused("invalid_signature", "The authorization response's signature did not match");
    // RFC 9207: `iss` is compared with the issuer the catalog names; a provider whose issuer we
    // do not know (most configure none) cannot be checked, so its `iss` is not compared with a guess.
    const authResponse = new URL(url);
    if (!def.issuer) authResponse.searchParams.delete("iss");
    // Checks state (again, against the one we matched) and iss, and turns `error=` into an exception.
    const params = oauth.validateAuthResponse(provider.as, provider.client, authResponse, state);
    const response = await oauth.authorizationCodeGrantRequest(provider.as, provider.client, provider.clientAuth, params, flow.redirectUri, flow.codeVerifier ?? oauth.nopkce, provider.requestOptions());
    const result = await oauth.processAuthorizationCodeResponse(provider.as, provider.client, response, processOptions);
    const tokens = tokenSetFrom(result, { refreshToken: null, scopes: flow.scopes }, def);
    await finishSessionWithConnection(
      services,
      session,
      entry,
      { type: "OAUTH2", tokens, userInputs: flow.userInputs },
      { connectionName: session.connectionName, scopes: tokens.scopes, tokenExpiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null, metadata: connectionMetadata(def, result, url) },
      ["AUTHORIZING"],
    );
    return { status: 200, title: `Connected to ${entry.name}`, detail: "You can close this window; it closes itself.", closeAfterMs: CLOSE_AFTER_SUCCESS_MS };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "SESSION_EXPIRED" || code === "SESSION_COMPLETED") return refused(400, "This session has ended", "Close this window and start again from the app.");
    const reason = code === "NOT_FOUND" ? { code: "integration_unavailable", message: "The integration is no longer available" } : failureReason(error);
    services.logger.warn({ sessionId: session.id, integration: session.integrationSlug, reason: reason.code, detail: (error as Error).message }, "OAuth2 authorization failed");
    await endSession(services, session, "FAILED", { code: safeCode(reason.code), message: reason.message.slice(0, 300) });
    return refused(400, "Connection failed", `${entryName} did not complete the authorization (${safeCode(reason.code)}).`);
  }
}

/** Handles the provider's redirect back to us: the full callback URL, query included. */
export async function completeAuthorization(services: Services, url: URL): Promise<CallbackOutcome> {
  const state = url.searchParams.get("state");
  if (!state || state.length > 200) return refused(400, "Invalid request", "This authorization response is missing its state.");
  const hash = sha256Hex(state);
  // Consume the state in one statement: of two concurrent callbacks with one state, one gets the row.
  const [consumed] = await services.prisma.hostedConnectionSession.updateManyAndReturn({
    where: { oauthStateHash: hash, status: "AUTHORIZING" },
    data: { oauthStateHash: null },
  });
  if (!consumed) return refused(400, "This link is not valid", "The authorization was already used, replaced or never started here.");
  const session = await expireIfDue(services, consumed);
  if (session.status === "EXPIRED") return refused(410, "This session has expired", "Close this window and start again from the app.");
  return exchange(services, session, url, state);
}
