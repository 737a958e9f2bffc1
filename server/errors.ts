// The one error type for expected failures. Its code becomes `extensions.code`, a stable part of
// the public contract; anything thrown that is not a ServiceError is masked by yoga.
import { GraphQLError } from "graphql";

/**
 * Every code a client may find in `extensions.code`, declared once: the schema publishes them as
 * `enum ErrorCode` (server/schema/errors.ts), and the client's code union is generated from that.
 * `thrown` codes are the expected failures a ServiceError carries; the others the server sets
 * itself, on requests it refuses before any resolver runs and on masked failures.
 */
export const ERROR_CODES = [
  { code: "UNAUTHENTICATED", thrown: true, description: "No valid credential: the API key or session token is missing, malformed, unknown or revoked (HTTP 401)." },
  { code: "FORBIDDEN", thrown: true, description: "The credential is valid but not for this operation (e.g. a session token where an API key is needed)." },
  { code: "NOT_FOUND", thrown: true, description: "No such object for this caller; another organization's ids are answered the same way." },
  { code: "BAD_USER_INPUT", thrown: true, description: "An input is invalid; `extensions.fieldErrors` lists each `{ field, message }`." },
  { code: "INTEGRATION_NOT_CONFIGURED", thrown: true, description: "The OAuth2 integration has no OAuth app configured for this organization (configureIntegration)." },
  { code: "INTEGRATION_NOT_ALLOWED", thrown: true, description: "The hosted connection session does not offer this integration: it is outside the session's allowed integrations, unknown, or not connectable by the organization." },
  { code: "SESSION_EXPIRED", thrown: true, description: "The hosted connection session has expired." },
  { code: "SESSION_COMPLETED", thrown: true, description: "The hosted connection session has already ended its flow; it can only be read." },
  { code: "CONFLICT", thrown: true, description: "The request conflicts with the current state of what it changes." },
  { code: "NEEDS_REAUTH", thrown: true, description: "The provider refused a token refresh: create a session with `connectionId` to re-authorize the connection." },
  { code: "PROVIDER_ERROR", thrown: true, description: "The provider failed or answered something unusable." },
  {
    code: "CREDENTIALS_UNREADABLE",
    thrown: true,
    description:
      "Stored credentials (a connection's, or an OAuth app's client secret) failed their integrity check: altered in the database, or encrypted with a key this server does not have. Nothing is returned and the operator is alerted in the log; re-authorize the connection or configure the OAuth app again.",
  },
  { code: "RATE_LIMITED", thrown: true, description: "Too many requests for this API key, session token or address (HTTP 429 with `Retry-After`, in seconds), or too many subscriptions for one session or operations on one WebSocket (retry once some have ended)." },
  { code: "HEALTH_CHECK_NOT_SUPPORTED", thrown: true, description: "The connection's integration names no health check in the catalog, so checkConnection cannot check it." },
  { code: "PROXY_NOT_SUPPORTED", thrown: true, description: "The connection's integration has no API base URL in the catalog, so it cannot be called through the proxy." },
  { code: "PATH_REFUSED", thrown: true, description: "A proxied request's path could leave the integration's API base URL (`..`, an encoded slash or backslash, an absolute URL, a host in the path, a control character) and was refused." },
  { code: "DESTINATION_BLOCKED", thrown: true, description: "The integration's API address is one the service never calls: private, link-local, metadata, or loopback without the development switch, judged after DNS resolution." },
  { code: "PROVIDER_UNREACHABLE", thrown: true, description: "The provider's API could not be reached (DNS, connection refused or reset, TLS) or broke off its answer." },
  { code: "PROVIDER_TIMEOUT", thrown: true, description: "The provider's API did not answer (or stalled mid-answer) within the proxy's timeout." },
  { code: "QUERY_TOO_DEEP", thrown: false, description: "The document nests fields deeper than the server allows." },
  { code: "TOO_MANY_ALIASES", thrown: false, description: "The document uses more aliases than the server allows." },
  { code: "TOO_MANY_TOKENS", thrown: false, description: "The document is longer, in tokens, than the server allows." },
  { code: "TOO_MANY_DIRECTIVES", thrown: false, description: "The document uses more directives than the server allows." },
  { code: "QUERY_TOO_COSTLY", thrown: false, description: "The document's estimated cost is over the server's limit." },
  { code: "PAYLOAD_TOO_LARGE", thrown: false, description: "The request body is over the server's size limit (HTTP 413)." },
  { code: "BAD_REQUEST", thrown: false, description: "The HTTP request is not a GraphQL request the server takes: a body that is not JSON, a missing or non-string `query`, `variables` that are not an object, a method other than GET and POST (HTTP 405), a POST that is not `application/json` (HTTP 415)." },
  { code: "GRAPHQL_PARSE_FAILED", thrown: false, description: "The document is not valid GraphQL syntax." },
  { code: "GRAPHQL_VALIDATION_FAILED", thrown: false, description: "The document does not validate against the schema (e.g. an unknown field or a missing argument)." },
  { code: "INTERNAL_SERVER_ERROR", thrown: false, description: "An unexpected failure, masked: quote the response's `x-request-id`, with which it was logged." },
] as const;

/** Any code the server reports. */
export type ErrorCode = (typeof ERROR_CODES)[number]["code"];
/**
 * The codes of expected failures, the only ones a ServiceError may carry: a limit or protocol
 * code thrown from a resolver would misreport the request, and INTERNAL_SERVER_ERROR must come
 * from masking, which logs.
 */
export type FailureCode = Extract<(typeof ERROR_CODES)[number], { thrown: true }>["code"];

export type FieldError = { field: string; message: string };

const httpStatus: Partial<Record<FailureCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
};

export class ServiceError extends GraphQLError {
  readonly code: FailureCode;
  constructor(
    code: FailureCode,
    message: string,
    extra?: { fieldErrors?: FieldError[] | undefined; details?: Record<string, unknown>; retryAfterSeconds?: number },
  ) {
    const status = httpStatus[code];
    const headers: Record<string, string> = {};
    if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="one-runtime"';
    if (extra?.retryAfterSeconds !== undefined) headers["Retry-After"] = String(extra.retryAfterSeconds);
    super(message, {
      extensions: {
        code,
        ...(extra?.fieldErrors?.length ? { fieldErrors: extra.fieldErrors } : {}),
        ...extra?.details,
        ...(status ? { http: { status, ...(Object.keys(headers).length ? { headers } : {}) } } : {}),
      },
    });
    this.code = code;
  }
}

export const badInput = (message: string, fieldErrors?: FieldError[]) => new ServiceError("BAD_USER_INPUT", message, { fieldErrors });
export const notFound = (what: string) => new ServiceError("NOT_FOUND", `${what} not found`);
