// POST /connect/closed: the popup reports its own closing (navigator.sendBeacon on pagehide), so a
// closed popup cancels its open session within seconds instead of at expiry (a reloaded one,
// whose new page reads its session at once, keeps it). The body is the session token, then
// optionally whitespace and the closing page's id (text/plain: a beacon cannot set headers).
import { POPUP_PAGE_ID_PATTERN, popupClosed } from "../sessions/complete.js";
import { sessionForToken } from "../sessions/lifecycle.js";
import type { Services } from "../services.js";
import type { RouteHandler } from "./responses.js";
import { readBody } from "./responses.js";

const MAX_BEACON_BYTES = 1024;

export function popupClosedBeacon(services: Services): RouteHandler {
  return async (req, res) => {
    const body = req.method === "POST" ? (await readBody(req, MAX_BEACON_BYTES))?.toString("utf8").trim() : undefined;
    const [token, pageId] = body ? body.split(/\s+/) : [];
    if (token) {
      // A beacon has no one to tell: an unknown, malformed or expired token just changes nothing.
      const session = await sessionForToken(services, token).catch(() => undefined);
      if (session) await popupClosed(services, session, pageId && POPUP_PAGE_ID_PATTERN.test(pageId) ? pageId : undefined);
    }
    // Same answer whatever the token: a beacon learns nothing.
    res.writeHead(204, { "cache-control": "no-store" });
    res.end();
  };
}
