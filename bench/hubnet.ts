// Shared by bench/ingest.ts and bench/catchup.ts: signed workloads and in-process nodes on loopback.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Author, type BodyOf, createHub, ed25519Verify, fromBase64url, type SignedRecord, signedBytes } from '@shuniu/protocol';
import { HubNode, initDataDir } from '../nodes/hub/src/node.js';

export interface Chain {
  id: string;
  records: SignedRecord[];
}

const need = (i: number): BodyOf<'need.posted'> => ({
  item: { code: 'PPE.MASK.MEDICAL', name: '医用外科口罩' },
  quantity: 1 + (i % 500),
  unit: { name: 'box', base: 'piece', size: 50 },
  urgency: (['critical', 'high', 'normal', 'low'] as const)[i % 4] as 'critical',
  neededBy: '2020-02-10T00:00:00Z',
  region: ['420902', '420984', '420100', '421100'][i % 4] as string,
  beneficiaries: { group: 'medical_staff', count: 10 + (i % 300) },
  requester: { name: `医院 ${i % 97}`, kind: 'hospital' },
});

/** `hubs` chains with `perHub` records each (inception + needs), timestamps in the recent past. */
export function signChains(hubs: number, perHub: number, onProgress?: (n: number) => void): Chain[] {
  const out: Chain[] = [];
  let n = 0;
  for (let h = 0; h < hubs; h++) {
    let t = Date.now() - 3_600_000;
    const hub = createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: t, c: 0 } });
    const author = Author.fromNewHub(hub, () => ++t);
    const records: SignedRecord[] = [hub.inception];
    for (let i = 1; i < perHub; i++) {
      records.push(author.sign('need.posted', need(i)).record);
      if (++n % 10_000 === 0) onProgress?.(n);
    }
    out.push({ id: hub.id, records });
  }
  return out;
}

/** Bare single-core Ed25519 verification rate (libsodium), on the same kind of records. */
export function bareVerifyRate(chains: Chain[], count: number): number {
  const jobs: { sig: Uint8Array; msg: Uint8Array; pk: Uint8Array }[] = [];
  for (const c of chains) {
    const pk = fromBase64url((c.records[0] as SignedRecord & { body: { signingKey: string } }).body.signingKey);
    for (const r of c.records) {
      if (jobs.length >= count) break;
      jobs.push({ sig: fromBase64url(r.sig), msg: signedBytes(r), pk });
    }
  }
  const t0 = performance.now();
  let ok = 0;
  for (const j of jobs) if (ed25519Verify(j.sig, j.msg, j.pk)) ok++;
  const s = (performance.now() - t0) / 1000;
  if (ok !== jobs.length) throw new Error('bare verification failed');
  return jobs.length / s;
}

export async function rootNode(name: string): Promise<{ node: HubNode; url: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'shuniu-bench-'));
  await initDataDir({ dir, name, level: 'province', region: '420000', port: 0 });
  return openNode(dir);
}

export async function openNode(dir: string): Promise<{ node: HubNode; url: string; cleanup: () => Promise<void> }> {
  const node = await HubNode.open(dir, {
    log: () => {},
    overrides: { federation: { pullIntervalMs: 0 }, limits: { ratePerSecond: 0, batchRecords: 5000 }, checkpointEvery: 0 },
  });
  const url = await node.listen(0);
  return {
    node,
    url,
    cleanup: async () => {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function admitAll(node: HubNode, chains: Chain[]): Promise<void> {
  for (const c of chains) {
    const { ack } = await node.publisher.publish('hub.admitted', { child: c.id, level: 'org', region: '420902' });
    if (ack.status !== 'accepted') throw new Error(`admission failed: ${JSON.stringify(ack)}`);
  }
}

/**
 * CPU time (µs) of each thread of this process, by thread id, and the time it waited, runnable, for a
 * core (/proc schedstat: what other processes on a loaded machine took), from /proc (Linux; empty
 * elsewhere). The main thread's id is the process id; the ingest workers are the other busy ones.
 */
export function threadCpu(): Map<number, { cpu: number; wait: number }> {
  const out = new Map<number, { cpu: number; wait: number }>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ');
      out.set(Number(t), { cpu: Number(run) / 1000, wait: Number(wait) / 1000 });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * Per-thread CPU between two threadCpu() readings, µs per record, busiest first after the main
 * thread, then the time all of them waited for a core: "main 44, 99, 90, …; waited 60".
 */
export function threadCpuPerRecord(
  before: Map<number, { cpu: number; wait: number }>,
  after: Map<number, { cpu: number; wait: number }>,
  records: number,
): string {
  const rows: [number, number][] = [];
  let wait = 0;
  for (const [t, v] of after) {
    const b = before.get(t) ?? { cpu: 0, wait: 0 };
    wait += v.wait - b.wait;
    const d = (v.cpu - b.cpu) / records;
    if (d >= 0.5) rows.push([t, d]);
  }
  rows.sort((a, b) => Number(b[0] === process.pid) - Number(a[0] === process.pid) || b[1] - a[1]);
  return `${rows.map(([t, d]) => `${t === process.pid ? 'main ' : ''}${d.toFixed(0)}`).join(', ')}; waited for a core ${(wait / records).toFixed(0)}`;
}
