// Starting an OAuth2 authorization from the popup: a fresh `state` (256 random bits, stored only
// as a hash) and PKCE S256 verifier bound to the session (sealed by the vault), the session moved
// to AUTHORIZING, and the provider's authorization URL for the popup to navigate to.
import * as oauth from "oauth4webapi";
import { signsInAtProvider } from "../catalog/entry-schema.js";
import { badInput } from "../errors.js";
import { randomSecret, sha256Hex } from "../crypto-tokens.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { assertOpen, transitionSession } from "../sessions/lifecycle.js";
import { chosenIntegration } from "../sessions/picker.js";
import { connectionNameSchema, parseInput } from "../validation.js";
import { oauthProviderFor, redirectUri } from "./apps.js";
import { checkUserInputs, oauth2Of } from "./provider.js";

/** What the callback needs from the start, sealed in the session row. */
export type SealedFlow = { codeVerifier: string | null; redirectUri: string; userInputs: Record<string, string>; scopes: string[] };

/** What a session's sealed flow is bound to: its organization and row. */
export const flowBinding = (session: { organizationId: string; id: string }) => ({ purpose: "oauth-flow" as const, organizationId: session.organizationId, rowId: session.id });

export async function startHostedConnectionAuthorization(
  services: Services,
  session: HostedConnectionSession,
  input: { connectionName?: string | null; userInputs?: { key: string; value: string }[] | null },
): Promise<{ authorizationUrl: string }> {
  assertOpen(session);
  const entry = chosenIntegration(services, session);
  if (!signsInAtProvider(entry)) throw badInput(`${entry.name} does not connect through an OAuth2 authorization: submit its credentials instead`);
  const connectionName = parseInput(connectionNameSchema, input.connectionName, "Invalid connection name", "connectionName");

  const def = oauth2Of(entry);
  const userInputs = checkUserInputs(entry, input.userInputs ?? []);
  const { client: credentials, provider } = await oauthProviderFor(services, session.organizationId, entry, userInputs);

  const state = randomSecret(32);
  const codeVerifier = def.pkce ? oauth.generateRandomCodeVerifier() : null;
  const flow: SealedFlow = { codeVerifier, redirectUri: redirectUri(services), userInputs, scopes: credentials.scopes };
  const sealed = services.vault.seal(flow, flowBinding(session));

  const url = new URL(provider.authorizationUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", credentials.clientId);
  url.searchParams.set("redirect_uri", flow.redirectUri);
  url.searchParams.set("state", state);
  if (credentials.scopes.length) url.searchParams.set(def.scopeParam, credentials.scopes.join(def.scopeSeparator));
  if (codeVerifier) {
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
  }
  for (const [k, v] of Object.entries(def.authorizationParams)) url.searchParams.set(k, v);

  // Starting again (the user came back and retried) replaces the previous state: only the newest
  // authorization can complete.
  const moved = await transitionSession(services.prisma, session.id, ["PENDING", "AUTHORIZING"], "AUTHORIZING", {
    oauthStateHash: sha256Hex(state),
    oauthFlowEnc: sealed.ciphertext,
    oauthFlowKeyId: sealed.keyId,
    connectionName: connectionName ?? null,
  });
  if (!moved) assertOpen(await services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } }));
  services.events.publish(session.id, moved ?? undefined);
  services.logger.info({ sessionId: session.id, integration: entry.slug }, "OAuth2 authorization started");
  return { authorizationUrl: url.toString() };
}
