// Structured JSON logs (pino), with the one redaction every log line goes through, whoever writes
// it (our code, yoga, a library's error): values under secret-sounding keys are censored, errors
// are reduced to their type, code, message and frames (never a database driver's message, which
// quotes the values it was given), and known secret shapes are scrubbed from every string,
// messages included. Nothing secret is passed in on purpose; this is the second line of defence.
import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

const CENSORED = "[redacted]";

/**
 * Keys whose values are never logged, at any depth: credentials, tokens, and whatever carries a
 * request's input (variables, bodies, headers), which may hold any of them.
 */
const SECRET_KEY =
  /^(authorization|cookie|set-cookie|key|value|values|variables|body|headers|user_?inputs|code_?verifier|assertion|state)$|(token|tokens|secret|password|passwd|passphrase|api_?key|credentials?)$/i;

/** Shapes of secrets, scrubbed from every string that reaches a log line. */
const SECRET_SHAPES: [RegExp, string | ((match: string) => string)][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, "[redacted private key]"],
  [/\bort_(live|test|sess)_[A-Za-z0-9_-]+/g, "ort_$1_[redacted]"],
  [/\b(Bearer|Basic)\s+[^\s"',;]+/gi, "$1 [redacted]"],
  [/\b(sk|rk|pk)([-_])(live_|test_|proj-)?[A-Za-z0-9_-]{8,}/g, "$1$2[redacted]"],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, "[redacted jwt]"],
  [/\b(gh[pousr]_|github_pat_|xox[abposr]-|glpat-|AKIA)[A-Za-z0-9_-]{8,}/g, "$1[redacted]"],
  // user:password@ in a URL (a database or broker URL in a connection error)
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, "$1[redacted]@"],
  // secret-looking query parameters, and key=value or "key": "value" pairs
  [/([?&](?:code|state|token|access_token|refresh_token|id_token|client_secret|code_verifier|api_?key|password)=)[^&\s"'#]+/gi, "$1[redacted]"],
  [/((?:secret|password|passwd|token|api_?key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}&]+/gi, "$1[redacted]"],
  // long random-looking runs (both cases and digits): any provider's opaque tokens, ciphertexts
  [/[A-Za-z0-9_-]{32,}/g, (run) => (/[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run) ? CENSORED : run)],
];

const MAX_STRING = 2_000;

/** Removes known secret shapes from a text (messages, stacks, any string logged). */
export function scrubSecrets(text: string): string {
  let out = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement as string);
  return out;
}

/** A database driver's error: its message quotes the values it was given, so only its code is kept. */
function isDatabaseError(e: Error): boolean {
  const fields = e as Error & { severity?: unknown; routine?: unknown; clientVersion?: unknown };
  return /^Prisma/.test(e.name) || /^Prisma/.test(e.constructor?.name ?? "") || typeof fields.clientVersion === "string" || (typeof fields.severity === "string" && "routine" in fields);
}

function codeOf(e: object): string | number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" || typeof code === "number" ? code : undefined;
}

/** Where it happened: the stack's frames only (its first lines repeat the message). */
const framesOf = (e: Error) =>
  e.stack
    ?.split("\n")
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 15)
    .map((l) => scrubSecrets(l.trim()));

/** What of an error may be logged: type, code, message (scrubbed) and frames, and its cause's. */
export function describeError(e: unknown, depth = 0): Record<string, unknown> {
  if (!(e instanceof Error)) return { type: e === null ? "null" : typeof e };
  const type = e.constructor?.name && e.constructor.name !== "Error" ? e.constructor.name : e.name;
  const out: Record<string, unknown> = { type, code: codeOf(e) };
  if (isDatabaseError(e)) {
    // Prisma renders the call's arguments into its message and PostgreSQL quotes bad input; the
    // driver's own code (e.g. 22021) says what failed.
    const cause = (e as { meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } }).meta?.driverAdapterError?.cause;
    if (cause) out.cause = { kind: String(cause.kind ?? ""), code: cause.originalCode === undefined ? undefined : String(cause.originalCode) };
  } else {
    out.message = scrubSecrets(e.message);
    const original = (e as { originalError?: unknown }).originalError ?? e.cause;
    if (original instanceof Error && depth < 2) out.cause = describeError(original, depth + 1);
  }
  out.stack = framesOf(e);
  return out;
}

const MAX_DEPTH = 6;
const MAX_ITEMS = 50;

/** The one redaction: what a log line may hold of any value handed to the logger. */
export function redactForLog(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (value === null || typeof value !== "object") return typeof value === "function" || typeof value === "symbol" ? undefined : value;
  if (value instanceof Error) return describeError(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (depth >= MAX_DEPTH) return "[nested too deep]";
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => redactForLog(v, depth + 1));
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (n++ >= MAX_ITEMS) break;
    out[k] = SECRET_KEY.test(k) ? CENSORED : redactForLog(v, depth + 1);
  }
  return out;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "one-runtime" },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        // Every call, whatever its arguments: an error alone becomes `{ err }`, objects are
        // redacted, strings (the message and its interpolations) scrubbed.
        logMethod(args, method) {
          const safe = (args as unknown[]).map((a, i) => (i === 0 && a instanceof Error ? { err: describeError(a) } : redactForLog(a)));
          return method.apply(this, safe as Parameters<typeof method>);
        },
      },
    },
    // stdout written asynchronously: lines logged while a write is in flight go out together in
    // the next one, so a request's log line never waits for the pipe (pino flushes it on exit).
    (destination ?? pino.destination({ dest: 1, sync: false })) as pino.DestinationStream,
  );
}
