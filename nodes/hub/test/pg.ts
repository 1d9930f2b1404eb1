/**
 * A throwaway PostgreSQL server for tests: Debian's binaries
 * (/usr/lib/postgresql/<major>/bin, installed by .ci/run), initdb into a
 * temporary directory, a free loopback port, run as the `postgres` user when
 * the tests run as root (PostgreSQL refuses to run as root). Each caller gets
 * its own database. Without the binaries, or without the libpq binding (an
 * optional dependency, built only where libpq-dev is installed), the
 * PostgreSQL tests are skipped with a message, except under CI=true, where
 * they fail.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finishConnection, libpq } from '../src/store/postgres.js';

/** The bin directory of the newest PostgreSQL installed the Debian way (or SHUNIU_PG_BIN), if any. */
export function pgBin(): string | undefined {
  const env = process.env.SHUNIU_PG_BIN;
  if (env) return existsSync(join(env, 'initdb')) ? env : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(root, majors[0], 'bin');
}

/** Whether PostgreSQL tests can run here; prints why not (under CI=true a missing server is an error). */
export const PG_AVAILABLE: boolean = (() => {
  let binding = true;
  try {
    libpq();
  } catch {
    binding = false;
  }
  if (pgBin() && binding) return true;
  const msg = binding
    ? 'PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/initdb; apt-get install postgresql): PostgreSQL tests skipped'
    : 'the libpq binding is not built (apt-get install libpq-dev, then pnpm install): PostgreSQL tests skipped';
  if (process.env.CI === 'true') throw new Error(`${msg.replace(': PostgreSQL tests skipped', '')}, and CI=true requires them`);
  process.stderr.write(`${msg}\n`);
  return false;
})();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgServer {
  port: number;
  dir: string;
  /** A new empty database on the server: its connection URL. */
  database(): string;
  /** Stops the server (fast shutdown, or `immediate`: like a crash); `start` brings it back on the same port. */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** Stops it for good and removes its directory. */
  destroy(): void;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function pgRun(bin: string, tool: string, args: string[]): void {
  const cmd = asRoot ? 'runuser' : join(bin, tool);
  const full = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
  const r = spawnSync(cmd, full, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
}

/** Starts a server; `fsync: false` (the default) trades durability across a machine crash for speed, as tests need. */
export async function startPostgres(opts: { fsync?: boolean } = {}): Promise<PgServer> {
  const bin = pgBin();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const dir = mkdtempSync(join(tmpdir(), 'shuniu-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  pgRun(bin, 'initdb', ['-D', data, '-U', 'shuniu', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  const conf = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    `-c fsync=${opts.fsync ? 'on' : 'off'}`,
    '-c max_connections=200',
    '-c shared_buffers=64MB',
  ].join(' ');
  const start = () => pgRun(bin, 'pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', conf, '-w', '-t', '60', 'start']);
  start();
  let n = 0;
  let up = true;
  const server: PgServer = {
    port,
    dir,
    database() {
      const name = `t${++n}_${process.pid}`;
      const pq = new (libpq())();
      pq.connectSync(`postgresql://shuniu@127.0.0.1:${port}/postgres`);
      pq.exec(`CREATE DATABASE ${name}`);
      const err = pq.resultErrorMessage();
      finishConnection(pq);
      if (err) throw new Error(err);
      return `postgresql://shuniu@127.0.0.1:${port}/${name}`;
    },
    stop(mode = 'fast') {
      if (!up) return;
      pgRun(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      up = false;
    },
    start() {
      if (up) return;
      start();
      up = true;
    },
    destroy() {
      try {
        server.stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return server;
}

/**
 * The stores a parametrised suite runs against: SQLite in a temporary file, and
 * PostgreSQL in a throwaway server (skipped when it cannot run, see PG_AVAILABLE).
 */
export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  available: boolean;
  /** A server for the suite (PostgreSQL); undefined for SQLite. Started by `setup`. */
  server?: PgServer;
  setup(): Promise<void>;
  /** A store setting for a node's config: a database URL, or undefined (SQLite in the data directory). */
  storeUrl(): string | undefined;
  teardown(): void;
}

export function storeBackends(): StoreBackend[] {
  const pg: StoreBackend = {
    name: 'postgres',
    available: PG_AVAILABLE,
    async setup() {
      pg.server = await startPostgres();
    },
    storeUrl() {
      if (!pg.server) throw new Error('setup() first');
      return pg.server.database();
    },
    teardown() {
      pg.server?.destroy();
      delete pg.server;
    },
  };
  return [{ name: 'sqlite', available: true, async setup() {}, storeUrl: () => undefined, teardown() {} }, pg];
}
