// One process per embedded data folder: PGlite has no cross-process locking, and two processes on
// one folder corrupt it. The holder writes `server.lock` (created exclusively); a running server
// also records its local admin channel there, so the admin CLI can ask it instead of opening
// the folder. A lock whose process is gone is stale and taken over.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ownerOnlyFromNowOn, tightenDataDir } from "./data-dir-permissions.js";

export type LockInfo = { pid: number; role: "server" | "cli"; adminUrl?: string; adminToken?: string };

export class DataDirBusyError extends Error {
  constructor(readonly holder: LockInfo) {
    super(
      holder.role === "server"
        ? `The data folder is in use by a running One Runtime server (pid ${holder.pid}).`
        : `The data folder is in use by another One Runtime command (pid ${holder.pid}); try again when it has finished.`,
    );
  }
}

const lockPath = (dataDir: string) => join(dataDir, "server.lock");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function readLock(dataDir: string): Promise<LockInfo | undefined> {
  const text = await readFile(lockPath(dataDir), "utf8").catch(() => undefined);
  if (!text) return undefined;
  try {
    const info = JSON.parse(text) as LockInfo;
    return alive(info.pid) && info.pid !== process.pid ? info : undefined;
  } catch {
    return undefined; // half-written by a process that died: stale
  }
}

export type DataDirLock = { info: LockInfo; update(info: Partial<LockInfo>): Promise<void>; release(): Promise<void> };

/** Takes the folder's lock or throws DataDirBusyError naming the holder. */
export async function acquireDataDirLock(dataDir: string, role: LockInfo["role"]): Promise<DataDirLock> {
  // Every path that opens the folder (server, admin CLI, migrate) comes through here first.
  ownerOnlyFromNowOn();
  await mkdir(dataDir, { recursive: true });
  await tightenDataDir(dataDir);
  const file = lockPath(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    const info: LockInfo = { pid: process.pid, role };
    try {
      await writeFile(file, JSON.stringify(info), { flag: "wx", mode: 0o600 });
      let current = info;
      return {
        get info() {
          return current;
        },
        update: async (more) => {
          current = { ...current, ...more };
          await writeFile(file, JSON.stringify(current), { mode: 0o600 });
        },
        release: () => rm(file, { force: true }),
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = await readLock(dataDir);
      if (holder) throw new DataDirBusyError(holder);
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

export const newAdminToken = () => randomBytes(32).toString("base64url");
