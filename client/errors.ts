// The one error every client method rejects with: the server's `extensions.code` and field
// errors when the server answered, a transport code of our own when it did not.
import { ClientError } from "graphql-request";
import type { ErrorCode } from "./generated/enums.js";

/**
 * The codes One Runtime puts in `extensions.code`: the schema's `ErrorCode` enum, generated from
 * schema.graphql (expected failures, refused queries, and `INTERNAL_SERVER_ERROR` for a masked one).
 */
export type ServerErrorCode = ErrorCode;

/** Codes the client sets when there is no GraphQL error to read. */
export type TransportErrorCode =
  /** The request never got a response (refused, reset, DNS, ...). */
  | "NETWORK_ERROR"
  /** No response within `timeoutMs`. */
  | "TIMEOUT"
  /** Your `signal` aborted the call. */
  | "ABORTED"
  /** A response that is not GraphQL (a proxy's 502 page, ...); see `status`. */
  | "HTTP_ERROR";

/**
 * Open-ended: a code the server adds later passes through as is, and a GraphQL error without a
 * code (not from One Runtime, e.g. a proxy's) reads `GRAPHQL_ERROR`.
 */
export type OneRuntimeErrorCode = ServerErrorCode | TransportErrorCode | (string & {});

export type FieldError = { field: string; message: string };

/** One entry of the response's `errors`, as the server sent it. */
export type GraphQLErrorBody = {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
};

export class OneRuntimeError extends Error {
  override readonly name = "OneRuntimeError";
  /** The server's `extensions.code`, or a transport code (`NETWORK_ERROR`, `TIMEOUT`, ...). */
  readonly code: OneRuntimeErrorCode;
  /** For `BAD_USER_INPUT`: which input field is wrong and why; empty otherwise. */
  readonly fieldErrors: FieldError[];
  /** The HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** The server's `x-request-id`: quote it when you contact support; it is in the server's logs. */
  readonly requestId: string | undefined;
  /** The client method (operation) that failed. */
  readonly operation: string;
  /** Every GraphQL error in the response (usually one). */
  readonly errors: GraphQLErrorBody[];
  /** The response's `Retry-After`, in seconds, when it had one (429, 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    code: OneRuntimeErrorCode;
    message: string;
    operation: string;
    fieldErrors?: FieldError[];
    status?: number | undefined;
    requestId?: string | undefined;
    errors?: GraphQLErrorBody[];
    retryAfterSeconds?: number | undefined;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.operation = init.operation;
    this.fieldErrors = init.fieldErrors ?? [];
    this.status = init.status;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

const isFieldError = (v: unknown): v is FieldError =>
  typeof v === "object" && v !== null && typeof (v as FieldError).field === "string" && typeof (v as FieldError).message === "string";

/**
 * Maps whatever a request threw to a OneRuntimeError; `signal` is the caller's, to tell their
 * abort from our timeout. graphql-request's ClientError is not kept
 * as `cause`: its message embeds the request's variables, which may hold secrets.
 */
export function toOneRuntimeError(error: unknown, operation: string, signal?: AbortSignal): OneRuntimeError {
  if (error instanceof OneRuntimeError) return error;
  if (signal?.aborted) return new OneRuntimeError({ code: "ABORTED", message: `${operation} was aborted`, operation, cause: signal.reason });
  if (error instanceof ClientError) {
    const { status, headers } = error.response;
    const header = (name: string) => (headers as Headers | undefined)?.get?.(name) ?? undefined;
    const requestId = header("x-request-id");
    const retryAfter = header("retry-after");
    const retryAfterSeconds = retryAfter !== undefined && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
    const errors = (error.response.errors ?? []) as GraphQLErrorBody[];
    const first = errors[0];
    if (first) {
      const code = typeof first.extensions?.code === "string" ? first.extensions.code : status >= 500 ? "INTERNAL_SERVER_ERROR" : "GRAPHQL_ERROR";
      const raw = first.extensions?.fieldErrors;
      const fieldErrors = Array.isArray(raw) ? raw.filter(isFieldError).map(({ field, message }) => ({ field, message })) : [];
      return new OneRuntimeError({ code, message: first.message, operation, fieldErrors, status, requestId, errors, retryAfterSeconds });
    }
    const code = status === 401 ? "UNAUTHENTICATED" : status === 429 ? "RATE_LIMITED" : "HTTP_ERROR";
    return new OneRuntimeError({ code, message: `One Runtime answered HTTP ${status} without a GraphQL response`, operation, status, requestId, retryAfterSeconds });
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError") {
    return new OneRuntimeError({ code: "TIMEOUT", message: `No response from One Runtime in time (${operation})`, operation, cause: error });
  }
  const detail = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}` : String(error);
  return new OneRuntimeError({ code: "NETWORK_ERROR", message: `Could not reach One Runtime (${detail})`, operation, cause: error });
}
