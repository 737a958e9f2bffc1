// GET <publicUrl>/oauth/callback: where providers send the end user back. The page it shows never
// posts a message anywhere: the SDK learns the outcome from its subscription.
import { randomBytes } from "node:crypto";
import { completeAuthorization, type CallbackOutcome } from "../oauth/callback.js";
import type { Services } from "../services.js";
import { escapeHtml, sendHtml, type RouteHandler } from "./responses.js";

function page(outcome: CallbackOutcome): { html: string; csp: string } {
  const nonce = randomBytes(16).toString("base64");
  const script = outcome.closeAfterMs === null ? "" : `<script nonce="${nonce}">setTimeout(function(){window.close()},${outcome.closeAfterMs})</script>`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(outcome.title)}</title>
<style>body{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#1f2937;text-align:center;padding:0 24px}p{color:#4b5563}</style>
</head><body><main role="status"><h1>${escapeHtml(outcome.title)}</h1><p>${escapeHtml(outcome.detail)}</p></main>${script}</body></html>`;
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
  return { html, csp };
}

export function oauthCallback(services: Services): RouteHandler {
  return async (req, res, url) => {
    const outcome = req.method === "GET" ? await completeAuthorization(services, url) : { status: 405, title: "Method not allowed", detail: "", closeAfterMs: null };
    const { html, csp } = page(outcome);
    sendHtml(res, outcome.status, html, csp);
  };
}
