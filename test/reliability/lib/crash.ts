// kill -9 of a node process while clients push to it at full speed, at random moments.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SignedRecord } from '@shuniu/protocol';
import { HubNode, initDataDir } from '../../../nodes/hub/src/node.js';
import { SqliteStore } from '../../../nodes/hub/src/store/sqlite.js';
import { needBody, prng, replay, sleep, TestHub, tempDir } from './harness.js';

export const CLI = fileURLToPath(new URL('../../../nodes/hub/dist/cli.js', import.meta.url));

/** Starts `shuniu start` as a child process; resolves once it printed its URL. */
export async function startProcess(dir: string, port: number, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run tsc --build first`);
  const child = spawn(process.execPath, [CLI, 'start', '--dir', dir, '--port', String(port), '--quiet'], {
    env: { ...process.env, SHUNIU_PULL_INTERVAL_MS: '0', ...env },
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
  return { child, url };
}

export function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export interface CrashStats {
  kills: number;
  pushed: number;
  acked: number;
  missing: string[];
  broken: string[];
  storedHash: string;
  replayHash: string;
  integrity: string;
  records: number;
  pushErrors: number;
}

/**
 * `hubs` clients push their chains (`perHub` records, batches of `batch`) as
 * fast as the node answers; the node is killed with SIGKILL `kills` times at
 * random moments and restarted on its port. Finally killed once more and
 * opened in process: every acknowledged record must be there, every chain
 * must verify from its inception, and the state must equal a fresh
 * resolver's over the same records.
 */
export async function runCrash(o: {
  kills: number;
  hubs: number;
  perHub: number;
  batch: number;
  seed: number;
  /** A PostgreSQL URL (spec/node.md §10.5); SQLite in the data directory when absent. */
  store?: string;
}): Promise<CrashStats> {
  const env: Record<string, string> = { SHUNIU_RATE_PER_SECOND: '0', ...(o.store ? { SHUNIU_STORE: o.store } : {}) };
  const overrides = o.store ? { store: o.store } : {};
  const rand = prng(o.seed);
  const { dir, cleanup } = tempDir();
  try {
    await initDataDir({ dir, name: '湖北省枢纽', level: 'province', region: '420000', port: 0 });
    const clients: TestHub[] = [];
    for (let i = 0; i < o.hubs; i++) clients.push(await TestHub.make());
    {
      const node = await HubNode.open(dir, { threads: 0, log: () => {}, overrides });
      for (const c of clients) await node.publisher.publish('hub.admitted', { child: c.id, level: 'county', region: '420902' });
      await node.close();
    }
    for (const c of clients) for (let i = 1; i < o.perHub; i++) c.sign('need.posted', needBody({ quantity: 1 + (i % 900) }));

    let proc = await startProcess(dir, 0, env);
    const port = Number(new URL(proc.url).port);
    const acked = new Set<string>();
    let pushErrors = 0;
    let stop = false;

    const pushChain = async (records: SignedRecord[]) => {
      let i = 0;
      while (i < records.length && !stop) {
        const slice = records.slice(i, i + o.batch);
        try {
          const res = await fetch(`${proc.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(slice) });
          if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
          const { acks } = (await res.json()) as { acks: { status: string; id: string }[] };
          for (const a of acks) if (a.status === 'accepted' || a.status === 'duplicate') acked.add(a.id);
          if (acks.every((a) => a.status === 'accepted' || a.status === 'duplicate')) i += o.batch;
        } catch {
          // Connection refused or reset by the kill: retry the same batch once the node is back.
          pushErrors++;
          await sleep(20);
        }
      }
    };
    const pushing = Promise.all(clients.map((c) => pushChain(c.records)));

    let kills = 0;
    for (; kills < o.kills; kills++) {
      await sleep(100 + Math.floor(rand() * 900));
      await kill9(proc.child);
      proc = await startProcess(dir, port, env);
    }
    await pushing;
    stop = true;
    await kill9(proc.child);
    kills++;

    const node = await HubNode.open(dir, { threads: 0, log: () => {}, overrides });
    try {
      const integrity = node.store instanceof SqliteStore ? String(node.store.db.pragma('integrity_check', { simple: true })) : 'n/a (PostgreSQL)';
      const missing = [...acked].filter((id) => !node.store.hasRecord(id));
      const r = replay(node);
      const pushed = clients.reduce((n, c) => n + c.records.length, 0);
      return {
        kills,
        pushed,
        acked: acked.size,
        missing,
        broken: r.broken,
        storedHash: node.ingestor.engine.stateHash(),
        replayHash: r.hash,
        integrity,
        records: node.store.maxOrd(),
        pushErrors,
      };
    } finally {
      await node.close();
    }
  } finally {
    cleanup();
  }
}
