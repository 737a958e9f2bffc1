// The popup and the browser SDK, built from popup/ into popup/dist (npm run build:popup), served
// from memory with ETags.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { StaticFile } from "./graphiql.js";

export const popupDistDir = fileURLToPath(new URL("../popup/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Route → built file. */
const ROUTES: Record<string, string> = {
  "/connect": "connect.html",
  "/connect/popup.js": "popup.js",
  "/connect/popup.css": "popup.css",
  "/connect.js": "connect.js",
  "/connect.d.ts": "connect.d.ts",
};

export async function loadPopupAssets(dir = popupDistDir): Promise<Map<string, StaticFile>> {
  const assets = new Map<string, StaticFile>();
  for (const [route, name] of Object.entries(ROUTES)) {
    const body = await readFile(dir + name).catch(() => {
      throw new Error(`popup/dist/${name} is missing: run \`npm run build:popup\``);
    });
    const ext = name.slice(name.lastIndexOf("."));
    assets.set(route, { body, type: TYPES[ext] ?? "application/octet-stream", etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` });
  }
  return assets;
}
