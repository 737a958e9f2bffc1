// When a proxied request is sent again: opt-in, bounded, on 429 and 503 only, for idempotent
// methods unless the caller says otherwise, after the provider's Retry-After or an exponential
// backoff with full jitter.

export const MAX_RETRIES = 5;
/** A provider asking for a longer wait gets its answer passed back instead: the caller decides. */
export const MAX_RETRY_WAIT_MS = 30_000;
const BASE_DELAY_MS = 200;
const MAX_BACKOFF_MS = 5_000;

export const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

export const isRetryableStatus = (status: number) => status === 429 || status === 503;

/** The wait before retry number `retry` (1-based): Retry-After when given, else full-jitter backoff. */
export function retryDelayMs(retry: number, retryAfter: number | undefined, random = Math.random): number {
  if (retryAfter !== undefined) return retryAfter + Math.floor(random() * Math.min(1_000, retryAfter * 0.1 + 50));
  return Math.floor(random() * Math.min(MAX_BACKOFF_MS, BASE_DELAY_MS * 2 ** (retry - 1)));
}
