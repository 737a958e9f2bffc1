// How we talk to one provider's OAuth2 endpoints, from its catalog entry alone: URL templates
// filled with the end user's checked inputs, client authentication, PKCE, body format, and
// outbound limits (timeout, response size). Every quirk is data in the entry, not a branch here.
import { createHmac, timingSafeEqual } from "node:crypto";
import * as oauth from "oauth4webapi";
import { isLoopbackHttp, type IntegrationEntry, type OAuth2Definition } from "../catalog/entry-schema.js";
import { badInput, type FieldError } from "../errors.js";

export const TOKEN_REQUEST_TIMEOUT_MS = 10_000;
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Values pasted into provider URLs must be a DNS label on top of the entry's own pattern. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export type OAuthClientCredentials = { clientId: string; clientSecret: string; scopes: string[] };

export function oauth2Of(entry: IntegrationEntry): OAuth2Definition {
  if (!entry.oauth2) throw new Error(`${entry.slug} is not an OAuth2 integration`);
  return entry.oauth2;
}

/** Checks the end user's pre-authorization values (a subdomain, a shop) strictly. */
export function checkUserInputs(entry: IntegrationEntry, submitted: { key: string; value: string }[]): Record<string, string> {
  const defs = oauth2Of(entry).userInputs;
  const values: Record<string, string> = {};
  const errors: FieldError[] = [];
  for (const { key, value } of submitted) {
    if (!defs.some((d) => d.key === key)) errors.push({ field: key, message: "Unknown field" });
    else values[key] = value.trim().toLowerCase();
  }
  for (const d of defs) {
    const v = values[d.key];
    if (!v) errors.push({ field: d.key, message: `${d.label} is required` });
    else if (d.options) {
      if (!d.options.some((o) => o.value === v)) errors.push({ field: d.key, message: `Choose one of: ${d.options.map((o) => o.label).join(", ")}` });
    } else if (!DNS_LABEL.test(v) || !new RegExp(`^(?:${d.pattern})$`, "u").test(v)) {
      errors.push({ field: d.key, message: `${d.label} doesn't look right${d.placeholder ? ` (expected something like ${d.placeholder})` : ""}` });
    }
  }
  if (errors.length) throw badInput("Some values need fixing", errors);
  return values;
}

export type ProviderContext = { publicUrl: string; userInputs: Record<string, string> };

/** Fills `{key}` placeholders; `{publicUrl}` is ours (the sandbox), the rest the user's checked inputs. */
export function fillUrl(template: string, ctx: ProviderContext): string {
  return template.replace(/\{([a-zA-Z0-9_]+)\}/g, (_, key: string) => {
    const value = key === "publicUrl" ? ctx.publicUrl : ctx.userInputs[key];
    if (value === undefined) throw new Error(`no value for {${key}}`);
    return key === "publicUrl" ? value : encodeURIComponent(value);
  });
}

export type Provider = {
  as: oauth.AuthorizationServer;
  /** The same server with the refresh endpoint as its token endpoint (the entry's refreshUrl, else tokenUrl). */
  refreshAs: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  authorizationUrl: string;
  /** Options for a request to the token endpoints (`token`) or the revocation endpoint. */
  requestOptions: (kind?: "token" | "revocation") => oauth.TokenEndpointRequestOptions;
};

/**
 * For oauth4webapi's response processing: any `token_type` is accepted (Slack's is `bot`); the
 * type is stored and reported, never used to decide how the token is sent here.
 */
export const processOptions = {
  recognizedTokenTypes: new Proxy({} as Record<string, () => void>, { get: () => () => {} }),
};

/** The value at a dot-separated path of a JSON object, when it is an object. */
function objectAt(json: Record<string, unknown>, path: string): Record<string, unknown> | undefined {
  let at: unknown = json;
  for (const key of path.split(".")) at = at && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined;
  return at && typeof at === "object" && !Array.isArray(at) ? (at as Record<string, unknown>) : undefined;
}

/**
 * A provider's JSON answer as oauth4webapi expects RFC 6749's: an error flagged in a 200
 * (successField) becomes a 400 with that error, a token response nested under a key is lifted
 * out, a missing `token_type` is `bearer`, and an unrequested ID token is dropped. Undefined
 * when nothing changes.
 */
function normalizedAnswer(def: OAuth2Definition, status: number, json: Record<string, unknown>): { status: number; json: Record<string, unknown> } | undefined {
  if (def.successField && json[def.successField] === false) {
    const error = typeof json.error === "string" && json.error ? json.error : "provider_error";
    return { status: 400, json: { error, error_description: `The provider answered ${error}` } };
  }
  let out = json;
  let changed = false;
  if (def.tokenResponsePath && status < 300) {
    const nested = objectAt(json, def.tokenResponsePath);
    if (nested) {
      out = { ...nested };
      changed = true;
    }
  }
  if (status < 300 && typeof out.access_token === "string" && out.token_type === undefined) {
    out = { ...out, token_type: "bearer" };
    changed = true;
  }
  // We are an OAuth2 client, not an OpenID Connect relying party: an ID token we did not ask
  // for is dropped, not validated (its audience and signing rules are the provider's OIDC setup).
  if ("id_token" in out) {
    out = { ...out };
    delete out.id_token;
    changed = true;
  }
  return changed ? { status, json: out } : undefined;
}

/** A fetch with a response size cap, the entry's body format, and answers normalized (see above). */
function providerFetch(def: OAuth2Definition, format: "form" | "json"): typeof fetch {
  return async (input, init) => {
    let body = init?.body;
    const requestHeaders = new Headers(init?.headers);
    if (format === "json" && body instanceof URLSearchParams) {
      body = JSON.stringify(Object.fromEntries(body));
      requestHeaders.set("content-type", "application/json");
    }
    const response = await fetch(input, { ...init, headers: requestHeaders, body, redirect: "manual" });
    const declared = Number(response.headers.get("content-length") ?? 0);
    if (declared > MAX_TOKEN_RESPONSE_BYTES) throw new Error("token endpoint response too large");
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const part = await reader?.read();
      if (!part || part.done) break;
      size += part.value.length;
      if (size > MAX_TOKEN_RESPONSE_BYTES) {
        await reader!.cancel();
        throw new Error("token endpoint response too large");
      }
      chunks.push(part.value);
    }
    let out: Buffer = Buffer.concat(chunks);
    let status = response.status;
    if ((response.headers.get("content-type") ?? "").includes("json")) {
      try {
        const json = JSON.parse(out.toString("utf8")) as unknown;
        const normalized = json && typeof json === "object" && !Array.isArray(json) ? normalizedAnswer(def, status, json as Record<string, unknown>) : undefined;
        if (normalized) {
          status = normalized.status;
          out = Buffer.from(JSON.stringify(normalized.json));
        }
      } catch {
        // not JSON after all: oauth4webapi reports it
      }
    }
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    return new Response(new Uint8Array(out), { status, statusText: status === response.status ? response.statusText : "Bad Request", headers });
  };
}

export function providerFor(entry: IntegrationEntry, credentials: OAuthClientCredentials, ctx: ProviderContext): Provider {
  const def = oauth2Of(entry);
  const tokenUrl = fillUrl(def.tokenUrl, ctx);
  const refreshUrl = def.refreshUrl ? fillUrl(def.refreshUrl, ctx) : tokenUrl;
  const revocationUrl = def.revocationUrl ? fillUrl(def.revocationUrl, ctx) : undefined;
  const authorizationUrl = def.authorizationUrl ? fillUrl(def.authorizationUrl, ctx) : "";
  const as: oauth.AuthorizationServer = {
    // Providers here are configured by hand, not discovered: the issuer is the entry's, or the
    // token endpoint's origin, and is only compared with `iss` when the entry names one.
    issuer: def.issuer ?? new URL(tokenUrl).origin,
    authorization_endpoint: authorizationUrl,
    token_endpoint: tokenUrl,
    ...(revocationUrl ? { revocation_endpoint: revocationUrl } : {}),
  };
  const insecure = [tokenUrl, refreshUrl, revocationUrl].some((u) => u && isLoopbackHttp(u));
  return {
    as,
    refreshAs: { ...as, token_endpoint: refreshUrl },
    client: { client_id: credentials.clientId },
    clientAuth: def.tokenEndpointAuthMethod === "client_secret_basic" ? oauth.ClientSecretBasic(credentials.clientSecret) : oauth.ClientSecretPost(credentials.clientSecret),
    authorizationUrl,
    requestOptions: (kind = "token") => ({
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
      [oauth.customFetch]: providerFetch(def, kind === "revocation" ? (def.revocationRequestFormat ?? def.tokenRequestFormat) : def.tokenRequestFormat),
      ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
    }),
  };
}

/** A provider failure as a stable code for the session or connection, never the raw body. */
export function providerErrorCode(error: unknown): { code: string; message: string } {
  if (error instanceof oauth.ResponseBodyError) return { code: error.error, message: error.error_description ?? `The provider answered ${error.error}` };
  if (error instanceof oauth.AuthorizationResponseError) return { code: error.error, message: error.error_description ?? `The provider answered ${error.error}` };
  const e = error as { name?: string; message?: string };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return { code: "token_exchange_timeout", message: "The provider did not answer in time" };
  return { code: "token_exchange_failed", message: "The provider's token endpoint failed" };
}

/**
 * Checks the callback's HMAC when the entry asks for one (Shopify): hex HMAC-SHA256, keyed with
 * the client secret, of the other query parameters sorted by name, form-encoded (`a=1&b=2`).
 */
export function callbackHmacValid(def: OAuth2Definition, url: URL, clientSecret: string): boolean {
  if (!def.callbackHmacParam) return true;
  const given = url.searchParams.get(def.callbackHmacParam) ?? "";
  if (!/^[0-9a-f]{64}$/i.test(given)) return false;
  // Form-encoded again, as Shopify's own libraries do (a base64 `host` keeps its `=` as %3D).
  const message = new URLSearchParams([...url.searchParams].filter(([k]) => k !== def.callbackHmacParam).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))).toString();
  const expected = createHmac("sha256", clientSecret).update(message).digest();
  return timingSafeEqual(expected, Buffer.from(given, "hex"));
}

/** The entry's tokenParams with `{key}` filled from the end user's values; empty ones are left out. */
export function tokenParamsFor(def: OAuth2Definition, values: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, template] of Object.entries(def.tokenParams)) {
    const value = template.replace(/\{([a-zA-Z0-9_]+)\}/g, (_, key: string) => values[key] ?? "");
    if (value) params[name] = value;
  }
  return params;
}

/** When the access token expires: `expires_in` seconds (RFC 6749), or an `expires_at` time some providers send instead. */
function expiryOf(result: oauth.TokenEndpointResponse): string | null {
  if (typeof result.expires_in === "number") return new Date(Date.now() + result.expires_in * 1000).toISOString();
  const at = result.expires_at;
  const time = typeof at === "string" ? Date.parse(at) : typeof at === "number" ? at * 1000 : NaN;
  return Number.isFinite(time) ? new Date(time).toISOString() : null;
}

export type TokenSet = { accessToken: string; refreshToken: string | null; tokenType: string; expiresAt: string | null; scopes: string[] };

export function tokenSetFrom(result: oauth.TokenEndpointResponse, previous: { refreshToken: string | null; scopes: string[] }, def: OAuth2Definition): TokenSet {
  const granted = typeof result.scope === "string" && result.scope ? result.scope.split(/[\s,+]+/).filter(Boolean) : previous.scopes;
  return {
    accessToken: result.access_token,
    // A provider that does not rotate keeps the old refresh token valid: keep it.
    refreshToken: result.refresh_token ?? previous.refreshToken,
    tokenType: result.token_type,
    expiresAt: expiryOf(result),
    scopes: granted.length ? granted : def.defaultScopes,
  };
}
