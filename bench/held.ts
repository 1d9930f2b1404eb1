// `pnpm bench held [--quick]` (issue 11 point 2): what strangers can make a node keep in its
// holding area. One node in this process (defaults: maxHeldBytes 256 MiB, a tenth per sender),
// pushed to over loopback from several addresses (senders are per address, spec/node.md §3.1).
//
// junk_1mb: the attack of the issue — a hub nobody admitted pushes its inception and 56 needs
// with 1 MB sealed parts (5 a request). Before (issue 11): all held, +63 MB of database. Now:
// refused by the size limit of the sealed part (spec/encoding.md §4, E_SCHEMA).
// max_chains: the worst a stranger can still do — from 12 addresses, a fresh hub each, its
// inception and then records at the size limits (~61 KB signed, a 196 KB sealed payload:
// ~330 KB of text each), in seq order (a verifiable inception chain), 20 a request, until
// refused. Held bytes stop at the sender's share and at the area's bound.
//
// Metrics: junk_1mb_held, junk_1mb_held_bytes, junk_1mb_db_growth_mb, held_bytes_max (the
// area's bytes at the end), held_bytes_sender_max, max_chains_db_growth_mb, max_chains_held,
// max_chains_refused, push_ms_p50 (per 20-record request).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready, type SignedRecord } from '@shuniu/protocol';
import { HubNode, initDataDir } from '../nodes/hub/src/node.js';
import { maxRecord, push as pushTo, stranger } from './hostile/junk.js';
import { progress, quick, report } from './report.js';

await ready();
const dir = mkdtempSync(join(tmpdir(), 'shuniu-bench-held-'));
await initDataDir({ dir, name: '湖北省枢纽', level: 'province', region: '420000', port: 0 });
const node = await HubNode.open(dir, { log: () => {}, threads: 1, overrides: { federation: { pullIntervalMs: 0 } } });
const url = await node.listen(0);
const push = (addr: string, records: SignedRecord[]) => pushTo(url, addr, records);

const size = (f: string) => {
  try {
    return statSync(join(dir, f)).size;
  } catch {
    return 0;
  }
};
const dbBytes = () => size('hub.db') + size('hub.db-wal');
const held = () => {
  const s = node.store.heldSummary();
  return { records: s.reduce((n, x) => n + x.records, 0), bytes: s.reduce((n, x) => n + x.bytes, 0), senders: s };
};

const metrics: Record<string, number> = {};

// --- junk_1mb -----------------------------------------------------------------------------------
{
  const s = stranger();
  const records: SignedRecord[] = [s.inception];
  for (let i = 0; i < 56; i++) records.push(s.oversized(i, 1_000_000));
  const db0 = dbBytes();
  const h0 = held();
  const codes = new Map<string, number>();
  for (let i = 0; i < records.length; i += 5) {
    for (const a of await push('127.0.0.30', records.slice(i, i + 5)))
      codes.set(`${a.status} ${a.code ?? ''}`, (codes.get(`${a.status} ${a.code ?? ''}`) ?? 0) + 1);
  }
  const h1 = held();
  metrics.junk_1mb_held = h1.records - h0.records;
  metrics.junk_1mb_held_bytes = h1.bytes - h0.bytes;
  metrics.junk_1mb_db_growth_mb = Math.round(((dbBytes() - db0) / 2 ** 20) * 10) / 10;
  progress(`junk_1mb: ${JSON.stringify(Object.fromEntries(codes))}, held +${metrics.junk_1mb_held_bytes} bytes, db +${metrics.junk_1mb_db_growth_mb} MB`);
}

// --- max_chains ---------------------------------------------------------------------------------
{
  const senders = quick ? 3 : 12;
  const db0 = dbBytes();
  let refused = 0;
  const times: number[] = [];
  for (let k = 0; k < senders; k++) {
    const s = stranger();
    const addr = `127.0.0.${31 + k}`;
    let first = true;
    for (let i = 0; ; i += 20) {
      const batch: SignedRecord[] = first ? [s.inception] : [];
      first = false;
      while (batch.length < 20) batch.push(maxRecord(s, i + batch.length));
      const t0 = performance.now();
      const acks = await push(addr, batch);
      times.push(performance.now() - t0);
      const bad = acks.filter((a) => a.status !== 'held').length;
      refused += bad;
      if (bad > 0) break;
    }
    const h = held();
    progress(`max_chains: sender ${k + 1}/${senders} ${addr}: area ${h.records} records, ${(h.bytes / 2 ** 20).toFixed(1)} MiB`);
  }
  const h = held();
  metrics.held_bytes_max = h.bytes;
  metrics.held_bytes_sender_max = Math.max(...h.senders.map((x) => x.bytes));
  metrics.max_chains_held = h.records;
  metrics.max_chains_refused = refused;
  metrics.max_chains_db_growth_mb = Math.round((dbBytes() - db0) / 2 ** 20);
  metrics.push_ms_p50 = Math.round([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number);
}

await node.close();
rmSync(dir, { recursive: true, force: true });
report('held', metrics);
