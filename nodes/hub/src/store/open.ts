import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ShuniuError } from '@shuniu/protocol';
import { envOverrides, mergeConfig, readConfig } from '../config.js';
import { isPostgresUrl, PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';

/** The data directory's SQLite file (config.ts's DB_FILE, repeated here so the store needs no config). */
const SQLITE_FILE = 'hub.db';

/** Either store; both implement Store, and `db` for the token and join-code tables. */
export type NodeStore = SqliteStore | PostgresStore;

/**
 * The store a node's `store` setting names (spec/node.md §Storage): SQLite in
 * the data directory (unset or "sqlite"), or PostgreSQL (a postgres:// or
 * postgresql:// URL). An empty PostgreSQL database is first filled from the
 * data directory's SQLite file, if there is one (what `shuniu init` wrote).
 */
export function openStore(dir: string, setting: string | undefined, opts: { pollMs?: number } = {}): NodeStore {
  if (isPostgresUrl(setting)) {
    const pg = new PostgresStore(setting, opts);
    const file = join(dir, SQLITE_FILE);
    if (pg.maxOrd() === 0 && existsSync(file)) {
      const lite = new SqliteStore(file);
      try {
        pg.importFrom(lite.db);
      } catch (e) {
        pg.close();
        throw e;
      } finally {
        lite.close();
      }
    }
    return pg;
  }
  if (setting !== undefined && setting !== '' && setting !== 'sqlite')
    throw new ShuniuError('E_ARGUMENT', 'store must be "sqlite" or a PostgreSQL URL (postgres://user@host:port/database)');
  return new SqliteStore(join(dir, SQLITE_FILE));
}

/** The store of a data directory as its node would open it (config.json, then SHUNIU_STORE), for the CLI's offline commands. */
export function openDataDirStore(dir: string): NodeStore {
  return openStore(dir, mergeConfig(readConfig(dir), envOverrides()).store, { pollMs: 0 });
}
