import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Mode of the data directory and of every directory under it (spec/node.md §11). */
export const DIR_MODE = 0o700;
/** Mode of every file in the data directory: keys, config, database, WAL, shared memory, sign-in link. */
export const FILE_MODE = 0o600;

/**
 * Closes a data directory to everyone but its owner, whatever existed before:
 * the directory (and any under it) 0700, every file in it 0600. Symbolic
 * links are left alone (their targets are not ours to change). Run by `init`
 * and at every start, before the database is opened; SQLite creates its
 * -wal and -shm files with the mode of the database file, so they follow.
 */
export function secureDataDir(dir: string): void {
  chmodSync(dir, DIR_MODE);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(path);
    } catch {
      continue; // removed meanwhile (a -shm file SQLite just deleted)
    }
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) secureDataDir(path);
    else if (st.isFile() && (st.mode & 0o777) !== FILE_MODE) {
      try {
        chmodSync(path, FILE_MODE);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }
}

/**
 * Makes files this process creates private (umask 077): SQLite's database,
 * WAL and shared-memory files, the sign-in link file. Called by the CLI
 * before it opens a data directory; not possible in a worker thread, where
 * the modes set by `secureDataDir` still hold.
 */
export function privateUmask(): void {
  try {
    process.umask(0o077);
  } catch {
    // process.umask(mask) throws in worker threads.
  }
}
