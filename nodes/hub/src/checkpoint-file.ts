import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The resolver checkpoint as a file in the data directory (spec/node.md
 * §10.4): one header line `{"v":1,"ord":N,"id":"<id of the record at ord>"}`,
 * then the snapshot's JSON. A file, not a database row, so that the worker
 * that writes it never holds SQLite's write lock while the node commits.
 */
export const CHECKPOINT_FILE = 'checkpoint.json';

export interface CheckpointHeader {
  v: 1;
  ord: number;
  id: string;
}

/** The header of DIR's checkpoint file (its first line only), or undefined. */
export function readCheckpointHeader(dir: string): CheckpointHeader | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, CHECKPOINT_FILE), 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl < 0) return undefined;
    const h = JSON.parse(buf.subarray(0, nl).toString('utf8')) as CheckpointHeader;
    return h?.v === 1 && Number.isSafeInteger(h.ord) && typeof h.id === 'string' ? h : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * DIR's checkpoint when it covers records this database holds: `idAt(ord)`
 * must be the id its header names (a file left by another database, or
 * beside a database restored from an older backup, is ignored: the records
 * are replayed).
 */
export function readCheckpoint(dir: string, idAt: (ord: number) => string | undefined): { ord: number; snapshot: unknown } | undefined {
  const h = readCheckpointHeader(dir);
  if (!h || idAt(h.ord) !== h.id) return undefined;
  try {
    const text = readFileSync(join(dir, CHECKPOINT_FILE), 'utf8');
    return { ord: h.ord, snapshot: JSON.parse(text.slice(text.indexOf('\n') + 1)) };
  } catch {
    return undefined;
  }
}

/** Writes the checkpoint file whole or not at all (temporary file, fsync, rename); returns its size in bytes. */
export function writeCheckpoint(dir: string, header: Omit<CheckpointHeader, 'v'>, snapshotJson: string): number {
  const tmp = join(dir, `${CHECKPOINT_FILE}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  let n = 0;
  try {
    n += writeSync(fd, `${JSON.stringify({ v: 1, ...header })}\n`);
    n += writeSync(fd, snapshotJson);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, CHECKPOINT_FILE));
  try {
    const d = openSync(dir, 'r');
    fsyncSync(d);
    closeSync(d);
  } catch {
    // A directory fsync is best effort: the rename itself is atomic.
  }
  return n;
}

/**
 * With letGoFinished (spec/node.md §10.4), at shutdown: the resolver's open-state snapshot (its finished
 * objects stay in the store's `finished` table, which letGo() has just brought up to date) as DIR's
 * checkpoint at the last stored ord. Returns its size in bytes, or 0 when the store holds no record.
 */
export function writeOpenCheckpoint(dir: string, maxOrd: number, idAt: (ord: number) => string | undefined, openSnapshot: () => unknown): number {
  const id = idAt(maxOrd);
  if (maxOrd <= 0 || id === undefined) return 0;
  const snapshot = openSnapshot();
  if (snapshot === undefined) return 0;
  return writeCheckpoint(dir, { ord: maxOrd, id }, JSON.stringify(snapshot));
}

/** Removes DIR's checkpoint file and any half-written one. */
export function removeCheckpoint(dir: string): void {
  rmSync(join(dir, CHECKPOINT_FILE), { force: true });
  rmSync(join(dir, `${CHECKPOINT_FILE}.tmp`), { force: true });
}
