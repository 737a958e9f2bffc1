// The embedded data folder holds the database (end users' names and emails, in the WAL too), the
// development key and the lock with the admin token: its owner alone may read it. Files 0600,
// folders 0700, whatever the user's umask, and an older folder made with looser modes is fixed.
import { chmod, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export const DATA_FILE_MODE = 0o600;
export const DATA_FOLDER_MODE = 0o700;
/** What the service itself puts in the data folder; nothing else there is touched. */
export const DATA_DIR_ENTRIES = ["pgdata", "encryption-key", "dev-api-key", "server.lock"] as const;

/**
 * Makes every file and folder this process creates from now on owner-only. Process-wide and for
 * the process's life: PGlite creates its files itself (new relation files, WAL segments), so
 * only the umask reaches them. Set by the data folder's lock, so only in a process that opens an
 * embedded data folder (server, admin CLI, migrate): those write nothing else to disk (logs go to
 * stdout). A process that also wrote files meant for others would need to chmod them itself.
 */
export function ownerOnlyFromNowOn() {
  process.umask(0o077);
}

/**
 * Owner-only modes on `path` and, for a folder, everything under it. Symbolic links are left
 * alone (chmod would follow them out of the folder). PGlite copies its initial files with mode
 * 0666 and rewrites its relation cache files with 0644 at every start, chmod-ing them itself
 * (which no umask stops): so this runs after it has opened the folder, too.
 */
export async function tightenTree(path: string): Promise<void> {
  const info = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (!info || info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    if ((info.mode & 0o777) !== DATA_FOLDER_MODE) await chmod(path, DATA_FOLDER_MODE);
    const entries = await readdir(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return [];
      throw e;
    });
    for (const name of entries) await tightenTree(join(path, name));
  } else if ((info.mode & 0o777) !== DATA_FILE_MODE) {
    // A file removed meanwhile (PGlite renames and deletes as it runs) is no longer our concern.
    await chmod(path, DATA_FILE_MODE).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }
}

/** The data folder itself and what the service keeps in it: owner-only. */
export async function tightenDataDir(dataDir: string): Promise<void> {
  await chmod(dataDir, DATA_FOLDER_MODE);
  for (const name of DATA_DIR_ENTRIES) await tightenTree(join(dataDir, name));
}
