// The popup reports its own closing: when the page goes away while the session is still open
// (and not because we are sending it to the OAuth provider), a beacon asks the server to cancel
// it. The beacon names this page: a reload sends one too, and the server counts a close only from
// the page that last read the session, a few seconds later, so the reloaded page keeps it. The
// server cancels only an open session, so a stray beacon cannot end a finished flow.

/** A random id for this load of the popup (a reload makes a new one), sent with its reads and its beacon. */
export function newPageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `tokenToReport` answers, at pagehide, the token to report, or undefined to stay quiet. */
export function reportClosing(tokenToReport: () => string | undefined, pageId: string) {
  addEventListener("pagehide", () => {
    const token = tokenToReport();
    if (!token) return;
    try {
      // Relative to /connect: the popup may be served under a path prefix. Text body: a beacon
      // cannot set an Authorization header.
      navigator.sendBeacon("connect/closed", `${token} ${pageId}`);
    } catch {
      // the SDK's own check of the window cancels the session instead
    }
  });
}
