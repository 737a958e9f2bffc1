// When a failed call is tried again: only reads (queries, which change nothing), only for
// failures that another attempt can fix, a bounded number of times with exponential backoff.
import type { OneRuntimeError } from "./errors.js";

export type RetryPolicy = {
  /** Further attempts after the first, for queries only. */
  retries: number;
  /** The first backoff; each next one doubles, plus up to 50% jitter, capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 2, baseDelayMs: 250, maxDelayMs: 5_000 };

/** Failures a second attempt can fix: no response, a timeout, a 5xx, or being rate limited. */
export function isTransient(error: OneRuntimeError): boolean {
  if (error.code === "NETWORK_ERROR" || error.code === "TIMEOUT" || error.code === "RATE_LIMITED") return true;
  return error.status !== undefined && (error.status >= 500 || error.status === 429);
}

export function backoffMs(policy: RetryPolicy, attempt: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
    return Math.min(retryAfterSeconds * 1000, policy.maxDelayMs);
  }
  const exponential = policy.baseDelayMs * 2 ** attempt;
  return Math.min(exponential + Math.random() * exponential * 0.5, policy.maxDelayMs);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
