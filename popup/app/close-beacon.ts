// The popup reports its own closing: when the page goes away while the session is still open
// (and not because we are sending it to the OAuth provider), a beacon asks the server to cancel
// it. The server cancels only a PENDING session, so a stray beacon cannot end a finished flow.

/** `tokenToReport` answers, at pagehide, the token to report, or undefined to stay quiet. */
export function reportClosing(tokenToReport: () => string | undefined) {
  addEventListener("pagehide", () => {
    const token = tokenToReport();
    if (!token) return;
    try {
      // Relative to /connect: the popup may be served under a path prefix. Text body: a beacon
      // cannot set an Authorization header.
      navigator.sendBeacon("connect/closed", token);
    } catch {
      // the SDK's own check of the window cancels the session instead
    }
  });
}
