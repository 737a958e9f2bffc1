// connections.open(): one popup, one subscription, one answer. The promise settles exactly once,
// from what the server says (the subscription, or the answer to our own cancel), never from the
// popup's `closed` flag alone: that flag reads true while the popup is on a provider's page that
// sets Cross-Origin-Opener-Policy.
import { CancelSessionDocument, ReadSessionStateDocument, type TypedOperation } from "../generated/operations.js";
import type { OpenOptions, OpenResult } from "./connect.js";
import { watchSession, type GraphQLErrorLike, type SessionState, type SessionStatus } from "./session-watch.js";

export class OneRuntimeError extends Error {
  override name = "OneRuntimeError" as const;
  constructor(
    readonly code: "already_open" | "invalid_argument",
    message: string,
  ) {
    super(message);
  }
}

const POPUP = { name: "one-runtime-connect", width: 450, height: 650 };
export const POLL_MS = 500;
const HTTP_TIMEOUT_MS = 10_000;

type GraphQLResponse<TResult> = { data?: TResult | null; errors?: GraphQLErrorLike[] };

/** One open() in progress: its popup, its promise, and what its handlers share. */
type Flow = {
  token: string;
  popup: Window;
  result: Promise<OpenResult>;
  graphql<TResult>(operation: TypedOperation<TResult, unknown>): Promise<GraphQLResponse<TResult>>;
  /** Settles the promise and stops watching; only the first call counts. */
  finish(outcome: OpenResult): void;
  settled: boolean;
  lastStatus?: SessionStatus;
  /** Set when the page aborts: the cancellation that follows reads as `aborted`. */
  aborting: boolean;
};

/** The flow in progress in this page; there is one popup window, so one flow at a time. */
let inFlight: Flow | undefined;

const failure = (status: "cancelled" | "failed" | "expired", code: string, message: string): OpenResult => ({ status, error: { code, message } });
const aborted = () => failure("cancelled", "aborted", "The connection flow was aborted");

/** The result a session state means, or undefined while the flow is still open. */
function resultOf(session: SessionState): OpenResult | undefined {
  const error = session.error ? { code: session.error.code, message: session.error.message } : undefined;
  const slug = session.integrationSlug ? { integrationSlug: session.integrationSlug } : {};
  switch (session.status) {
    case "CONNECTED":
      return { status: "connected", connectionId: session.connectionId!, integrationSlug: session.integrationSlug! };
    case "CANCELLED":
      return { status: "cancelled", ...(error ? { error } : {}), ...slug };
    case "FAILED":
      return { status: "failed", error: error ?? { code: "failed", message: "The connection failed" }, ...slug };
    case "EXPIRED":
      return { status: "expired", error: error ?? { code: "session_expired", message: "The session expired" }, ...slug };
  }
  return undefined;
}

/** What a refusal of the session token means for the caller. */
function resultOfErrors(errors: GraphQLErrorLike[] | undefined): OpenResult | undefined {
  for (const e of errors ?? []) {
    const message = e.message || "The session cannot be used";
    if (e.extensions?.code === "SESSION_EXPIRED") return failure("expired", "session_expired", message);
    if (e.extensions?.code === "UNAUTHENTICATED") return failure("failed", "invalid_session", message);
  }
  return undefined;
}

function centredFeatures(): string {
  const { width, height } = POPUP;
  const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - width) / 2));
  const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - height) / 2));
  return `popup,width=${width},height=${height},left=${left},top=${top}`;
}

export function openConnection(baseUrl: string, options: OpenOptions): Promise<OpenResult> {
  const token = options?.sessionToken;
  if (typeof token !== "string" || !token) return Promise.reject(new OneRuntimeError("invalid_argument", "open() needs { sessionToken }"));

  if (inFlight) {
    if (inFlight.token !== token) return Promise.reject(new OneRuntimeError("already_open", "A connection popup is already open"));
    try {
      inFlight.popup.focus();
    } catch {
      // a popup on a provider's page may refuse; the flow goes on
    }
    return inFlight.result;
  }
  if (options.signal?.aborted) {
    postGraphQL(baseUrl, token, CancelSessionDocument).catch(() => {});
    return Promise.resolve(aborted());
  }
  // Synchronously, in the tick of the user's click: a popup opened later is blocked.
  let popup: Window | null = null;
  try {
    popup = window.open(`${baseUrl}/connect#${encodeURIComponent(token)}`, POPUP.name, centredFeatures());
  } catch {
    // a sandboxed frame without allow-popups throws instead of returning null
  }
  if (!popup) return Promise.resolve(failure("failed", "popup_blocked", "The browser blocked the connection window; allow popups for this site and try again"));
  inFlight = startFlow(baseUrl, token, popup, options.signal);
  return inFlight.result;
}

/** Watches the session, the popup and the page's signal until one of them settles the flow. */
function startFlow(baseUrl: string, token: string, popup: Window, signal: AbortSignal | undefined): Flow {
  let settle!: (result: OpenResult) => void;
  const flow: Flow = {
    token,
    popup,
    result: new Promise((resolve) => {
      settle = resolve;
    }),
    graphql: (operation) => postGraphQL(baseUrl, token, operation),
    settled: false,
    aborting: false,
    finish(outcome) {
      if (flow.settled) return;
      flow.settled = true;
      if (flow.aborting && outcome.status === "cancelled") outcome = aborted();
      clearInterval(poll);
      watcher.close();
      signal?.removeEventListener("abort", onAbort);
      try {
        if (!popup.closed) popup.close();
      } catch {
        // severed by the provider's page: nothing we can close
      }
      if (inFlight === flow) inFlight = undefined;
      settle(outcome);
    },
  };
  const watcher = watchSession(`${baseUrl.replace(/^http/, "ws")}/graphql`, token, {
    state: (session) => onState(flow, session),
    refused: (errors) => flow.finish(resultOfErrors(errors) ?? failure("failed", "invalid_session", "The session cannot be used")),
    unreachable: () => flow.finish(failure("failed", "network_error", "Lost contact with One Runtime")),
  });
  const poll = pollPopup(flow);
  const onAbort = () => void abortFlow(flow, poll);
  signal?.addEventListener("abort", onAbort, { once: true });
  return flow;
}

function onState(flow: Flow, session: SessionState) {
  flow.lastStatus = session.status;
  const outcome = resultOf(session);
  if (outcome) flow.finish(outcome);
}

/** Handles the answer to a read or a cancel: a state, or the reason there is none. */
function onAnswer(flow: Flow, session: SessionState | undefined, errors: GraphQLErrorLike[] | undefined) {
  if (session) return onState(flow, session);
  const outcome = resultOfErrors(errors);
  if (outcome) flow.finish(outcome);
  // SESSION_COMPLETED: the session ended meanwhile; the subscription brings its final state.
}

function pollPopup(flow: Flow): ReturnType<typeof setInterval> {
  /** Set once the popup's closing has been dealt with: from then on only the server decides. */
  let closeHandled = false;
  let checking = false;
  return setInterval(async () => {
    let closed = false;
    try {
      closed = flow.popup.closed;
    } catch {
      // treat an unreadable window as open
    }
    if (!closed || closeHandled || checking || flow.settled) return;
    checking = true;
    closeHandled = await onPopupClosed(flow);
    checking = false;
  }, POLL_MS);
}

// The popup looks closed. On our own page (PENDING) that is true: cancel, so the subscription
// ends the flow now instead of at expiry. At the provider (AUTHORIZING) it may be COOP hiding
// an open window: wait for the server, which ends the session by expiry at the latest.
// Resolves whether the close has been dealt with; never rejects.
async function onPopupClosed(flow: Flow): Promise<boolean> {
  try {
    // Re-read first when unsure: the socket may have missed a move to AUTHORIZING.
    let status = flow.lastStatus;
    if (status !== "AUTHORIZING") {
      const read = await flow.graphql(ReadSessionStateDocument);
      if (flow.settled) return false;
      onAnswer(flow, read.data?.hostedConnectionSession, read.errors);
      status = read.data?.hostedConnectionSession?.status;
      if (!status) return false; // refused (settled) or unanswered (the next poll asks again)
    }
    if (status === "PENDING") {
      const cancel = await flow.graphql(CancelSessionDocument);
      if (flow.settled) return false;
      onAnswer(flow, cancel.data?.cancelHostedConnectionSession, cancel.errors);
    }
    return true;
  } catch {
    return false; // network trouble: the next poll tries again
  }
}

// Aborted by the page: cancel server-side; if the server says the flow already ended, that
// ending is the answer (a connection made a moment before the abort is still a connection).
async function abortFlow(flow: Flow, poll: ReturnType<typeof setInterval>) {
  if (flow.settled) return;
  clearInterval(poll);
  try {
    flow.popup.close();
  } catch {
    // already gone
  }
  flow.aborting = true;
  try {
    const cancel = await flow.graphql(CancelSessionDocument);
    let state: SessionState | undefined = cancel.data?.cancelHostedConnectionSession;
    if (!state && cancel.errors?.some((e) => e.extensions?.code === "SESSION_COMPLETED")) state = (await flow.graphql(ReadSessionStateDocument)).data?.hostedConnectionSession;
    flow.finish((state ? resultOf(state) : resultOfErrors(cancel.errors)) ?? aborted());
  } catch {
    flow.finish(aborted());
  }
}

async function postGraphQL<TResult>(baseUrl: string, token: string, operation: TypedOperation<TResult, unknown>): Promise<GraphQLResponse<TResult>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), HTTP_TIMEOUT_MS);
  try {
    const response = await fetch(`${baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: operation }),
      credentials: "omit",
      signal: controller.signal,
    });
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}
