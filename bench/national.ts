// `pnpm bench national`: a national aggregator on PostgreSQL (spec/node.md §10.5, docs/deploy.md).
// In one run, on a throwaway PostgreSQL (Debian's binaries, fsync on, as in production):
// - records/s through POST /v1/records into one `shuniu start` process on PostgreSQL, against the bare
//   single-core Ed25519 verification rate measured in the same run (pg_ingest_ratio), and against the
//   same push into one process on SQLite (pg_over_sqlite);
// - the same push split over two processes on one database, over one process (two_process_over_one);
// - cached public state reads per second (GET /v1/state/needs with If-None-Match, answered 304 from the
//   state cache by its ETag) measured by autocannon in a second process (public_reads_per_s);
// - kill -9 of one of two processes while clients push through both, failing over to the other:
//   records acknowledged but missing from the database (lost, must be 0).
// The clients are child processes of nothing: they run in this process, as cheaply as in
// bench/ingest.ts (records signed and bodies serialised before the clock starts, 4 connections,
// 500 records a batch). Each push also reports the CPU time a record costs in the node processes
// (every thread), the PostgreSQL server and this client (cpu_us_per_record_*): the client's share
// is measured, not assumed (about 20 µs a record against several hundred in the node), and the
// figures survive a loaded machine better than records/s. The load average is reported with them.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready, recordId, recordJson } from '@shuniu/protocol';
import { initDataDir } from '../nodes/hub/src/node.js';
import { PostgresStore } from '../nodes/hub/src/store/postgres.js';
import { PG_AVAILABLE, startPostgres } from '../nodes/hub/test/pg.js';
import { bareVerifyRate, type Chain, signChains } from './hubnet.js';
import { progress, quick, report } from './report.js';

await ready();
if (!PG_AVAILABLE) throw new Error('PostgreSQL binaries not found (apt-get install postgresql)');
const CLI = fileURLToPath(new URL('../nodes/hub/dist/cli.js', import.meta.url));
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run tsc --build first`);

const HUBS = 8;
const PER_HUB = quick ? 400 : 2500;
const BATCH = 500;
const PARALLEL = 4;
const BARE = quick ? 2000 : 10_000;
const READ_SECONDS = quick ? 3 : 10;
// Connections of the reader: at most limits.stateReadsPerClient (8), the reads one client may have
// open at once (spec/node.md §6); more from one address are refused with 429 by design.
const READERS = 8;
// Extra Node.js flags for the node processes, to profile them: SHUNIU_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const NODE_ARGS = (process.env.SHUNIU_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Proc {
  child: ChildProcess;
  url: string;
  token: string;
}

/** CPU seconds (user + system, every thread) of process `pid` and, with `children`, of its exited children; 0 once it is gone. */
function cpuOf(pid: number, children = false): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const v = f
      .slice(f.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // Fields 14-17 of proc(5) (utime, stime, cutime, cstime), counted from field 3 here.
    return ((v[11] as number) + (v[12] as number) + (children ? (v[13] as number) + (v[14] as number) : 0)) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL server: its postmaster, the backends alive now and those that exited. */
function pgCpu(dir: string): number {
  const master = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuOf(master, true);
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const f = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]) === master) total += cpuOf(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** `shuniu start` on `dir` (a copy of one data directory), on `store`; its URL and sign-in token. */
async function start(dir: string, store: string | undefined): Promise<Proc> {
  rmSync(join(dir, 'signin-link.txt'), { force: true });
  const child = spawn(process.execPath, [...NODE_ARGS, CLI, 'start', '--dir', dir, '--port', '0', '--quiet'], {
    env: { ...process.env, SHUNIU_PULL_INTERVAL_MS: '0', SHUNIU_RATE_PER_SECOND: '0', ...(store ? { SHUNIU_STORE: store } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^\S+ (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`shuniu start exited ${code}: ${err.slice(0, 500)}`)));
  });
  const file = join(dir, 'signin-link.txt');
  for (let i = 0; !(existsSync(file) && readFileSync(file, 'utf8').includes('\n')); i++) {
    if (i > 200) throw new Error('no sign-in link');
    await new Promise((r) => setTimeout(r, 50));
  }
  const link = readFileSync(file, 'utf8').trim();
  return { child, url, token: link.slice(link.indexOf('#token=') + 7) };
}

function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}

/** A fresh data directory (province hub) and `n` copies of it, one per process. */
async function dataDirs(n: number): Promise<{ dirs: string[]; cleanup: () => void }> {
  const dirs = [mkdtempSync(join(tmpdir(), 'shuniu-national-'))];
  await initDataDir({ dir: dirs[0] as string, name: '全国基准枢纽', level: 'province', region: '420000', port: 0 });
  for (let i = 1; i < n; i++) {
    const d = mkdtempSync(join(tmpdir(), 'shuniu-national-'));
    cpSync(dirs[0] as string, d, { recursive: true });
    dirs.push(d);
  }
  return {
    dirs,
    cleanup: () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/**
 * fetch, sent again when the connection closes under it: a keep-alive socket the node closed as it
 * idled (its keep-alive timeout) while this client reused it. Only for idempotent requests.
 */
async function req(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

async function admit(p: Proc, chains: Chain[]): Promise<void> {
  for (const c of chains) {
    const res = await fetch(`${p.url}/v1/admissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${p.token}` },
      body: JSON.stringify({ child: c.id, level: 'org', region: '420902' }),
    });
    if (res.status !== 201) throw new Error(`admission: HTTP ${res.status} ${await res.text()}`);
  }
}

function bodiesOf(chains: Chain[]): string[][] {
  return chains.map((c) => {
    const out: string[] = [];
    for (let i = 0; i < c.records.length; i += BATCH)
      out.push(
        `[${c.records
          .slice(i, i + BATCH)
          .map(recordJson)
          .join(',')}]`,
      );
    return out;
  });
}

/** Pushes every hub's chain in order, PARALLEL hubs at a time, hub h to procs[h % n]; records/s. */
async function push(procs: Proc[], bodies: string[][]): Promise<number> {
  let accepted = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let h = next++; h < bodies.length; h = next++) {
        const p = procs[h % procs.length] as Proc;
        for (const body of bodies[h] as string[]) {
          const res = await req(`${p.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          // A batch sent again after a closed connection may have been stored the first time: its records come back duplicate.
          const j = (await res.json()) as { summary: { accepted: number; duplicate?: number } };
          accepted += j.summary.accepted + (j.summary.duplicate ?? 0);
        }
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const total = bodies.flat().reduce((n, b) => n + (b.match(/"sig":/g)?.length ?? 0), 0);
  if (accepted !== total) throw new Error(`accepted ${accepted} of ${total}`);
  return total / s;
}

/** CPU microseconds per record spent during a push by the node processes, the PostgreSQL server and this client. */
interface CpuPerRecord {
  node: number;
  pg: number;
  client: number;
}

/** One ingest run: `n` processes on `store` (undefined: SQLite in each data directory, n = 1), PostgreSQL's directory `pgDir`. */
async function ingestRun(
  label: string,
  n: number,
  store: string | undefined,
  chains: Chain[],
  pgDir?: string,
): Promise<{ rate: number; cpu: CpuPerRecord; procs: Proc[]; cleanup: () => Promise<void> }> {
  const { dirs, cleanup } = await dataDirs(n);
  const procs: Proc[] = [];
  // The first fills an empty database from its data directory; the others find it filled.
  for (const d of dirs) procs.push(await start(d, store));
  await admit(procs[0] as Proc, chains);
  // Each process's resolver must hold the admissions (applied on NOTIFY) before its share of the push.
  for (const p of procs.slice(1)) {
    for (let i = 0; ; i++) {
      const hubs = (await (await req(`${p.url}/v1/heads`)).json()) as { heads: Record<string, number> };
      const headOf = (await (await req(`${(procs[0] as Proc).url}/v1/heads`)).json()) as { heads: Record<string, number> };
      if (JSON.stringify(hubs.heads) === JSON.stringify(headOf.heads)) break;
      if (i > 200) throw new Error('processes disagree on heads');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await new Promise((r) => setTimeout(r, 1500));
  const bodies = bodiesOf(chains);
  const records = chains.reduce((k, c) => k + c.records.length, 0);
  const nodeCpu = () => procs.reduce((t, p) => t + cpuOf(p.child.pid as number), 0);
  const c0 = { node: nodeCpu(), pg: pgDir ? pgCpu(pgDir) : 0, client: process.cpuUsage() };
  const rate = await push(procs, bodies);
  const us = (sec: number) => Math.round((sec * 1e6) / records);
  const clientUs = process.cpuUsage(c0.client);
  const cpu = {
    node: us(nodeCpu() - c0.node),
    pg: pgDir ? us(pgCpu(pgDir) - c0.pg) : 0,
    client: Math.round((clientUs.user + clientUs.system) / records),
  };
  progress(
    `${label}: ${rate.toFixed(0)} records/s; CPU µs a record: node ${cpu.node}, PostgreSQL ${cpu.pg}, client ${cpu.client} (load ${loadavg()[0]?.toFixed(2)})`,
  );
  return {
    rate,
    cpu,
    procs,
    cleanup: async () => {
      for (const p of procs) await stop(p);
      cleanup();
    },
  };
}

progress(`signing ${HUBS * PER_HUB} records × 3 runs`);
const sets = [0, 1, 2].map(() => signChains(HUBS, PER_HUB));
const pg = await startPostgres({ fsync: true });
try {
  const before = bareVerifyRate(sets[0] as Chain[], BARE);
  progress(`bare Ed25519 verify, one core, before: ${before.toFixed(0)}/s`);

  const lite = await ingestRun('SQLite, one process', 1, undefined, sets[0] as Chain[]);
  await lite.cleanup();
  const one = await ingestRun('PostgreSQL, one process', 1, pg.database(), sets[1] as Chain[], pg.dir);
  await one.cleanup();
  const twoUrl = pg.database();
  const two = await ingestRun('PostgreSQL, two processes on one database', 2, twoUrl, sets[2] as Chain[], pg.dir);

  const after = bareVerifyRate(sets[0] as Chain[], BARE);
  progress(`bare Ed25519 verify, one core, after: ${after.toFixed(0)}/s`);
  const verify = (before + after) / 2;

  // Public reads from a second process: autocannon against one of the two processes.
  const [pa, pb] = two.procs as [Proc, Proc];
  const target = `${pa.url}/v1/state/needs?region=4209`;
  const first = await req(target);
  if (first.status !== 200 || !first.headers.get('etag')) throw new Error(`state page: HTTP ${first.status}, etag ${first.headers.get('etag')}`);
  await first.arrayBuffer();
  const bin = join(createRequire(import.meta.url).resolve('autocannon/package.json'), '..', 'autocannon.js');
  // Cached reads with the ETag: each asks If-None-Match, as a browser or a cache in front of the node
  // revalidating the public map does; the state does not change meanwhile, so each is a 304 from the
  // state cache. (Whole pages to readers that are not named are paced in bytes a second, spec/node.md §6:
  // from one address they measure that pace, not the node.)
  const etag = first.headers.get('etag') as string;
  const reads = await new Promise<number>((resolve, reject) => {
    const ac = spawn(process.execPath, [bin, '-c', String(READERS), '-d', String(READ_SECONDS), '-H', `if-none-match=${etag}`, '-j', target], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    ac.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    ac.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}`));
      const r = JSON.parse(out) as { requests: { average: number }; '2xx': number; '3xx': number; '4xx': number; '5xx': number; errors: number };
      if (r['4xx'] > 0 || r['5xx'] > 0 || r.errors > 0 || r['3xx'] === 0)
        return reject(new Error(`autocannon: ${r['3xx']} 304, ${r['4xx']} 4xx, ${r['5xx']} 5xx, ${r.errors} errors`));
      resolve(r.requests.average);
    });
  });
  progress(`public state reads (autocannon, ${READERS} connections, ${READ_SECONDS} s): ${reads.toFixed(0)}/s`);

  // kill -9 of one of the two processes while clients push through both.
  const extra = signChains(4, quick ? 300 : 1200);
  await admit(pb, extra);
  await new Promise((r) => setTimeout(r, 1500));
  const acked = new Set<string>();
  let killed = false;
  let batches = 0;
  await Promise.all(
    extra.map(async (c, ci) => {
      for (let i = 0; i < c.records.length; i += 50) {
        const batch = c.records.slice(i, i + 50);
        for (let attempt = 0; ; attempt++) {
          const p = ci % 2 === 0 && !killed ? pa : pb;
          try {
            const res = await fetch(`${p.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
            if (res.status === 200) {
              const j = (await res.json()) as { acks: { status: string }[] };
              j.acks.forEach((a, k) => {
                if (a.status === 'accepted' || a.status === 'duplicate') acked.add(recordId(batch[k] as (typeof batch)[0]));
              });
              break;
            }
            await res.arrayBuffer();
          } catch {
            // the killed process: the next attempt goes to the survivor
          }
          if (attempt > 100) throw new Error('no process answers');
        }
        if (++batches === 20 && !killed) {
          await stop(pa, 'SIGKILL');
          killed = true;
          progress('killed one process (SIGKILL)');
        }
      }
    }),
  );
  const db = new PostgresStore(twoUrl, { pollMs: 0 });
  const lost = [...acked].filter((id) => !db.hasRecord(id)).length;
  const total = extra.reduce((n, c) => n + c.records.length, 0);
  db.close();
  progress(`kill -9 run: ${acked.size} of ${total} acknowledged, ${lost} of them missing from the database`);
  if (acked.size !== total) throw new Error(`only ${acked.size} of ${total} records acknowledged`);
  await two.cleanup();

  report('national', {
    pg_ingest_ratio: Number((one.rate / verify).toFixed(3)),
    pg_over_sqlite: Number((one.rate / lite.rate).toFixed(3)),
    two_process_over_one: Number((two.rate / one.rate).toFixed(3)),
    public_reads_per_s: Math.round(reads),
    lost,
    pg_ingest_per_s: Math.round(one.rate),
    sqlite_ingest_per_s: Math.round(lite.rate),
    two_process_ingest_per_s: Math.round(two.rate),
    verify_per_s_1core: Math.round(verify),
    // CPU µs per record during the push (every thread of the node processes; the PostgreSQL server; this client).
    cpu_us_per_record_node_pg: one.cpu.node,
    cpu_us_per_record_server_pg: one.cpu.pg,
    cpu_us_per_record_client_pg: one.cpu.client,
    cpu_us_per_record_node_two: two.cpu.node,
    cpu_us_per_record_server_two: two.cpu.pg,
    cpu_us_per_record_node_sqlite: lite.cpu.node,
    load_average_1min: Number((loadavg()[0] as number).toFixed(2)),
  });
} finally {
  pg.destroy();
}
