// The zod pieces every input check shares, and the one way a zod failure becomes the field errors
// a client (the popup, a backend) shows next to its inputs.
import { z } from "zod";
import { badInput, type FieldError } from "./errors.js";

const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

/** A trimmed, non-empty, single-line text of at most `max` characters. */
export const printable = (max: number) => z.string().trim().min(1).max(max).regex(NO_CONTROL_CHARACTERS, "no control characters");

/** The name the end user may give a connection in the popup; empty means "use the default". */
export const connectionNameSchema = z.string().trim().max(100).regex(NO_CONTROL_CHARACTERS, "no control characters").nullish();

export function fieldErrorsOf(error: z.ZodError, field?: string): FieldError[] {
  return error.issues.map((i) => ({ field: field ?? (i.path.join(".") || "input"), message: i.message }));
}

/** Parses `raw` or throws BAD_USER_INPUT with one field error per problem. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown, message: string, field?: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badInput(message, fieldErrorsOf(parsed.error, field));
  return parsed.data;
}
