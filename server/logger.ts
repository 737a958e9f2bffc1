// Structured JSON logs (pino). Nothing secret is ever passed in; the redaction list is a second
// line of defence for fields whose names say they hold one.
import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

const SECRET_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "*.password",
  "*.apiKey",
  "*.key",
  "*.token",
  "*.sessionToken",
  "*.accessToken",
  "*.refreshToken",
  "*.clientSecret",
  "*.oauthClientSecret",
  "*.code_verifier",
  "*.values",
  "*.credentials",
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "one-runtime" },
      redact: { paths: SECRET_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (destination ?? process.stdout) as pino.DestinationStream,
  );
}
