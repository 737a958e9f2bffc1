// GET /logos/<slug>.svg: an integration's logo (shipped, or a generated monogram).
import type { Catalog } from "../catalog/catalog.js";
import { sendJson, sendStatic, type RouteHandler } from "./responses.js";

export const LOGO_PATH = /^\/logos\/([a-z0-9-]{1,64})\.svg$/;

export function logoRoute(catalog: Catalog): RouteHandler {
  return (req, res, url) => {
    const slug = LOGO_PATH.exec(url.pathname)![1]!;
    const svg = catalog.logoSvg(slug);
    if (!svg) return sendJson(res, 404, { error: "not found" });
    sendStatic(req, res, { body: svg, type: "image/svg+xml", etag: `"${slug}-${svg.length}"` }, {
      // An SVG is a document: never let one run script, whoever wrote it.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      "cross-origin-resource-policy": "cross-origin",
      "cache-control": "public, max-age=3600",
    });
  };
}
