// The one error type for expected failures. Its code becomes `extensions.code`, a stable part of
// the public contract; anything thrown that is not a OneRuntimeError is masked by yoga.
import { GraphQLError } from "graphql";

export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "INTEGRATION_NOT_CONFIGURED"
  | "SESSION_EXPIRED"
  | "SESSION_COMPLETED"
  | "CONFLICT"
  | "NEEDS_REAUTH"
  | "PROVIDER_ERROR"
  | "RATE_LIMITED";

export type FieldError = { field: string; message: string };

const httpStatus: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
};

export class OneRuntimeError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, extra?: { fieldErrors?: FieldError[] | undefined; details?: Record<string, unknown> }) {
    const status = httpStatus[code];
    super(message, {
      extensions: {
        code,
        ...(extra?.fieldErrors?.length ? { fieldErrors: extra.fieldErrors } : {}),
        ...extra?.details,
        ...(status ? { http: { status, ...(status === 401 ? { headers: { "WWW-Authenticate": 'Bearer realm="one-runtime"' } } : {}) } } : {}),
      },
    });
    this.code = code;
  }
}

export const badInput = (message: string, fieldErrors?: FieldError[]) => new OneRuntimeError("BAD_USER_INPUT", message, { fieldErrors });
export const notFound = (what: string) => new OneRuntimeError("NOT_FOUND", `${what} not found`);
