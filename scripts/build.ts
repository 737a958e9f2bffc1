// `npm run build` (after `prisma generate` and `npm run build:popup`): compiles the server to
// dist/server with tsconfig.build.json, then copies beside it what the compiled code reads from
// paths relative to itself — the shipped catalog, the Prisma schema and migrations, and the built
// popup — so dist/ has the same shape as the source tree and `node dist/server/main.js` runs.
import { execFileSync } from "node:child_process";
import { cp, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const dist = `${root}dist/`;
const require = createRequire(import.meta.url);

async function mustExist(path: string, hint: string) {
  await stat(path).catch(() => {
    throw new Error(`${path.replace(root, "")} is missing: ${hint}`);
  });
}

await mustExist(`${root}server/generated/prisma/client.ts`, "run `npx prisma generate` first");
await mustExist(`${root}popup/dist/connect.js`, "run `npm run build:popup` first");

const started = Date.now();
await rm(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
await cp(`${root}catalog`, `${dist}catalog`, { recursive: true });
await cp(`${root}prisma/schema.prisma`, `${dist}prisma/schema.prisma`);
await cp(`${root}prisma/migrations`, `${dist}prisma/migrations`, { recursive: true });
await cp(`${root}popup/dist`, `${dist}popup/dist`, { recursive: true });
await mustExist(`${dist}server/main.js`, "the TypeScript build produced no entry point");
console.log(`dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s: start it with \`npm run start:prod\``);
