// The hosted popup at <baseUrl>/connect#<session token>: loads the session, shows the step its
// integration needs, and ends on a final screen. It never talks to the page that opened it: the
// SDK learns the outcome from the server (a provider's page may sever window.opener anyway).
import { CancelSessionDocument, ChooseIntegrationDocument, CompleteSessionDocument, ReadSessionDocument } from "../generated/operations.js";
import { ApiError, createApi, NetworkError, TERMINAL, type ChosenSession, type Session, type SessionStatus } from "./api.js";
import { newPageId, reportClosing } from "./close-beacon.js";
import { showConnectForm, type FormValues } from "./connect-form.js";
import { continueToProvider } from "./oauth.js";
import { showPicker } from "./picker.js";
import { closeWindow, showLoading, showMessage } from "./view.js";

const TOKEN_KEY = "one-runtime-session-token";
const CLOSE_AFTER_MS = 1200;

/** The token from the URL fragment, then out of the URL (kept for a reload in sessionStorage). */
function takeToken(): string {
  let token = "";
  try {
    token = decodeURIComponent(location.hash.slice(1));
  } catch {
    token = "";
  }
  if (token) {
    history.replaceState(null, "", location.pathname + location.search);
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // storage disabled: a reload then shows "not valid", nothing worse
    }
    return token;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

const token = takeToken();
const pageId = newPageId();
const api = createApi(token, pageId);
let status: SessionStatus | undefined;
let leavingForProvider = false;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

reportClosing(() => (token && !leavingForProvider && !(status && TERMINAL.includes(status)) ? token : undefined), pageId);
// Back from the provider through the back/forward cache: this page is ours again.
addEventListener("pageshow", (event) => {
  if (event.persisted) leavingForProvider = false;
});

function closeSoon() {
  setTimeout(closeWindow, CLOSE_AFTER_MS);
}

const closeAction = { label: "Close window", primary: true, onClick: closeWindow };

function showState(session: Session) {
  status = session.status;
  clearTimeout(expiryTimer);
  const provider = session.integration?.name ?? "the app";
  switch (session.status) {
    case "PENDING":
    case "AUTHORIZING":
      armExpiry(session);
      if (!session.integration) return showPicker(session, api, { choose, cancel, fail: showFailure });
      return showConnectForm(session as ChosenSession, {
        submit: (values) => submit(session as ChosenSession, values),
        cancel,
        fail: showFailure,
        back: session.canChooseIntegration ? () => showPicker(session, api, { choose, cancel, fail: showFailure }) : undefined,
      });
    case "CONNECTED":
      showMessage({
        tone: "success",
        icon: "check",
        title: `Connected to ${provider}`,
        detail: session.connectionName ? `“${session.connectionName}” is ready. This window closes by itself.` : "This window closes by itself.",
      });
      return closeSoon();
    case "CANCELLED":
      showMessage({ tone: "neutral", icon: "cross", title: "Connection cancelled", detail: `Nothing was connected to ${provider}. You can close this window.`, actions: [closeAction] });
      return closeSoon();
    case "FAILED":
      return showMessage({
        tone: "error",
        icon: "alert",
        title: `Couldn't connect to ${provider}`,
        detail: `${session.error?.message ?? "The connection failed."} Close this window and try again from the app.`,
        actions: [closeAction],
      });
    case "EXPIRED":
      return showExpired();
  }
}

function showExpired() {
  status = "EXPIRED";
  clearTimeout(expiryTimer);
  showMessage({ tone: "warning", icon: "clock", title: "Session expired", detail: "This session has expired. Close this window and try again from the app.", actions: [closeAction] });
}

/** Any error that is not about a field: the screen that explains it, with a way out. */
function showFailure(error: unknown, retry: () => void = load): void {
  if (error instanceof NetworkError) {
    return showMessage({
      tone: "warning",
      icon: "offline",
      title: "Can't reach One Runtime",
      detail: "Check your internet connection and try again.",
      actions: [{ label: "Try again", primary: true, onClick: retry }],
    });
  }
  const code = error instanceof ApiError ? error.code : "";
  if (code === "UNAUTHENTICATED") {
    status = "FAILED"; // nothing to report on closing
    return showMessage({ tone: "error", icon: "alert", title: "This link is not valid", detail: "Close this window and try again from the app.", actions: [closeAction] });
  }
  if (code === "SESSION_EXPIRED") return showExpired();
  if (code === "SESSION_COMPLETED") return void load(); // show how it ended
  showMessage({
    tone: "error",
    icon: "alert",
    title: "Something went wrong",
    detail: error instanceof ApiError && code !== "INTERNAL_SERVER_ERROR" ? error.message : "Please try again in a moment.",
    actions: [{ label: "Try again", primary: true, onClick: retry }, { label: "Close window", onClick: closeWindow }],
  });
}

/** The end user picked an integration: the session now names it, and its form follows. */
async function choose(slug: string) {
  const data = await api(ChooseIntegrationDocument, { integrationSlug: slug });
  current = data.chooseHostedConnectionIntegration;
  showState(current);
}

async function submit(session: ChosenSession, values: FormValues) {
  if (session.integration.connectsAtProvider) {
    return continueToProvider(api, { connectionName: values.connectionName, userInputs: values.credentials }, () => (leavingForProvider = true));
  }
  const data = await api(CompleteSessionDocument, {
    input: { connectionName: values.connectionName, credentials: values.credentials },
  });
  showState({ ...session, ...data.completeHostedConnectionSession });
}

async function cancel() {
  const data = await api(CancelSessionDocument);
  if (!current) return;
  showState({ ...current, ...data.cancelHostedConnectionSession });
}

/** The server expires the session; show it when it happens rather than on the next click. */
function armExpiry(session: Session) {
  const due = new Date(session.expiresAt).getTime() - Date.now();
  if (!Number.isFinite(due)) return;
  expiryTimer = setTimeout(
    async () => {
      try {
        const { hostedConnectionSession } = await api(ReadSessionDocument);
        if (TERMINAL.includes(hostedConnectionSession.status)) showState(hostedConnectionSession);
        else armExpiry({ ...hostedConnectionSession, expiresAt: new Date(Date.now() + 5_000).toISOString() });
      } catch (error) {
        if (error instanceof ApiError && error.code === "SESSION_EXPIRED") showExpired();
      }
    },
    Math.min(Math.max(due + 500, 0), 2 ** 31 - 1),
  );
}

let current: Session | undefined;

async function load(): Promise<void> {
  if (!token) return showFailure(new ApiError("UNAUTHENTICATED", "No session token"));
  showLoading();
  try {
    const { hostedConnectionSession } = await api(ReadSessionDocument);
    current = hostedConnectionSession;
    showState(hostedConnectionSession);
  } catch (error) {
    showFailure(error, load);
  }
}

void load();
