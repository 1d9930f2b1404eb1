import { chmodSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, recoveryCommitment, ShuniuError, signingKeyPairFromSeed, toHex } from '@shuniu/protocol';
import { KEY_FILE } from './config.js';

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

/**
 * The recovery key file `init` writes beside the node's key file, for the
 * operator to move offline (spec/node.md §11, spec/keys.md §5): the node
 * never reads it; `shuniu recover` does.
 */
export const RECOVERY_KEY_FILE = 'recovery.key.json';

/** What the node signs and opens sealed parts with (hub.key.json); it holds no recovery seed. */
export interface NodeKeys {
  hub: string;
  created: string;
  signing: Uint8Array;
  encryption: Uint8Array;
  /** The file still holds a `recoverySeed` (written by a version before recovery.key.json): it should go offline. */
  legacyRecoverySeed?: boolean;
}

const seed = (v: unknown, name: string, file: string): Uint8Array => {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) throw new ShuniuError('E_KEY', `${file}: ${name} must be 32 bytes of hex`);
  return fromHex(v.toLowerCase());
};

function readJsonFile(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ShuniuError('E_KEY', `${path} is not a key file`);
  return value as Record<string, unknown>;
}

/** Reads DIR/hub.key.json: the hub id and the signing and encryption seeds (a `recoverySeed` in it is ignored). */
export function readKeyFile(dir: string): NodeKeys {
  const path = join(dir, KEY_FILE);
  const f = readJsonFile(path);
  if (typeof f.hub !== 'string') throw new ShuniuError('E_KEY', `${path}: no hub id`);
  return {
    hub: f.hub,
    created: typeof f.created === 'string' ? f.created : '',
    signing: seed(f.signingSeed, 'signingSeed', path),
    encryption: seed(f.encryptionSeed, 'encryptionSeed', path),
    ...(f.recoverySeed !== undefined ? { legacyRecoverySeed: true } : {}),
  };
}

/** The text of a node key file: spec/keys.md §6 without `recoverySeed`. */
export function keyFileText(k: NodeKeys): string {
  return `${JSON.stringify({ hub: k.hub, signingSeed: toHex(k.signing), encryptionSeed: toHex(k.encryption), created: k.created }, null, 2)}\n`;
}

/** A recovery key file: the hub, the recovery seed and the commitment it answers (to tell generations apart). */
export interface RecoveryKey {
  hub: string;
  seed: Uint8Array;
  commitment: string;
}

export function recoveryKeyText(hub: string, recoverySeed: Uint8Array, created: string): string {
  const commitment = recoveryCommitment(signingKeyPairFromSeed(recoverySeed).publicKey);
  return `${JSON.stringify({ hub, recoverySeed: toHex(recoverySeed), recoveryCommitment: commitment, created }, null, 2)}\n`;
}

/** Reads a recovery key file (or a full spec/keys.md §6 key file, whose `recoverySeed` it takes). */
export function readRecoveryKey(path: string): RecoveryKey {
  const f = readJsonFile(path);
  if (typeof f.hub !== 'string') throw new ShuniuError('E_KEY', `${path}: no hub id`);
  const s = seed(f.recoverySeed, 'recoverySeed', path);
  return { hub: f.hub, seed: s, commitment: recoveryCommitment(signingKeyPairFromSeed(s).publicKey) };
}

/** Writes a private file (0600); `exclusive` refuses to replace an existing one. */
export function writePrivateFile(path: string, text: string, exclusive = false): void {
  writeFileSync(path, text, { mode: FILE_MODE, flag: exclusive ? 'wx' : 'w' });
  chmodSync(path, FILE_MODE);
}
