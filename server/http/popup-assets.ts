// The popup and the browser SDK, built from popup/ into popup/dist (npm run build:popup), read
// once at start-up and served from memory with ETags (routes in server/http/routes.ts).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { StaticFile } from "./responses.js";

export const popupDistDir = fileURLToPath(new URL("../../popup/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

export const POPUP_FILES = ["connect.html", "popup.js", "popup.css", "connect.js", "connect.d.ts"] as const;
export type PopupFile = (typeof POPUP_FILES)[number];

export async function loadPopupAssets(dir = popupDistDir): Promise<Map<PopupFile, StaticFile>> {
  const assets = new Map<PopupFile, StaticFile>();
  for (const name of POPUP_FILES) {
    const body = await readFile(dir + name).catch(() => {
      throw new Error(`popup/dist/${name} is missing: run \`npm run build:popup\``);
    });
    const ext = name.slice(name.lastIndexOf("."));
    assets.set(name, { body, type: TYPES[ext] ?? "application/octet-stream", etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` });
  }
  return assets;
}
