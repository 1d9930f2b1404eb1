// `pnpm bench resolve [--quick]`: applies 10k, 100k and 1M generated records
// to a fresh Resolver each and computes the state hash. Records are well
// formed but unsigned (fake sig, precomputed ids): the resolver never
// verifies, so this measures resolution alone. Reference measured in the
// same run: inserting the same number of ids into a bare Map.
import type { BodyOf, RecordType, SignedRecord, Verified } from '@shuniu/protocol';
import { assumeVerified } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { progress, quick, report } from './report.js';

const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
/** A random 43-character base64url id whose last character is canonical for 32 bytes. */
function fakeId(): string {
  let s = '';
  for (let i = 0; i < 42; i++) s += A[(rnd() * 64) | 0];
  return s + 'AEIMQUYcgkosw048'[(rnd() * 16) | 0];
}
const SIG = `${'x'.repeat(85)}A`;
const T0 = Date.UTC(2020, 0, 24, 8);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface GenHub {
  id: string;
  seq: number;
  prev: string | null;
  ms: number;
}

const ITEMS = ['PPE.MASK.N95', 'PPE.MASK.SURGICAL', 'PPE.GOWN', 'MED.GLOVE', 'FOOD.VEG', 'FOOD.RICE', 'MED.THERMOMETER', 'DAILY.DISINFECTANT'].map((code) => ({
  code,
  name: code,
}));
const UNIT = { name: 'box', base: 'piece', size: 50 };
const BENEF = { group: 'medical_staff' as const, count: 300 };
const DONOR = { name: '壹基金', kind: 'foundation' as const };
const INTENT = { regions: ['42'] };
const CARRIER = { name: '包车', kind: 'chartered_truck' as const };

/** Generates `n` records: a hub tree (province root, cities, counties, foundations) then cycles of need → offer → allocation → acceptance → handoff → receipt → delivery. */
function generate(n: number): { roots: string[]; records: Verified[] } {
  const out: Verified[] = [];
  let clock = T0;
  const mk = <T extends RecordType>(h: GenHub, type: T, body: BodyOf<T>): string => {
    const id = fakeId();
    clock += 1000;
    h.ms = clock;
    const record = { v: 1, type, hub: h.id, seq: h.seq, prev: h.prev, hlc: { ms: clock, c: 0 }, body, sig: SIG } as unknown as SignedRecord;
    out.push(assumeVerified(record, id));
    h.seq++;
    h.prev = id;
    return id;
  };
  const newHub = (): GenHub => {
    const h: GenHub = { id: fakeId(), seq: 0, prev: null, ms: clock };
    mk(h, 'hub.inception', { signingKey: fakeId(), encryptionKey: fakeId(), recoveryCommitment: fakeId(), created: iso(T0) });
    return h;
  };
  const root = newHub();
  mk(root, 'hub.profile', { name: { zh: '湖北枢纽' }, level: 'province', region: '420000', endpoints: [] });
  const cities = Array.from({ length: 16 }, () => newHub());
  for (const c of cities) mk(root, 'hub.admitted', { child: c.id, level: 'city', region: '420900' });
  const counties = Array.from({ length: 100 }, () => newHub());
  counties.forEach((c, i) => {
    mk(cities[i % cities.length] as GenHub, 'hub.admitted', { child: c.id, level: 'county', region: '420902' });
  });
  const founds = Array.from({ length: 20 }, () => newHub());
  for (const f of founds) mk(root, 'hub.admitted', { child: f.id, level: 'org', region: '420000' });

  const pick = <T>(xs: T[]): T => xs[(rnd() * xs.length) | 0] as T;
  let k = 0;
  let lastNeed: string | undefined;
  while (out.length < n) {
    k++;
    const county = pick(counties);
    const found = pick(founds);
    const item = pick(ITEMS);
    const need = mk(county, 'need.posted', {
      item,
      quantity: 100,
      unit: UNIT,
      urgency: 'high',
      neededBy: iso(T0 + ((k % 60) + 5) * 86_400_000),
      region: '420902',
      beneficiaries: BENEF,
      requester: { name: `医院 ${k % 5000}`, kind: 'hospital' },
    });
    const offer = mk(found, 'offer.posted', {
      kind: 'goods',
      item,
      quantity: 150,
      unit: UNIT,
      valueFen: 1_000_000,
      donor: DONOR,
      intent: INTENT,
      region: '420900',
    });
    const alloc = mk(found, 'allocation', { offer, need, quantity: 5000 });
    // Every fourth offer is also promised to the previous need: over-allocation and over-fulfilment.
    if (lastNeed && k % 4 === 0) mk(found, 'allocation', { offer, need: lastNeed, quantity: 5000 });
    lastNeed = need;
    mk(county, 'allocation.accepted', { allocation: alloc });
    const handoff = mk(found, 'custody.handoff', {
      shipment: `SH-${k}`,
      from: found.id,
      to: county.id,
      lines: [{ item, quantity: 100, unit: UNIT }],
      carrier: CARRIER,
      expectedArrival: iso(clock + 2 * 86_400_000),
      allocations: [alloc],
    });
    mk(county, 'custody.receipt', { handoff, lines: [{ line: 0, accepted: 98, rejected: 0, missing: 2 }], received: iso(clock + 86_400_000) });
    mk(county, 'custody.delivered', {
      need,
      handoffs: [handoff],
      lines: [{ item, quantity: 90, unit: UNIT }],
      recipient: { name: `医院 ${k % 5000}`, kind: 'hospital' },
      peopleServed: 300,
      delivered: iso(clock + 86_400_000),
    });
    if (k % 3 === 0) mk(county, 'need.updated', { need, quantity: 120 });
  }
  out.length = n;
  return { roots: [root.id], records: out };
}

/** Times apply() of every record plus the derivation of the state (stats() flushes); the state hash is timed apart. */
function run(n: number): { perS: number; ms: number; hashMs: number; stats: Record<string, number> } {
  const { roots, records } = generate(n);
  progress(`generated ${n} records`);
  const t0 = performance.now();
  const r = new Resolver({ roots });
  for (const v of records) r.apply(v);
  const tA = performance.now();
  const stats = r.stats();
  const ms = performance.now() - t0;
  const tB = performance.now();
  r.stateHash();
  const hashMs = performance.now() - tB;
  progress(
    `${n} records: apply ${(tA - t0).toFixed(0)} ms + derive ${(tB - tA).toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)} records/s; state hash ${hashMs.toFixed(0)} ms; ${JSON.stringify(stats)}`,
  );
  return { perS: (n / ms) * 1000, ms, hashMs, stats };
}

function baseline(n: number): number {
  const ids = Array.from({ length: n }, () => fakeId());
  const t0 = performance.now();
  const m = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) m.set(ids[i] as string, i);
  return (n / (performance.now() - t0)) * 1000;
}

const sizes = quick ? [1_000, 10_000, 100_000] : [10_000, 100_000, 1_000_000];
const [s10k, s100k, s1m] = sizes.map((n) => run(n)) as [ReturnType<typeof run>, ReturnType<typeof run>, ReturnType<typeof run>];
const mapPerS = baseline(sizes[2] as number);
report('resolve', {
  records_per_s_10k: Math.round(s10k.perS),
  records_per_s_100k: Math.round(s100k.perS),
  records_per_s_1m: Math.round(s1m.perS),
  peak_rss_mb_1m: Math.round(process.resourceUsage().maxRSS / 1024),
  time_ratio_1m_over_100k: Number((s1m.ms / s100k.ms).toFixed(2)),
  state_hash_ms_1m: Math.round(s1m.hashMs),
  conflicts_1m: s1m.stats.conflicts ?? 0,
  map_set_per_s_1m: Math.round(mapPerS),
  ratio_map_over_resolve_1m: Number((mapPerS / s1m.perS).toFixed(1)),
});
