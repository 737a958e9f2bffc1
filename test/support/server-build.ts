// The production build (`npm run build`'s compile step, scripts/build.ts) that tests run as child
// processes: plain node on dist/, as `npm run start:prod` does, instead of compiling TypeScript in
// every child. Rebuilt whenever what it is made from changed, decided by content, not by clock.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Entry points in the build, as `node <entry>` runs them (relative to the repository root). */
export const BUILT = {
  server: "dist/server/main.js",
  adminCli: "dist/server/admin/cli.js",
  migrateCli: "dist/server/db/migrate-cli.js",
} as const;

/** How `npm run start:prod` runs a built entry point. */
/** With CPU_PROFILE_DIR set (`npm run bench -- --cpu-prof`), each spawned server writes a V8 CPU profile there when it exits. */
export const nodeArgs = (entry: string) => [
  "--enable-source-maps",
  ...(process.env.CPU_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CPU_PROFILE_DIR}`] : []),
  entry,
];

// What scripts/build.ts reads: the server (with its generated Prisma client), what it copies into
// dist/, the compiler settings, and the lockfile (the compiler's version). Generous on purpose: a
// needless rebuild costs seconds, a stale build tests the wrong code.
const INPUTS = ["server", "catalog", "prisma", "popup/dist", "scripts/build.ts", "tsconfig.json", "tsconfig.build.json", "package-lock.json"];
const STAMP = "dist/.build-inputs";

async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return [];
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => filesUnder(join(path, e.name))));
  return nested.flat();
}

/** A digest of every input file's path and content. */
export async function buildInputsDigest(root = repoRoot): Promise<string> {
  const files = (await Promise.all(INPUTS.map((p) => filesUnder(join(root, p))))).flat().sort();
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(relative(root, file)).update("\0").update(await readFile(file)).update("\0");
  }
  return hash.digest("hex");
}

/**
 * Builds dist/ unless it was built from exactly the current inputs. The stamp is written only
 * after a successful build (scripts/build.ts empties dist/ first), so a failed or interrupted
 * build is never mistaken for a good one.
 */
export async function ensureServerBuild(root = repoRoot): Promise<{ built: boolean; ms: number }> {
  const started = Date.now();
  const digest = await buildInputsDigest(root);
  const stamp = await readFile(join(root, STAMP), "utf8").catch(() => "");
  const entries = await Promise.all(Object.values(BUILT).map((e) => stat(join(root, e)).then(() => true, () => false)));
  if (stamp.trim() === digest && entries.every(Boolean)) return { built: false, ms: Date.now() - started };
  try {
    await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/build.ts"], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building dist/ for the tests failed (npm run build):\n${err.stdout ?? ""}${err.stderr ?? err.message}`);
  }
  await writeFile(join(root, STAMP), `${digest}\n`);
  return { built: true, ms: Date.now() - started };
}
