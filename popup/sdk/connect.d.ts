// Types of the One Runtime browser SDK, served at <baseUrl>/connect.d.ts.
// Hand-written and checked against the implementation: popup/sdk/index.ts is typed by this file,
// so `npm run typecheck` fails when the two drift apart.

export interface OneRuntimeOptions {
  /** Where One Runtime runs, e.g. "https://connect.example.com" (no trailing path needed). */
  baseUrl: string;
}

export interface OpenOptions {
  /** The token your backend got from `createHostedConnectionSession`. */
  sessionToken: string;
  /** Aborting cancels the session, closes the popup and resolves `cancelled` / `aborted`. */
  signal?: AbortSignal;
}

export interface OpenError {
  /**
   * Why the flow did not connect. From the SDK: `popup_blocked`, `aborted`, `invalid_session`,
   * `network_error`; from the session: `cancelled`, `popup_closed`, `session_expired`, or the
   * provider's reason for a failure (e.g. `access_denied`).
   */
  code: string;
  message: string;
}

/** How the flow ended, as the server saw it. `open()` always settles, exactly once. */
export type OpenResult =
  | {
      status: "connected";
      connectionId: string;
      /** The integration connected: the one the session named, or the one the end user picked. */
      integrationSlug: string;
    }
  | {
      status: "cancelled" | "failed" | "expired";
      error?: OpenError;
      /** The integration picked before the flow ended, when there was one. */
      integrationSlug?: string;
    };

export interface OneRuntime {
  connections: {
    /**
     * Opens the hosted popup for one session and resolves when the flow ends. Call it in the
     * same tick as the user's click (before any `await`), or the browser may block the popup.
     * A second call for the same token focuses the popup and returns the same promise; for
     * another token while one is open it rejects with a `OneRuntimeError` (`already_open`).
     */
    open(options: OpenOptions): Promise<OpenResult>;
  };
}

/** What `open()` rejects with: a misuse, never a flow outcome. */
export interface OneRuntimeError extends Error {
  name: "OneRuntimeError";
  code: "already_open" | "invalid_argument";
}

export declare function createOneRuntime(options: OneRuntimeOptions): OneRuntime;
