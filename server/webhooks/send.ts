// One delivery attempt on the wire: a POST through the egress guard (https only, loopback only
// behind its switch, the address checked after DNS resolution, redirects not followed), with a
// deadline, and the response read up to a cap: enough to show the customer what their server said.
import { egressRequest, EgressTimeout, isDestinationBlocked, readCappedBody, retryAfterMs, type EgressPolicy } from "../egress.js";

/** How much of a response body is read, and kept as the attempt's excerpt. */
export const RESPONSE_EXCERPT_BYTES = 2_048;

export type AttemptOutcome = {
  /** Null when no response came. */
  statusCode: number | null;
  durationMs: number;
  /** Why no response came (or that it was not a 2xx), without secrets. */
  error: string | null;
  responseExcerpt: string | null;
  /** The wait the receiver asked for (Retry-After), in ms. */
  retryAfterMs: number | null;
};

export async function postWebhook(url: string, headers: Record<string, string>, body: string, opts: { policy: EgressPolicy; timeoutMs: number }): Promise<AttemptOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await egressRequest(new URL(url), opts.policy, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "one-runtime-webhooks" },
      body: Buffer.from(body),
      timeoutMs: opts.timeoutMs,
    });
    const excerpt = (await readCappedBody(res, RESPONSE_EXCERPT_BYTES)).text;
    const status = res.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    return {
      statusCode: status,
      durationMs: elapsed(),
      error: ok ? null : `HTTP ${status}`,
      responseExcerpt: excerpt,
      retryAfterMs: status === 429 || status === 503 ? (retryAfterMs(res.headers["retry-after"]) ?? null) : null,
    };
  } catch (error) {
    const reason =
      isDestinationBlocked(error) ? `destination refused: ${(error as Error).message}`
      : error instanceof EgressTimeout ? `timeout: ${error.message}`
      : `request failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    return { statusCode: null, durationMs: elapsed(), error: reason.slice(0, 300), responseExcerpt: null, retryAfterMs: null };
  }
}
