// Logos are served by us, never fetched at run time: a shipped SVG, or a monogram generated
// from the integration's name and brand colour.
import type { IntegrationEntry } from "./entry-schema.js";

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function initials(name: string): string {
  const parts = name.replace(/\(.*?\)/g, "").split(/[^A-Za-z0-9]+/).filter(Boolean);
  const letters = parts.length >= 2 ? parts[0]![0]! + parts[1]![0]! : (parts[0] ?? "?").slice(0, 2);
  return letters.toUpperCase();
}

/** Black or white text, whichever reads better on the background (WCAG relative luminance). */
function textColorOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 ? "#111111" : "#ffffff";
}

export function monogramSvg(entry: Pick<IntegrationEntry, "name" | "brandColor">): string {
  const bg = entry.brandColor ?? "#4b5563";
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="${escapeXml(entry.name)}">` +
    `<rect width="64" height="64" rx="14" fill="${bg}"/>` +
    `<text x="32" y="41" text-anchor="middle" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="24" font-weight="700" fill="${textColorOn(bg)}">${escapeXml(initials(entry.name))}</text>` +
    `</svg>`
  );
}
