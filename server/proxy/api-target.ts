// Where a connection's API calls go and how its credential rides along, from the catalog entry's
// `api` object alone: the base URL filled from the end user's inputs or the connection's metadata,
// a path that can never leave that base URL, and the credential as a header or query parameter.
import type { ApiDefinition, IntegrationEntry } from "../catalog/entry-schema.js";
import type { StoredCredentials } from "../connections/credentials.js";
import { ServiceError } from "../errors.js";

/** A value pasted into a URL after its origin: one path segment or host label, nothing that moves it. */
const URL_SAFE_VALUE = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,252}$/;
/** What a raw path may hold before decoding: RFC 3986 path characters and percent escapes. */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const CONTROL = /[\x00-\x1f\x7f]/;

export function apiOf(entry: IntegrationEntry): ApiDefinition {
  if (!entry.api) throw new ServiceError("PROXY_NOT_SUPPORTED", `${entry.name} has no API base URL in the catalog, so it cannot be called through the proxy`);
  return entry.api;
}

export type TargetValues = {
  /** Ours, for the sandbox entry (defined in code). */
  publicUrl: string;
  /** The end user's non-secret values: OAuth2 user inputs, or non-secret credential fields. */
  inputs: Record<string, string>;
  metadata: Record<string, unknown>;
};

/** The values a base URL may use for this connection: never a secret field. */
export function targetValues(entry: IntegrationEntry, stored: StoredCredentials, metadata: unknown, publicUrl: string): TargetValues {
  const inputs: Record<string, string> = {};
  if (stored.type === "OAUTH2") Object.assign(inputs, stored.userInputs);
  if (stored.type === "API_KEY" || stored.type === "BASIC") {
    for (const field of entry.credentialFields) if (!field.secret && stored.values[field.key] !== undefined) inputs[field.key] = stored.values[field.key]!;
  }
  return { publicUrl, inputs, metadata: metadata && typeof metadata === "object" ? (metadata as Record<string, unknown>) : {} };
}

function valueOf(key: string, values: TargetValues): string | undefined {
  if (key === "publicUrl") return values.publicUrl;
  if (key.startsWith("metadata.")) {
    const v = values.metadata[key.slice("metadata.".length)];
    return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
  }
  return values.inputs[key];
}

/** A value placed at the start of a template must be an origin (Salesforce's instance_url). */
function originOf(value: string): string | undefined {
  try {
    const u = new URL(value);
    const bare = !u.username && !u.password && (u.pathname === "/" || u.pathname === "") && !u.search && !u.hash;
    return bare && /^https?:$/.test(u.protocol) ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The connection's API base URL, its placeholders filled; refused when a value is missing or could move it. */
export function apiBaseUrl(api: ApiDefinition, values: TargetValues): URL {
  const missing = (key: string, why: string) => new ServiceError("PROXY_NOT_SUPPORTED", `This connection's {${key}} ${why}, so its API base URL cannot be built`);
  const filled = api.baseUrl.replace(/\{([^}]*)\}/g, (_, key: string, offset: number) => {
    const value = valueOf(key, values);
    if (value === undefined) throw missing(key, "is not set");
    if (key === "publicUrl") return value; // ours, trusted as configured
    if (offset === 0) {
      const origin = originOf(value);
      if (!origin) throw missing(key, "is not an http(s) origin");
      return origin;
    }
    if (!URL_SAFE_VALUE.test(value)) throw missing(key, "holds characters a URL part cannot take");
    return value;
  });
  const url = new URL(filled);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

const refuse = (why: string) => new ServiceError("PATH_REFUSED", `The path was refused: ${why}`);

/**
 * `path` (raw, percent-encoded, relative to the base URL) and `query` (raw, without `?`) joined to
 * the base URL. Refused: dot segments, empty segments (`//host`), encoded slashes or backslashes,
 * control characters, a host-like first segment (`@`, a scheme); and, as the last word, any
 * result whose origin or path prefix is not the base URL's.
 */
export function targetUrl(base: URL, path: string, query = ""): URL {
  const relative = path.replace(/^\//, "");
  if (!PATH_CHARS.test(relative)) throw refuse("it holds characters outside a URL path (a backslash, a space, a control character)");
  const segments = relative === "" ? [] : relative.split("/");
  segments.forEach((segment, i) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw refuse("a malformed percent escape");
    }
    if (segment === "" && i < segments.length - 1) throw refuse("an empty segment (//)");
    if (decoded === "." || decoded === "..") throw refuse("a dot segment (. or ..)");
    if (/[/\\]/.test(decoded) || CONTROL.test(decoded)) throw refuse("an encoded slash, backslash or control character");
    if (i === 0 && (decoded.includes("@") || /^[a-z][a-z0-9+.-]*:/i.test(decoded))) throw refuse("the first segment looks like a host or a scheme");
  });
  if (CONTROL.test(query) || /[\s#]/.test(query)) throw refuse("the query holds a space, a fragment or a control character");
  const url = new URL(base.href);
  url.pathname = base.pathname + relative;
  url.search = query;
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) throw refuse("it leaves the API base URL");
  return url;
}

export type CredentialPlacement = { header?: [name: string, value: string]; query?: [name: string, value: string] };

/** The entry's placement, or the default for its auth type. */
function authOf(entry: IntegrationEntry, api: ApiDefinition): ApiDefinition["auth"] | undefined {
  if (api.auth) return api.auth;
  switch (entry.authType) {
    case "OAUTH2":
      return { type: "bearer", token: "{accessToken}" };
    case "API_KEY":
      return { type: "bearer", token: `{${entry.credentialFields.find((f) => f.secret)!.key}}` };
    case "BASIC":
      return { type: "basic", username: "{username}", password: "{password}" };
    default:
      return undefined;
  }
}

/** Where the connection's credential goes on each request, filled from its opened values. */
export function credentialPlacement(entry: IntegrationEntry, api: ApiDefinition, stored: StoredCredentials): CredentialPlacement {
  const auth = authOf(entry, api);
  if (!auth || stored.type === "NONE") return {};
  const values: Record<string, string> = stored.type === "OAUTH2" ? { accessToken: stored.tokens.accessToken } : stored.values;
  const fill = (template: string) => template.replace(/\{([^}]*)\}/g, (_, key: string) => values[key] ?? "");
  const header = (name: string, value: string): CredentialPlacement => {
    // Credential values may hold line breaks (the popup takes them): never into a header.
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw new ServiceError("PROXY_NOT_SUPPORTED", "This connection's credential cannot be sent in an HTTP header");
    return { header: [name.toLowerCase(), value] };
  };
  switch (auth.type) {
    case "bearer":
      return header("authorization", `Bearer ${fill(auth.token)}`);
    case "basic":
      return header("authorization", `Basic ${Buffer.from(`${fill(auth.username)}:${fill(auth.password)}`).toString("base64")}`);
    case "header":
      return header(auth.name, fill(auth.value));
    case "query":
      return { query: [auth.name, fill(auth.value)] };
  }
}
