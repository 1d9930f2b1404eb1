/**
 * Random record sets for the differential test of the Resolver against the
 * reference model: real signed records from a list of steps, with hubs
 * admitted, revoked and re-admitted in scope and out of it, forks, ordinary
 * key rotations, recoveries (competing, vouched in time and too late), likely
 * duplicate needs, allocations and decisions, custody with rejections,
 * corrections of handoffs, receipts and deliveries, lots, and time passing
 * (expiry, overdue). The records come out in the order they were signed; the
 * test shuffles them.
 */
import {
  assumeVerified,
  type BodyOf,
  createHub,
  type HubLevel,
  PROTOCOL_VERSION,
  publicKeysOf,
  recordId,
  signRecord,
  type UnsignedRecord,
  type Verified,
} from '@shuniu/protocol';
import fc from 'fast-check';
import { DAY, iso, seedsFor, T0, World, type WorldHub } from '../../../../spec/tools/resolution/world.js';

export type Step = [number, number, number, number];

/** 16 kinds of step, each reading three numbers; the first number picks the kind, objects and allocations more often than the rest (KINDS). */
export const stepsArb: fc.Arbitrary<Step[]> = fc.array(fc.tuple(fc.nat(33), fc.nat(60), fc.nat(60), fc.nat(60)), { minLength: 5, maxLength: 80, size: 'max' });

/** Step kind by first number: 0 need, 1 offer, 2 allocation, 3 decision, 4 handoff, 5 receipt, 6 handoff correction, 7 delivery, 8 need change, 9 offer change, 10 fork and recovery, 11 admission, 12 revocation, 13 profile, 14 rotation or vouch, 15 time, 16 bundle (post, update, fund). */
const KINDS = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 0, 2, 1, 16, 16];

const ITEMS = ['PPE.MASK.N95', 'MED.GLOVE'];
const LEVELS: HubLevel[] = ['city', 'county', 'org', 'province', 'national'];
const REGIONS = ['420900', '420902', '420981', '420000', '430000', '110000', '420102'];
const REQUESTERS = [
  { name: '孝南区人民医院', kind: 'hospital' as const },
  { name: '某社区', kind: 'community' as const },
  { name: '孝南区人民医院', kind: 'community' as const },
];
const HOUR = 3600 * 1000;

interface Obj {
  id: string;
  hub: WorldHub;
  item: string;
}
interface Handoff {
  id: string;
  first: string;
  from: WorldHub;
  to: WorldHub;
  lines: BodyOf<'custody.handoff'>['lines'];
  allocations: string[];
}

/** A recovery rotation at `after.seq + 1` signed with the hub's recovery key, without moving any author: the thief's competing recovery. */
function competingRecovery(w: World, h: WorldHub, after: { seq: number; id: string }, gen: number): string {
  const next = createHub({ seeds: seedsFor(h.label, gen), created: iso(T0), hlc: { ms: T0, c: 0 } });
  const body: BodyOf<'hub.keys.rotated'> = {
    ...publicKeysOf(next.keys),
    recovery: { key: Buffer.from(h.hub.keys.recovery.publicKey).toString('base64url') },
  };
  w.t += 60_000;
  const unsigned = { v: PROTOCOL_VERSION, type: 'hub.keys.rotated', hub: h.id, seq: after.seq + 1, prev: after.id, hlc: { ms: w.t, c: 0 }, body };
  const record = signRecord(unsigned as unknown as UnsignedRecord, h.hub.keys.recovery.secretKey);
  const id = recordId(record);
  w.records.push({ id, record });
  return id;
}

export function buildRecords(steps: Step[]): { roots: string[]; records: Verified[] } {
  const w = new World();
  const root = w.hub('root');
  const hubs: WorldHub[] = [];
  for (let i = 0; i < 6; i++) hubs.push(w.hub(`h${i}`));
  const outsider = w.hub('outsider'); // never admitted: its records are held
  // A starting tree; steps add, revoke and re-admit.
  w.admit(root, hubs[0] as WorldHub, 'city', '420900');
  w.admit(root, hubs[1] as WorldHub, 'org', '420000');
  w.admit(hubs[0] as WorldHub, hubs[2] as WorldHub, 'county', '420902');
  // Hubs admitted from the start act more often.
  const actors = [root, ...hubs, outsider, hubs[0] as WorldHub, hubs[1] as WorldHub, hubs[2] as WorldHub, root, hubs[2] as WorldHub];
  const admitters = [root, ...hubs];
  const admittedBy = new Map<WorldHub, WorldHub>([
    [hubs[0] as WorldHub, root],
    [hubs[1] as WorldHub, root],
    [hubs[2] as WorldHub, hubs[0] as WorldHub],
  ]);
  const gens = new Map<WorldHub, number>();
  const nextGen = (h: WorldHub) => {
    const g = (gens.get(h) ?? 0) + 1;
    gens.set(h, g);
    return g;
  };
  const needs: Obj[] = [];
  const offers: Obj[] = [];
  const allocs: { id: string; need: Obj; offer: Obj }[] = [];
  const handoffs: Handoff[] = [];
  const receipts: { id: string; by: WorldHub; handoff: Handoff }[] = [];
  const deliveries: { id: string; by: WorldHub; need: Obj; handoff: Handoff }[] = [];
  const recoveries: { id: string; hub: WorldHub }[] = [];
  const bundles: string[] = [];
  const pick = <T>(xs: T[], k: number): T | undefined => (xs.length === 0 ? undefined : xs[k % xs.length]);

  for (const [k, a, b, c] of steps) {
    const op = KINDS[k % KINDS.length] as number;
    const h = actors[a % actors.length] as WorldHub;
    const itemCode = ITEMS[b % 2] as string;
    const item = { code: itemCode, name: 'x' };
    switch (op) {
      case 0: {
        const requester = REQUESTERS[b % 3] as (typeof REQUESTERS)[number];
        const id = w.need(h, { item, quantity: 1 + (c % 20), neededBy: iso(T0 + (c % 12) * DAY + (a % 3) * HOUR), requester });
        needs.push({ id, hub: h, item: itemCode });
        break;
      }
      case 1: {
        const id = w.offer(h, { item, quantity: 1 + (c % 30), intent: c % 5 === 0 ? { validUntil: iso(T0 + (c % 4) * DAY) } : { regions: ['42'] } });
        offers.push({ id, hub: h, item: itemCode });
        break;
      }
      case 2: {
        const o = pick(offers, b);
        // Mostly a need of the offer's item; sometimes any (item_mismatch).
        const n =
          o && c % 9 !== 0
            ? (pick(
                needs.filter((x) => x.item === o.item),
                c,
              ) ?? pick(needs, c))
            : pick(needs, c);
        if (o && n) allocs.push({ id: w.allocate(c % 7 === 0 ? h : o.hub, o.id, n.id, 50 * (1 + (a % 12))), need: n, offer: o });
        break;
      }
      case 3: {
        const x = pick(allocs, b);
        if (x) w.sign(c % 5 === 0 ? h : x.need.hub, c % 3 === 0 ? 'allocation.declined' : 'allocation.accepted', { allocation: x.id });
        break;
      }
      case 4: {
        // A handoff: usually of an allocation to its need's hub, sometimes a second receiver, a lot, two lines.
        const x = pick(allocs, b);
        const from = x && c % 6 !== 0 ? x.offer.hub : h;
        const to = x && c % 4 !== 0 ? x.need.hub : (actors[(a + c) % actors.length] as WorldHub);
        const lines: BodyOf<'custody.handoff'>['lines'] = [
          {
            item: { code: x?.need.item ?? itemCode, name: 'x' },
            quantity: 1 + (c % 10),
            unit: { name: 'box', base: 'piece', size: 50 },
            ...(c % 3 === 0 ? { lot: `L${b % 2}` } : {}),
          },
        ];
        if (c % 5 === 1)
          lines.push({ item: { code: ITEMS[(b + 1) % 2] as string, name: 'y' }, quantity: 1 + (a % 4), unit: { name: 'pair', base: 'piece', size: 2 } });
        const allocations = x ? (c % 8 === 0 ? [x.id, (pick(allocs, c) as { id: string }).id] : [x.id]) : [];
        const id = w.handoff(from, to, [...new Set(allocations)], 1, { lines, from: c % 11 === 0 ? to.id : from.id, expectedArrival: iso(T0 + (c % 3) * DAY) });
        handoffs.push({ id, first: id, from, to, lines, allocations: [...new Set(allocations)] });
        break;
      }
      case 5: {
        // A receipt: usually by the receiver and accounting for every line, sometimes short, a line twice or out of range; sometimes correcting the last one.
        const x = pick(handoffs, b);
        if (!x) break;
        const by = c % 6 === 0 ? h : x.to;
        const lines = x.lines.map((l, i) => {
          const rejected = c % 4 === 1 ? Math.min(1, l.quantity) : 0;
          const missing = c % 4 === 2 && l.quantity - rejected > 0 ? 1 : 0;
          const short = c % 5 === 0 ? 1 : 0;
          const accepted = Math.max(0, l.quantity - rejected - missing - short);
          return { line: i, accepted, rejected, missing, ...(rejected > 0 ? { rejectReason: 'damaged' as const } : {}) };
        });
        if (c % 13 === 0) lines.push({ ...(lines[0] as (typeof lines)[number]) });
        if (c % 17 === 0) lines.push({ line: 7, accepted: 1, rejected: 0, missing: 0 });
        const prior = receipts.filter((r) => r.handoff.first === x.first && r.by === by).at(-1);
        const handoff = (
          pick(
            handoffs.filter((y) => y.first === x.first),
            a,
          ) as Handoff
        ).id;
        const id = w.receipt(by, handoff, 0, 0, 0, { lines, ...(prior && a % 2 === 0 ? { corrects: prior.id } : {}) });
        receipts.push({ id, by, handoff: x });
        break;
      }
      case 6: {
        // A handoff correction: by the first handoff's author (sometimes another hub), new quantities, sometimes a new receiver.
        const x = pick(handoffs, b);
        if (!x) break;
        const by = c % 5 === 0 ? h : x.from;
        const to = c % 3 === 0 ? (actors[(a + 1) % actors.length] as WorldHub) : x.to;
        const lines = x.lines.map((l) => ({ ...l, quantity: 1 + ((l.quantity + c) % 9) }));
        const id = w.handoff(by, to, x.allocations, 1, { lines, from: x.from.id, corrects: x.id, shipment: `SH-fix-${x.first.slice(0, 4)}` });
        handoffs.push({ ...x, id, to, lines });
        break;
      }
      case 7: {
        const x = pick(handoffs, c);
        const n = pick(needs, b);
        if (!x || !n) break;
        const by = a % 5 === 0 ? h : x.to;
        // Usually correcting the author's own last delivery; sometimes another hub's (which supersedes nothing).
        const prior = (c % 7 === 3 ? deliveries.filter((d) => d.by !== by) : deliveries.filter((d) => d.by === by)).at(-1);
        const lines = [{ item: { code: c % 4 === 0 ? itemCode : n.item, name: 'x' }, quantity: 1 + (c % 6), unit: { name: 'box', base: 'piece', size: 50 } }];
        const id = w.delivered(by, n.id, [x.id], 1, { lines, ...(prior && a % 3 === 0 ? { corrects: prior.id } : {}) });
        deliveries.push({ id, by, need: n, handoff: x });
        break;
      }
      case 8: {
        const n = pick(needs, b);
        if (!n) break;
        const by = c % 4 === 0 ? h : n.hub;
        if (c % 3 === 0) w.sign(by, 'need.closed', { need: n.id, reason: (['cancelled', 'fulfilled', 'expired'] as const)[a % 3] as 'cancelled' });
        else
          w.sign(by, 'need.updated', {
            need: n.id,
            ...(c % 2 === 0 ? { quantity: 1 + (c % 15) } : { urgency: 'high' as const }),
            ...(a % 4 === 0 ? { neededBy: iso(T0 + (a % 9) * DAY) } : {}),
            ...(a % 5 === 0 ? { beneficiaries: { group: 'patients' as const, count: a } } : {}),
          });
        break;
      }
      case 9: {
        const o = pick(offers, b);
        if (!o) break;
        const by = c % 4 === 0 ? h : o.hub;
        if (c % 5 === 0) w.sign(by, 'offer.withdrawn', { offer: o.id });
        else w.sign(by, 'offer.updated', { offer: o.id, ...(c % 2 === 0 ? { quantity: 1 + (c % 10) } : { valueFen: c * 100 }) });
        break;
      }
      case 10: {
        // A fork: a thief signs at the hub's head, the owner too; sometimes the owner recovers, the thief recovers as well, and someone vouches.
        const head = { ...h.author.head };
        const thief = w.thief(h);
        w.need(thief, { requester: { name: 'thief', kind: 'other' } });
        if (b % 2 === 0) w.need(thief, { requester: { name: 'thief', kind: 'other' } });
        if (c % 5 !== 4) w.need(h, { requester: { name: 'owner', kind: 'other' } });
        if (c % 3 === 0) break;
        const owner = w.recover(h, head, nextGen(h));
        recoveries.push({ id: owner, hub: h });
        if (c % 3 === 1) recoveries.push({ id: competingRecovery(w, h, head, 90 + nextGen(h)), hub: h });
        if (b % 3 !== 2) w.need(h, { requester: { name: 'owner', kind: 'other' } });
        break;
      }
      case 11: {
        // An admission, in scope or not, by any hub of any hub.
        const by = admitters[a % admitters.length] as WorldHub;
        const child = hubs[b % hubs.length] as WorldHub;
        if (child === by) break;
        w.admit(by, child, LEVELS[c % LEVELS.length] as HubLevel, REGIONS[(c >> 2) % REGIONS.length] as string);
        admittedBy.set(child, by);
        break;
      }
      case 12: {
        const child = hubs[b % hubs.length] as WorldHub;
        const by = c % 3 === 0 ? (admitters[a % admitters.length] as WorldHub) : admittedBy.get(child);
        if (by && by !== child) w.sign(by, 'hub.admission.revoked', { child: child.id });
        break;
      }
      case 13: {
        const who = c % 2 === 0 ? root : h;
        w.profile(who, LEVELS[(c >> 1) % LEVELS.length] as HubLevel, REGIONS[b % REGIONS.length] as string, `P${c}`);
        break;
      }
      case 14: {
        // An ordinary key rotation, or a vouch for a recovery (by the admitter or another hub, in time or 73 hours late).
        if (c % 2 === 0) {
          const next = createHub({ seeds: seedsFor(h.label, 50 + nextGen(h)), created: iso(T0), hlc: { ms: T0, c: 0 } });
          w.sign(h, 'hub.keys.rotated', publicKeysOf(next.keys));
          h.author.useKey(next.keys.signing.secretKey);
        } else {
          const r = pick(recoveries, b);
          if (!r) break;
          const by = a % 3 === 0 ? h : (admittedBy.get(r.hub) ?? root);
          if (a % 4 === 1) w.t += 73 * HOUR;
          w.sign(by, 'attestation', { subject: r.id, kind: 'recovery_vouched', result: a % 7 === 6 ? 'fail' : 'pass' });
        }
        break;
      }
      case 16: {
        // Bundles (spec/resolution.md §7.2): posted over up to three needs (or a ghost id), updated by their author or another hub, funded.
        const n = [pick(needs, b)?.id, pick(needs, c)?.id, pick(needs, a + c)?.id].filter((x): x is string => x !== undefined);
        const listed = [...new Set(n.length > 0 ? n : [recordId(w.records[0]?.record as never)])];
        const bundle = pick(bundles, b);
        if (c % 4 < 2 || bundle === undefined)
          bundles.push(w.sign(h, 'bundle.posted', { title: `B${c}`, region: '420902', needs: listed, ...(c % 3 === 0 ? { targetFen: 1000 } : {}) }));
        else if (c % 4 === 2) {
          const body: BodyOf<'bundle.updated'> = a % 2 === 0 ? { bundle, add: listed } : { bundle, remove: listed.slice(0, 1) };
          if (a % 5 === 4) body.close = a % 2 === 0 ? 'completed' : 'cancelled';
          w.sign(h, 'bundle.updated', body);
        } else w.sign(h, 'bundle.funded', { bundle, amountFen: (a % 3) * 500 });
        break;
      }
      default:
        // Time passes: needs expire, shipments become overdue.
        w.t += (c % 30) * 4 * HOUR;
    }
  }
  // Sometimes a second root (the first step's second number decides).
  const roots = (steps[0]?.[1] ?? 1) % 4 === 0 ? [root.id, (hubs[5] as WorldHub).id] : [root.id];
  return { roots, records: w.records.map((e) => assumeVerified(e.record, e.id)) };
}

/** The records in an order drawn from `perm`, with some of them twice. */
export function shuffled<T>(records: T[], perm: number[]): T[] {
  if (perm.length === 0) return records;
  const keyed = records.map((r, i) => ({ r, k: perm[i % perm.length] as number, i })).sort((x, y) => x.k - y.k || x.i - y.i);
  return [...keyed.map((x) => x.r), ...keyed.filter((x) => x.k % 3 === 0).map((x) => x.r)];
}
