// Builds the browser side into popup/dist, which the server reads at start-up: the hosted popup
// (connect.html, popup.js, popup.css) and the SDK (connect.js, connect.d.ts). Prints each
// output's size, raw and gzipped; connect.js has a budget of 8 KB gzipped.
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = fileURLToPath(new URL(".", import.meta.url));
const dist = `${root}dist/`;
export const SDK_BUDGET_GZIP_BYTES = 8 * 1024;

const common = { bundle: true, minify: true, target: "es2020", legalComments: "none", logLevel: "warning" } as const;

export async function buildPopup(): Promise<Record<string, { raw: number; gzip: number }>> {
  await mkdir(dist, { recursive: true });
  await Promise.all([
    build({ ...common, entryPoints: [`${root}app/main.ts`], outfile: `${dist}popup.js`, format: "iife" }),
    build({ ...common, entryPoints: [`${root}app/popup.css`], outfile: `${dist}popup.css`, loader: { ".css": "css" } }),
    build({ ...common, entryPoints: [`${root}sdk/index.ts`], outfile: `${dist}connect.js`, format: "esm" }),
    copyFile(`${root}sdk/connect.d.ts`, `${dist}connect.d.ts`),
    readFile(`${root}app/connect.html`, "utf8").then((html) => writeFile(`${dist}connect.html`, html.replace(/>\s+</g, "><").trim() + "\n")),
  ]);
  const sizes: Record<string, { raw: number; gzip: number }> = {};
  for (const name of ["connect.js", "connect.d.ts", "popup.js", "popup.css", "connect.html"]) {
    const body = await readFile(dist + name);
    sizes[name] = { raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = await buildPopup();
  const kb = (n: number) => `${(n / 1024).toFixed(2)} KB`;
  for (const [name, { raw, gzip }] of Object.entries(sizes)) {
    console.log(`popup/dist/${name.padEnd(13)} ${kb(raw).padStart(9)}  ${kb(gzip).padStart(9)} gzipped`);
  }
  const sdk = sizes["connect.js"]!.gzip;
  if (sdk > SDK_BUDGET_GZIP_BYTES) console.warn(`connect.js is ${kb(sdk)} gzipped, over its ${kb(SDK_BUDGET_GZIP_BYTES)} budget`);
}
