// POST /connect/closed: the popup reports its own closing (navigator.sendBeacon on pagehide), so a
// closed popup cancels its open session within a second instead of at expiry. The body is the
// session token (text/plain: a beacon cannot set headers). The popup sends none when it navigates
// to the provider on purpose, so an AUTHORIZING session that beacons was left on our page (the
// user came back and closed it): cancelling it is right too. Finished sessions are left alone.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "../http.js";
import type { Services } from "../services.js";
import { endSession } from "./finish.js";
import { sessionForToken } from "./lifecycle.js";
import { SESSION_TOKEN_PATTERN } from "./tokens.js";

export function popupClosedBeacon(services: Services) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const token = req.method === "POST" ? (await readBody(req, 1024))?.toString("utf8").trim() : undefined;
    if (token && SESSION_TOKEN_PATTERN.test(token)) {
      const session = await sessionForToken(services, token).catch(() => undefined);
      if (session?.status === "PENDING" || session?.status === "AUTHORIZING") {
        await endSession(services, session, "CANCELLED", { code: "popup_closed", message: "The end user closed the window" });
      }
    }
    // Same answer whatever the token: a beacon learns nothing.
    res.writeHead(204, { "cache-control": "no-store" });
    res.end();
  };
}
