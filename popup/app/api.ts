// The popup's GraphQL calls: same origin, the session token as the bearer credential, and the
// few operations the popup needs with the shapes it reads (hand-typed from schema.graphql).

export type SessionStatus = "PENDING" | "AUTHORIZING" | "CONNECTED" | "FAILED" | "CANCELLED" | "EXPIRED";
export type AuthType = "API_KEY" | "BASIC" | "NONE" | "OAUTH2";

export type CredentialField = {
  key: string;
  label: string;
  secret: boolean;
  optional: boolean;
  placeholder: string | null;
  pattern: string | null;
  helpText: string | null;
  helpUrl: string | null;
  defaultValue: string | null;
  options: { value: string; label: string }[] | null;
};

export type Session = {
  id: string;
  status: SessionStatus;
  expiresAt: string;
  integration: {
    slug: string;
    name: string;
    logoUrl: string;
    authType: AuthType;
    description: string;
    docsUrl: string;
    credentialFields: CredentialField[];
  };
  endUser: { id: string; name: string | null; email: string | null };
  suggestedConnectionName: string | null;
  connectionId: string | null;
  connectionName: string | null;
  error: { code: string; message: string } | null;
};

export type KeyValue = { key: string; value: string };
export type FieldError = { field: string; message: string };

export const TERMINAL: readonly SessionStatus[] = ["CONNECTED", "FAILED", "CANCELLED", "EXPIRED"];

export const READ_SESSION = `query {
  hostedConnectionSession {
    id status expiresAt
    integration {
      slug name logoUrl authType description docsUrl
      credentialFields { key label secret optional placeholder pattern helpText helpUrl defaultValue options { value label } }
    }
    endUser { id name email }
    suggestedConnectionName connectionId connectionName error { code message }
  }
}`;

export const COMPLETE_SESSION = `mutation($input: CompleteHostedConnectionSessionInput!) {
  completeHostedConnectionSession(input: $input) { id status connectionId connectionName error { code message } }
}`;

export const CANCEL_SESSION = `mutation { cancelHostedConnectionSession { id status error { code message } } }`;

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

export function createApi(token: string) {
  return async function request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let body: { data?: T | null; errors?: { message?: string; extensions?: Record<string, any> }[] };
    try {
      // Relative: the popup may be served under a path prefix.
      const response = await fetch("graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
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
