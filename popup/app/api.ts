// The popup's GraphQL calls: same origin, the session token as the bearer credential. The
// operations and the shapes they return are generated from popup/operations/*.graphql.
import type { CredentialValueInput, HostedConnectionSessionStatus, ReadSessionQuery, TypedOperation } from "../generated/operations.js";

export type SessionStatus = HostedConnectionSessionStatus;
/** The session as the popup reads it (readSession): what its screens show. */
export type Session = ReadSessionQuery["hostedConnectionSession"];
/** The integration being connected, once chosen (a picker session starts without one). */
export type Integration = NonNullable<Session["integration"]>;
/** A session whose integration is chosen: what the connect form shows. */
export type ChosenSession = Session & { integration: Integration };
export type CredentialField = Integration["credentialFields"][number];
export type KeyValue = CredentialValueInput;
export type FieldError = { field: string; message: string };

export const TERMINAL: readonly SessionStatus[] = ["CONNECTED", "FAILED", "CANCELLED", "EXPIRED"];

/** The server answered with an error (a GraphQL error with a stable code). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fieldErrors: FieldError[] = [],
    readonly status?: SessionStatus,
  ) {
    super(message);
  }
}

/** The server could not be reached, or did not answer as a GraphQL server. */
export class NetworkError extends Error {}

const TIMEOUT_MS = 20_000;

/** `pageId` names this load of the popup to the server, so that a reload keeps the session (see close-beacon.ts). */
export function createApi(token: string, pageId: string) {
  /** Runs one operation; its variables are required when the operation declares any. */
  return async function request<TResult, TVariables>(operation: TypedOperation<TResult, TVariables>, ...[variables]: {} extends TVariables ? [TVariables?] : [TVariables]): Promise<TResult> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let body: { data?: TResult | null; errors?: { message?: string; extensions?: Record<string, any> }[] };
    try {
      // Relative: the popup may be served under a path prefix.
      const response = await fetch("graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json",
          authorization: `Bearer ${token}`,
          "x-one-runtime-popup-page": pageId,
        },
        body: JSON.stringify({ query: operation, variables }),
        credentials: "omit",
        cache: "no-store",
        signal: controller.signal,
      });
      body = await response.json();
    } catch {
      throw new NetworkError("One Runtime could not be reached");
    } finally {
      clearTimeout(timer);
    }
    const error = body?.errors?.[0];
    if (error) {
      const ext = error.extensions ?? {};
      throw new ApiError(String(ext.code ?? "INTERNAL_SERVER_ERROR"), error.message ?? "Something went wrong", Array.isArray(ext.fieldErrors) ? ext.fieldErrors : [], ext.status);
    }
    if (!body?.data) throw new NetworkError("One Runtime sent an unexpected answer");
    return body.data;
  };
}

export type Api = ReturnType<typeof createApi>;
