/**
 * An independent reference model of the resolver, written from
 * spec/resolution.md alone (issue 14 point 2). It is test code: never shipped,
 * never imported by packages/resolve/src.
 *
 * It is deliberately simple: `modelState(roots, records)` recomputes the whole
 * state from the SET of verified records, every time, with no cache, no index
 * kept between calls and no incremental step. Each function is named after the
 * part of the spec it implements and cites its section. Only types come from
 * packages/resolve (src/types.ts); from @shuniu/protocol it takes record
 * types and `digest` (base64url(SHA-256(JCS(x))), spec/resolution.md §7).
 *
 * Where spec/resolution.md is silent about the exact shape of a member
 * (a conflict's `detail`, the order of a list), the comment says "shape:" and
 * the choice follows the resolution vectors (spec/vectors/resolution), which
 * are part of the contract.
 */
import { digest, type HubLevel, type RecordOf, type RecordType, type SignedRecord, type Verified } from '@shuniu/protocol';
import type {
  AllocationState,
  BundleState,
  Conflict,
  DetailValue,
  ForkState,
  HubKeysState,
  HubProfileState,
  HubState,
  NeedState,
  OfferState,
  ResolvedState,
  ShipmentLineState,
  ShipmentState,
} from '../../src/types.js';

// ---------------------------------------------------------------------------
// Notation (spec/resolution.md, preamble)
// ---------------------------------------------------------------------------

/** A verified record and its id. */
export interface Rec<T extends RecordType = RecordType> {
  id: string;
  record: RecordOf<T>;
}
/** What every record has, whatever its type. */
interface Envelope {
  id: string;
  record: { type: string; hub: string; seq: number; prev: string | null; hlc: { ms: number; c: number } };
}

/** "Integers saturate at 2^53−1." */
const MAX_INT = 2 ** 53 - 1;
const sat = (x: number): number => Math.min(x, MAX_INT);
const sum = (xs: number[]): number => xs.reduce((a, b) => sat(a + b), 0);

/** Ids compared as strings by UTF-16 code units. */
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortedIds = (xs: Iterable<string>): string[] => [...new Set(xs)].sort(byString);

/** "Order by hlc means by hlc.ms, then hlc.c; then id." */
const byHlcThenId = (a: Envelope, b: Envelope): number => a.record.hlc.ms - b.record.hlc.ms || a.record.hlc.c - b.record.hlc.c || byString(a.id, b.id);
const bySeq = (a: Envelope, b: Envelope): number => a.record.seq - b.record.seq;

/** Base units = quantity × unit.size. */
const base = (quantity: number, unit: { size: number }): number => sat(quantity * unit.size);

/** A timestamp (RFC 3339) before the clock (§6 Clock). */
const before = (timestamp: string, clock: number): boolean => Date.parse(timestamp) < clock;

function isType<T extends RecordType>(r: Envelope, type: T): r is Envelope & Rec<T> {
  return r.record.type === type;
}
function ofType<T extends RecordType>(rs: Iterable<Envelope>, type: T): Rec<T>[] {
  const out: Rec<T>[] = [];
  for (const r of rs) if (isType(r, type)) out.push(r);
  return out;
}
/** The record with the highest seq (one author's records: seqs differ). */
function highestSeq<T extends Envelope>(rs: T[]): T | undefined {
  return [...rs].sort(bySeq).at(-1);
}

// ---------------------------------------------------------------------------
// §1 Which records count: counting chain
// ---------------------------------------------------------------------------

interface Chain {
  /** The counting chain, in seq order. */
  records: Rec[];
  forks: (ForkState & { recovered: boolean })[];
  /** The chain stopped at a fork. */
  forked: boolean;
  recovery?: string;
}

/** 72 hours: how long after a recovery a `recovery_vouched` attestation may come (§1). */
const VOUCH_WINDOW_MS = 259_200_000;

/**
 * §1 Counting chain. `vouchers` are the counting records of the hubs on this
 * hub's admission chain (its admitter and above): only their attestations vouch.
 */
function countingChain(own: Rec[], vouchers: Rec[]): Chain {
  const atSeq = new Map<number, Rec[]>();
  for (const r of own) atSeq.set(r.record.seq, [...(atSeq.get(r.record.seq) ?? []), r]);
  const byId = new Map(own.map((r) => [r.id, r]));
  const recoveries = ofType(own, 'hub.keys.rotated').filter((r) => r.record.body.recovery !== undefined);

  let records: Rec[] = [];
  let recovery: Rec | undefined;
  if (recoveries.length > 0) {
    // spec/keys.md §5.1: a vouched recovery beats every one that is not; among equals the greatest hlc (then id).
    const vouched = (rec: Envelope) =>
      ofType(vouchers, 'attestation').some(
        (a) =>
          a.record.body.subject === rec.id &&
          a.record.body.kind === 'recovery_vouched' &&
          a.record.body.result === 'pass' &&
          a.record.hlc.ms <= rec.record.hlc.ms + VOUCH_WINDOW_MS,
      );
    recovery = [...recoveries].sort((a, b) => Number(vouched(a)) - Number(vouched(b)) || byHlcThenId(a, b)).at(-1) as Rec;
    // Its ancestry by prev down to the inception: all ancestors must be held, otherwise nothing of the hub counts yet.
    const ancestry: Rec[] = [recovery];
    for (let r: Rec | undefined = recovery; r !== undefined && r.record.seq > 0; ) {
      const p: Rec | undefined = r.record.prev === null ? undefined : byId.get(r.record.prev);
      r = p !== undefined && p.record.seq === r.record.seq - 1 ? p : undefined;
      if (r) ancestry.unshift(r);
    }
    if (isType(ancestry[0] as Rec, 'hub.inception')) records = ancestry;
    else recovery = undefined;
  }
  const nothingYet = recoveries.length > 0 && recovery === undefined;
  // Walk forward: at seq s the candidates are the records at s whose prev is the id counted at s−1.
  let forked = false;
  for (let s = records.length; !nothingYet; s++) {
    const tip = records.at(-1);
    const here = atSeq.get(s) ?? [];
    const candidates = tip === undefined ? here.filter((r) => isType(r, 'hub.inception')) : here.filter((r) => r.record.prev === tip.id);
    // Without recovery every record at s competes (two or more records at s are a fork, whatever their prev); after a recovery only the tip's children do.
    const competing = recovery === undefined ? here : candidates;
    if (competing.length > 1) {
      forked = true;
      break;
    }
    if (candidates.length === 0) break; // a gap (or nothing more)
    records.push(candidates[0] as Rec);
  }
  // A fork at every seq where the hub holds two or more records (spec/records.md §9: each is an equivocation). shape: `recovered` when the hub has a winning recovery and the chain does not stop at or before this fork (fork-recovery.json).
  const forks: Chain['forks'] = [];
  for (const [seq, rs] of [...atSeq].sort((a, b) => a[0] - b[0])) {
    if (rs.length < 2) continue;
    forks.push({ seq, ids: sortedIds(rs.map((r) => r.id)), recovered: recovery !== undefined && !(forked && seq >= records.length) });
  }
  return { records, forks, forked, ...(recovery ? { recovery: recovery.id } : {}) };
}

// ---------------------------------------------------------------------------
// §1 Which records count: admission (settled with the chains, roots down)
// ---------------------------------------------------------------------------

/** Levels rank national 0 < province 1 < city 2 < county 3 < org 4. */
const RANK: Record<HubLevel, number> = { national: 0, province: 1, city: 2, county: 3, org: 4 };

/** P's region prefix: its region without trailing `00` pairs. */
function regionPrefix(region: string): string {
  let p = region;
  while (p.length > 2 && p.endsWith('00')) p = p.slice(0, -2);
  return p;
}

interface Standing {
  root: boolean;
  level?: HubLevel;
  region?: string;
}

/** §1 In scope. */
function inScope(p: Standing, child: { level: HubLevel; region: string }): boolean {
  if (child.level === 'national') return p.root; // (b)
  if (p.root && p.level === undefined) return true; // a root without any hub.profile admits without limit
  if (p.level === undefined || p.region === undefined) return false;
  if (RANK[child.level] <= RANK[p.level]) return false;
  if (p.level === 'national') return true; // (a)
  return child.region.startsWith(regionPrefix(p.region));
}

interface Admitted {
  chain: string[];
  admission?: Rec<'hub.admitted'>;
  standing: Standing;
}

interface HubsResult {
  chains: Map<string, Chain>;
  admitted: Map<string, Admitted>;
  conflicts: Conflict[];
}

/** The latest hub.profile on a counting chain. */
function latestProfile(chain: Chain): Rec<'hub.profile'> | undefined {
  return highestSeq(ofType(chain.records, 'hub.profile'));
}

/** §1 Admission, with the counting chains, breadth first from the roots (fewest steps, ties by the admission's hlc then id). */
function admissionAndChains(roots: string[], byHub: Map<string, Rec[]>): HubsResult {
  const chains = new Map<string, Chain>();
  const admitted = new Map<string, Admitted>();
  const conflicts: Conflict[] = [];
  const chainOf = (hub: string, vouchers: string[]): Chain => {
    const c = countingChain(
      byHub.get(hub) ?? [],
      vouchers.flatMap((h) => chains.get(h)?.records ?? []),
    );
    chains.set(hub, c);
    return c;
  };

  let frontier: string[] = [];
  for (const root of new Set(roots)) {
    const c = chainOf(root, []);
    const profile = latestProfile(c);
    admitted.set(root, {
      chain: [],
      standing: { root: true, ...(profile ? { level: profile.record.body.level, region: profile.record.body.region } : {}) },
    });
    frontier.push(root);
  }
  while (frontier.length > 0) {
    const next = new Map<string, { by: string; rec: Rec<'hub.admitted'> }>();
    for (const p of frontier) {
      const P = admitted.get(p) as Admitted;
      const own = chains.get(p)?.records ?? [];
      const byChild = new Map<string, Rec[]>();
      for (const r of own) {
        if (isType(r, 'hub.admitted') || isType(r, 'hub.admission.revoked')) {
          const child = (r as Rec<'hub.admitted'>).record.body.child;
          byChild.set(child, [...(byChild.get(child) ?? []), r]);
        }
      }
      for (const [child, rs] of byChild) {
        // In force: the highest seq decides.
        const decider = highestSeq(rs) as Rec;
        if (!isType(decider, 'hub.admitted')) continue;
        const { level, region } = decider.record.body;
        if (!inScope(P.standing, { level, region })) {
          conflicts.push({
            id: `${decider.id}/admission_scope`,
            rule: 'admission_scope',
            records: [decider.id],
            hubs: [p],
            detail: { child, level, region, admitterLevel: P.standing.level ?? '', admitterRegion: P.standing.region ?? '' },
          });
          continue;
        }
        if (admitted.has(child)) continue;
        const best = next.get(child);
        if (best === undefined || byHlcThenId(decider, best.rec) < 0) next.set(child, { by: p, rec: decider });
      }
    }
    frontier = [];
    for (const [child, { by, rec }] of next) {
      const chain = [by, ...(admitted.get(by) as Admitted).chain];
      admitted.set(child, { chain, admission: rec, standing: { root: false, level: rec.record.body.level, region: rec.record.body.region } });
      chainOf(child, chain);
      frontier.push(child);
    }
  }
  // Hubs not admitted: their chain (for head and keys), with nobody to vouch.
  for (const hub of byHub.keys()) if (!chains.has(hub)) chainOf(hub, []);
  return { chains, admitted, conflicts };
}

/** Hub status and the other members of HubState (§1, types.ts). */
function hubState(id: string, own: Rec[], chain: Chain, adm: Admitted | undefined, roots: Set<string>): HubState {
  const tip = chain.records.at(-1);
  const keysRec = [...chain.records].reverse().find((r) => isType(r, 'hub.inception') || isType(r, 'hub.keys.rotated')) as
    | Rec<'hub.inception' | 'hub.keys.rotated'>
    | undefined;
  const keys: HubKeysState | undefined = keysRec && {
    record: keysRec.id,
    signingKey: keysRec.record.body.signingKey,
    encryptionKey: keysRec.record.body.encryptionKey,
    recoveryCommitment: keysRec.record.body.recoveryCommitment,
  };
  const p = latestProfile(chain);
  const profile: HubProfileState | undefined = p && {
    record: p.id,
    name: p.record.body.name,
    level: p.record.body.level,
    region: p.record.body.region,
    ...(p.record.body.parent !== undefined ? { parent: p.record.body.parent } : {}),
    endpoints: p.record.body.endpoints,
    ...(p.record.body.contact !== undefined ? { contact: p.record.body.contact } : {}),
  };
  return {
    id,
    status: adm === undefined ? 'suspended' : chain.forked ? 'forked' : 'active',
    root: roots.has(id),
    admitted: adm !== undefined,
    admissionChain: adm?.chain ?? [],
    ...(adm?.admission ? { admission: adm.admission.id } : {}),
    ...(adm?.standing.level !== undefined ? { level: adm.standing.level } : {}),
    ...(adm?.standing.region !== undefined ? { region: adm.standing.region } : {}),
    ...(profile ? { profile } : {}),
    ...(keys ? { keys } : {}),
    ...(tip ? { head: { seq: tip.record.seq, id: tip.id } } : {}),
    records: own.length,
    forks: chain.forks.map(({ seq, ids }) => ({ seq, ids })),
    ...(chain.recovery ? { recovery: chain.recovery } : {}),
  };
}

function forkConflicts(hub: string, chain: Chain): Conflict[] {
  return chain.forks.map((f) => ({
    id: `${hub}/fork/${f.seq}`,
    rule: 'fork',
    records: f.ids,
    hubs: [hub],
    detail: { seq: f.seq, recovered: f.recovered },
  }));
}

// ---------------------------------------------------------------------------
// §2 Authority
// ---------------------------------------------------------------------------

function unauthorised(rec: Envelope, target: string | undefined, expected: string): Conflict {
  return {
    id: `${rec.id}/unauthorised`,
    rule: 'unauthorised',
    records: sortedIds(target === undefined ? [rec.id] : [rec.id, target]),
    hubs: sortedIds([rec.record.hub, expected]),
    detail: { author: rec.record.hub, expected, type: rec.record.type },
  };
}

/** §2: splits records naming an object into those by the authorised hub and conflicts for the rest. */
function authorised<T extends Envelope>(rs: T[], target: string, expected: string, conflicts: Conflict[]): T[] {
  const ok: T[] = [];
  for (const r of rs) {
    if (r.record.hub === expected) ok.push(r);
    else conflicts.push(unauthorised(r, target, expected));
  }
  return ok;
}

// ---------------------------------------------------------------------------
// §3 Ordering: needs and offers
// ---------------------------------------------------------------------------

interface NeedDraft {
  state: NeedState;
  closed?: Rec<'need.closed'>;
}

/** §3: one author's changes apply in seq order; for each field the latest seq that sets it wins; need.closed with the highest seq gives the reason. */
function needOf(posted: Rec<'need.posted'>, updates: Rec<'need.updated'>[], closes: Rec<'need.closed'>[]): NeedDraft {
  const b = posted.record.body;
  let quantity = b.quantity;
  let urgency = b.urgency;
  let neededBy = b.neededBy;
  let beneficiaries = b.beneficiaries;
  const applied = [...updates].sort(bySeq);
  for (const u of applied) {
    const x = u.record.body;
    if (x.quantity !== undefined) quantity = x.quantity;
    if (x.urgency !== undefined) urgency = x.urgency;
    if (x.neededBy !== undefined) neededBy = x.neededBy;
    if (x.beneficiaries !== undefined) beneficiaries = x.beneficiaries;
  }
  const closed = highestSeq(closes);
  const state: NeedState = {
    id: posted.id,
    hub: posted.record.hub,
    hlc: posted.record.hlc,
    item: b.item,
    unit: b.unit,
    quantity: base(quantity, b.unit),
    urgency,
    neededBy,
    region: b.region,
    beneficiaries,
    requester: b.requester,
    ...(b.campaign !== undefined ? { campaign: b.campaign } : {}),
    ...(b.purpose !== undefined ? { purpose: b.purpose } : {}),
    status: 'open',
    ...(closed ? { closed: { reason: closed.record.body.reason, record: closed.id } } : {}),
    allocated: 0,
    inTransit: 0,
    received: 0,
    delivered: 0,
    allocations: [],
    deliveries: [],
    updates: applied.map((u) => u.id),
  };
  return { state, ...(closed ? { closed } : {}) };
}

/** §3: offer.updated fields by latest seq (intent replaced whole); the first offer.withdrawn withdraws. */
function offerOf(posted: Rec<'offer.posted'>, updates: Rec<'offer.updated'>[], withdrawals: Rec<'offer.withdrawn'>[]): OfferState {
  const b = posted.record.body;
  let quantity = b.quantity;
  let valueFen = b.valueFen;
  let intent = b.intent;
  const applied = [...updates].sort(bySeq);
  for (const u of applied) {
    const x = u.record.body;
    if (x.quantity !== undefined) quantity = x.quantity;
    if (x.valueFen !== undefined) valueFen = x.valueFen;
    if (x.intent !== undefined) intent = x.intent;
  }
  const withdrawn = [...withdrawals].sort(bySeq)[0];
  return {
    id: posted.id,
    hub: posted.record.hub,
    hlc: posted.record.hlc,
    kind: b.kind,
    item: b.item,
    unit: b.unit,
    quantity: base(quantity, b.unit),
    valueFen,
    donor: b.donor,
    intent,
    region: b.region,
    ...(b.availableFrom !== undefined ? { availableFrom: b.availableFrom } : {}),
    ...(b.campaign !== undefined ? { campaign: b.campaign } : {}),
    status: 'available',
    ...(withdrawn ? { withdrawn: withdrawn.id } : {}),
    allocated: 0,
    available: 0,
    allocations: [],
    updates: applied.map((u) => u.id),
  };
}

// ---------------------------------------------------------------------------
// §4 Allocations: over-allocation and over-fulfilment
// ---------------------------------------------------------------------------

interface AllocDraft {
  rec: Rec<'allocation'>;
  state: AllocationState;
}

/** §4: resolution order: accepted first, then hlc, then id. */
const resolutionOrder = (a: AllocDraft, b: AllocDraft): number =>
  Number(b.state.status === 'accepted') - Number(a.state.status === 'accepted') || byHlcThenId(a.rec, b.rec);

/** §4: first fit in resolution order against a capacity: the allocations that stand and those that do not. */
function firstFit(order: AllocDraft[], capacity: number): { standing: AllocDraft[]; surplus: AllocDraft[] } {
  let left = capacity;
  const standing: AllocDraft[] = [];
  const surplus: AllocDraft[] = [];
  for (const a of order) {
    if (a.state.quantity <= left) {
      left -= a.state.quantity;
      standing.push(a);
    } else surplus.push(a);
  }
  return { standing, surplus };
}

function allocationPasses(allocs: AllocDraft[], needs: Map<string, NeedDraft>, offers: Map<string, OfferState>, conflicts: Conflict[]): void {
  const live = allocs.filter((a) => a.state.status !== 'void' && a.state.status !== 'declined').sort(resolutionOrder);
  const hubsOf = (as: AllocDraft[], extra: string[]) =>
    sortedIds([...extra, ...as.flatMap((a) => [a.state.hub, (needs.get(a.state.need) as NeedDraft).state.hub, (offers.get(a.state.offer) as OfferState).hub])]);
  // 1. Offer pass.
  const afterOffers: AllocDraft[] = [];
  for (const offer of offers.values()) {
    const mine = live.filter((a) => a.state.offer === offer.id);
    const { standing, surplus } = firstFit(mine, offer.quantity);
    afterOffers.push(...standing);
    for (const a of surplus) {
      a.state.status = 'surplus';
      a.state.surplusOf = 'offer';
    }
    if (surplus.length > 0) {
      conflicts.push({
        id: `${offer.id}/over_allocation`,
        rule: 'over_allocation',
        records: sortedIds([offer.id, ...mine.map((a) => a.rec.id)]),
        hubs: hubsOf(mine, [offer.hub]),
        detail: {
          offered: offer.quantity,
          requested: sum(mine.map((a) => a.state.quantity)),
          standing: sum(standing.map((a) => a.state.quantity)),
          surplus: sortedIds(surplus.map((a) => a.rec.id)), // shape: sorted
        },
      });
    }
  }
  // 2. Need pass.
  afterOffers.sort(resolutionOrder);
  for (const need of needs.values()) {
    const mine = afterOffers.filter((a) => a.state.need === need.state.id);
    const { standing, surplus } = firstFit(mine, need.state.quantity);
    for (const a of surplus) {
      a.state.status = 'surplus';
      a.state.surplusOf = 'need';
    }
    if (surplus.length > 0) {
      conflicts.push({
        id: `${need.state.id}/over_fulfilment`,
        rule: 'over_fulfilment',
        records: sortedIds([need.state.id, ...mine.map((a) => a.rec.id)]),
        hubs: hubsOf(mine, [need.state.hub]),
        detail: {
          allocated: sum(mine.map((a) => a.state.quantity)),
          needed: need.state.quantity,
          standing: sum(standing.map((a) => a.state.quantity)),
          surplus: sortedIds(surplus.map((a) => a.rec.id)), // shape: sorted
        },
      });
    }
    need.state.allocations = standing.map((a) => a.rec.id);
    need.state.allocated = sum(standing.map((a) => a.state.quantity));
  }
  for (const offer of offers.values()) {
    const standing = afterOffers.filter((a) => a.state.offer === offer.id && a.state.status !== 'surplus');
    offer.allocations = standing.map((a) => a.rec.id);
    offer.allocated = sum(standing.map((a) => a.state.quantity));
    offer.available = offer.quantity - offer.allocated;
  }
}

/** §4: an allocation, its decision and whether it is void. */
function allocationOf(
  rec: Rec<'allocation'>,
  offer: OfferState,
  need: NeedDraft,
  decisions: (Rec<'allocation.accepted'> | Rec<'allocation.declined'>)[],
  conflicts: Conflict[],
): AllocDraft {
  const decision = highestSeq(decisions);
  const accepted = decision !== undefined && isType(decision, 'allocation.accepted');
  const state: AllocationState = {
    id: rec.id,
    hub: rec.record.hub,
    hlc: rec.record.hlc,
    offer: offer.id,
    need: need.state.id,
    quantity: rec.record.body.quantity,
    status: decision === undefined ? 'proposed' : accepted ? 'accepted' : 'declined',
    ...(decision ? { decision: decision.id } : {}),
  };
  let voidReason: AllocationState['voidReason'];
  if (offer.item.code !== need.state.item.code) {
    voidReason = 'item_mismatch';
    conflicts.push({
      id: `${rec.id}/item_mismatch`,
      rule: 'item_mismatch',
      records: sortedIds([rec.id, offer.id, need.state.id]),
      hubs: sortedIds([rec.record.hub, offer.hub, need.state.hub]),
      detail: { offerItem: offer.item.code, needItem: need.state.item.code },
    });
  } else if (!accepted && offer.withdrawn !== undefined) voidReason = 'offer_withdrawn';
  else if (!accepted && need.closed !== undefined) voidReason = 'need_closed';
  if (voidReason) {
    state.status = 'void';
    state.voidReason = voidReason;
  }
  return { rec, state };
}

/** §4 Need status. */
function needStatus(n: NeedState, clock: number): NeedState['status'] {
  if (n.closed) return n.closed.reason;
  if (n.delivered >= n.quantity) return 'fulfilled';
  if (n.delivered > 0) return 'partly_delivered';
  if (n.allocated >= n.quantity) return 'allocated';
  if (before(n.neededBy, clock)) return 'expired';
  return n.allocated > 0 ? 'partly_allocated' : 'open';
}

/** §4 Offer status. */
function offerStatus(o: OfferState, clock: number): OfferState['status'] {
  if (o.withdrawn !== undefined) return 'withdrawn';
  if (o.allocated >= o.quantity) return 'allocated';
  if (o.intent.validUntil !== undefined && before(o.intent.validUntil, clock)) return 'expired';
  return 'available';
}

// ---------------------------------------------------------------------------
// §5 Likely duplicate needs
// ---------------------------------------------------------------------------

const DUPLICATE_WINDOW_MS = 7 * 24 * 3600 * 1000;

function duplicateNeeds(needs: NeedState[]): Conflict[] {
  const groups = new Map<string, NeedState[]>();
  for (const n of needs) {
    if (n.closed?.reason === 'cancelled') continue;
    const key = JSON.stringify([n.requester.name, n.requester.kind, n.item.code]);
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }
  const out: Conflict[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => Date.parse(a.neededBy) - Date.parse(b.neededBy) || byString(a.id, b.id));
    const clusters: NeedState[][] = [];
    for (const n of group) {
      const cur = clusters.at(-1);
      const prev = cur?.at(-1);
      if (cur && prev && Date.parse(n.neededBy) - Date.parse(prev.neededBy) <= DUPLICATE_WINDOW_MS) cur.push(n);
      else clusters.push([n]);
    }
    for (const c of clusters) {
      const hubs = sortedIds(c.map((n) => n.hub));
      if (hubs.length < 2) continue;
      const ids = sortedIds(c.map((n) => n.id));
      const first = c[0] as NeedState;
      out.push({
        id: `${ids[0]}/duplicate_need`,
        rule: 'duplicate_need',
        records: ids,
        hubs,
        detail: { requester: first.requester.name, item: first.item.code, needs: c.length },
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// §6 Custody
// ---------------------------------------------------------------------------

interface Shipment {
  first: Rec<'custody.handoff'>;
  versions: Rec<'custody.handoff'>[];
  inForce: Rec<'custody.handoff'>;
  receipt?: Rec<'custody.receipt'>;
  state: ShipmentState;
}

/** §6 Attribution to needs: a line's base units go to the listed allocations whose need has the line's item code, in list order, each up to its quantity, the last taking the rest. */
function attribute(
  amount: number,
  itemCode: string,
  listed: string[],
  allocations: Map<string, AllocDraft>,
  needs: Map<string, NeedDraft>,
): Map<string, number> {
  const out = new Map<string, number>();
  const takers = listed.filter((a) => {
    const x = allocations.get(a);
    return x !== undefined && needs.get(x.state.need)?.state.item.code === itemCode;
  });
  let left = amount;
  takers.forEach((a, i) => {
    const q = i === takers.length - 1 ? left : Math.min(left, (allocations.get(a) as AllocDraft).state.quantity);
    out.set(a, sat((out.get(a) ?? 0) + q));
    left -= q;
  });
  return out;
}

/** §6 Shipment: handoffs, corrections, the version in force, the receipt in force and the figures. */
function shipments(
  counting: Rec[],
  clock: number,
  allocations: Map<string, AllocDraft>,
  needs: Map<string, NeedDraft>,
  conflicts: Conflict[],
): Map<string, Shipment> {
  const handoffs = ofType(counting, 'custody.handoff');
  const byId = new Map(handoffs.map((h) => [h.id, h]));
  // The first handoff of a version: follow `corrects` to a handoff without it.
  const firstOf = (h: Rec<'custody.handoff'>): Rec<'custody.handoff'> | undefined => {
    const seen = new Set<string>();
    let cur: Rec<'custody.handoff'> | undefined = h;
    while (cur?.record.body.corrects !== undefined) {
      if (seen.has(cur.id)) return undefined;
      seen.add(cur.id);
      cur = byId.get(cur.record.body.corrects);
    }
    return cur;
  };
  const out = new Map<string, Shipment>();
  const firsts = handoffs.filter((h) => h.record.body.corrects === undefined);
  for (const f of firsts) {
    // §2: a handoff must be signed by its `from` hub.
    if (f.record.hub !== f.record.body.from) {
      conflicts.push(unauthorised(f, undefined, f.record.body.from));
      continue;
    }
    // Only through records that change something: every correction between h and f is by f's author (§2).
    const linked = (h: Rec<'custody.handoff'>): boolean => {
      for (let x = byId.get(h.record.body.corrects ?? ''); x !== undefined && x !== f; x = byId.get(x.record.body.corrects ?? ''))
        if (x.record.hub !== f.record.hub || x.record.body.from !== f.record.hub) return false;
      return true;
    };
    const corrections = handoffs.filter((h) => h.record.body.corrects !== undefined && firstOf(h)?.id === f.id && linked(h));
    // §2: a correction must be signed by the first handoff's author and keep its `from`; one that
    // changes the sender names as expected the hub its `from` says should have signed it.
    const sameSender = corrections.filter((h) => {
      if (h.record.hub !== f.record.hub || h.record.body.from === f.record.hub) return true;
      conflicts.push(unauthorised(h, f.id, h.record.body.from));
      return false;
    });
    const versions = [f, ...authorised(sameSender, f.id, f.record.hub, conflicts)].sort(bySeq);
    out.set(f.id, { first: f, versions, inForce: versions.at(-1) as Rec<'custody.handoff'>, state: undefined as unknown as ShipmentState });
  }
  const shipmentOfVersion = new Map<string, Shipment>();
  for (const s of out.values()) for (const v of s.versions) shipmentOfVersion.set(v.id, s);

  // Receipts: by the shipment's current `to` hub; the one with the highest seq is in force.
  const receipts = new Map<Shipment, Rec<'custody.receipt'>[]>();
  for (const r of ofType(counting, 'custody.receipt')) {
    const s = shipmentOfVersion.get(r.record.body.handoff);
    if (s === undefined) continue; // pending
    if (r.record.hub !== s.inForce.record.body.to) {
      conflicts.push(unauthorised(r, s.first.id, s.inForce.record.body.to)); // shape: the target is the shipment
      continue;
    }
    receipts.set(s, [...(receipts.get(s) ?? []), r]);
  }

  for (const s of out.values()) {
    const h = s.inForce.record.body;
    const receipt = highestSeq(receipts.get(s) ?? []);
    if (receipt) s.receipt = receipt;
    const lines: ShipmentLineState[] = h.lines.map((l) => ({
      item: l.item,
      unit: l.unit,
      ...(l.lot !== undefined ? { lot: l.lot } : {}),
      ...(l.expiry !== undefined ? { expiry: l.expiry } : {}),
      shipped: base(l.quantity, l.unit),
    }));
    let mismatch = false;
    if (receipt) {
      const seen = new Set<number>();
      for (const line of lines) Object.assign(line, { accepted: 0, rejected: 0, missing: 0 });
      for (const rl of receipt.record.body.lines) {
        const line = lines[rl.line];
        if (line === undefined || seen.has(rl.line)) {
          mismatch = true; // a receipt line naming no line, or naming a line twice
          continue;
        }
        seen.add(rl.line);
        line.accepted = base(rl.accepted, line.unit);
        line.rejected = base(rl.rejected, line.unit);
        line.missing = base(rl.missing, line.unit);
        if (rl.rejectReason !== undefined) line.rejectReason = rl.rejectReason;
      }
      for (const line of lines) {
        line.unaccounted = line.shipped - (line.accepted ?? 0) - (line.rejected ?? 0) - (line.missing ?? 0);
        if (line.unaccounted !== 0) mismatch = true;
      }
    }
    const fig = (k: 'accepted' | 'rejected' | 'missing') => sum(lines.map((l) => l[k] ?? 0));
    const shipped = sum(lines.map((l) => l.shipped));
    let late = false;
    if (receipt) {
      for (const a of h.allocations) {
        const alloc = allocations.get(a);
        const need = alloc && needs.get(alloc.state.need);
        if (need && Date.parse(receipt.record.body.received) > Date.parse(need.state.neededBy)) late = true;
      }
    }
    s.state = {
      id: s.first.id,
      handoff: s.inForce.id,
      versions: sortedIds(s.versions.map((v) => v.id)), // shape: sorted
      hub: s.first.record.hub,
      from: h.from,
      to: h.to,
      shipment: h.shipment,
      expectedArrival: h.expectedArrival,
      allocations: h.allocations,
      lines,
      status: receipt
        ? lines.every((l) => l.accepted === l.shipped)
          ? 'received'
          : 'received_with_discrepancy'
        : before(h.expectedArrival, clock)
          ? 'overdue'
          : 'in_transit',
      late,
      ...(receipt ? { receipt: receipt.id, received: receipt.record.body.received } : {}),
      shipped,
      ...(receipt ? { accepted: fig('accepted'), rejected: fig('rejected'), missing: fig('missing') } : {}),
    };
    if (receipt && mismatch) {
      conflicts.push({
        id: `${s.first.id}/receipt_mismatch`,
        rule: 'receipt_mismatch',
        records: sortedIds([receipt.id, s.first.id, s.inForce.id]), // shape: the receipt, the shipment and its version in force
        hubs: sortedIds([h.from, h.to]),
        detail: { shipped, accounted: fig('accepted') + fig('rejected') + fig('missing') },
      });
    }
  }
  return out;
}

/** §6 Attribution to needs (inTransit, received) and deliveries. */
function attributionAndDeliveries(
  ships: Map<string, Shipment>,
  counting: Rec[],
  allocations: Map<string, AllocDraft>,
  needs: Map<string, NeedDraft>,
): Rec<'custody.delivered'>[] {
  for (const s of ships.values()) {
    for (const line of s.state.lines) {
      const amount = s.receipt ? (line.accepted ?? 0) : line.shipped;
      for (const [a, q] of attribute(amount, line.item.code, s.state.allocations, allocations, needs)) {
        const need = needs.get((allocations.get(a) as AllocDraft).state.need) as NeedDraft;
        if (need.state.hub !== s.state.to) continue;
        if (s.receipt) need.state.received = sat(need.state.received + q);
        else need.state.inTransit = sat(need.state.inTransit + q);
      }
    }
  }
  // Deliveries that no counting delivery of the same author names in `corrects`.
  const all = ofType(counting, 'custody.delivered');
  const superseded = new Set(all.flatMap((d) => all.filter((c) => c.record.hub === d.record.hub && c.record.body.corrects === d.id).map(() => d.id)));
  const live = all.filter((d) => !superseded.has(d.id));
  for (const d of live) {
    const need = needs.get(d.record.body.need);
    if (need === undefined) continue;
    need.state.deliveries.push(d.id);
    for (const l of d.record.body.lines) if (l.item.code === need.state.item.code) need.state.delivered = sat(need.state.delivered + base(l.quantity, l.unit));
  }
  for (const n of needs.values()) n.state.deliveries = sortedIds(n.state.deliveries);
  return live;
}

/** §6 Delivered beyond received: per hub and item code. */
function deliveredBeyondReceived(ships: Map<string, Shipment>, deliveries: Rec<'custody.delivered'>[]): Conflict[] {
  const out: Conflict[] = [];
  const keys = new Map<string, { hub: string; item: string; delivered: number; records: string[] }>();
  for (const d of deliveries) {
    for (const l of d.record.body.lines) {
      const k = JSON.stringify([d.record.hub, l.item.code]);
      const e = keys.get(k) ?? { hub: d.record.hub, item: l.item.code, delivered: 0, records: [] };
      e.delivered = sat(e.delivered + base(l.quantity, l.unit));
      e.records.push(d.id);
      keys.set(k, e);
    }
  }
  for (const e of keys.values()) {
    const received = sum(
      [...ships.values()]
        .filter((s) => s.state.to === e.hub && s.receipt)
        .flatMap((s) => s.state.lines.filter((l) => l.item.code === e.item).map((l) => l.accepted ?? 0)),
    );
    if (e.delivered > received) {
      out.push({
        id: `${e.hub}/delivered_beyond_received/${e.item}`,
        rule: 'delivered_beyond_received',
        records: sortedIds(e.records),
        hubs: [e.hub],
        detail: { item: e.item, delivered: e.delivered, received },
      });
    }
  }
  return out;
}

/** §6 Double handoff: (a) per sender and allocation, (b) per sender, item and lot. */
function doubleHandoff(ships: Map<string, Shipment>, allocations: Map<string, AllocDraft>, needs: Map<string, NeedDraft>): Conflict[] {
  const out: Conflict[] = [];
  const all = [...ships.values()];
  // (a)
  const perAlloc = new Map<string, { sender: string; alloc: string; ships: Shipment[]; handedOff: number }>();
  for (const s of all) {
    for (const line of s.state.lines) {
      for (const [a, q] of attribute(line.shipped, line.item.code, s.state.allocations, allocations, needs)) {
        const k = JSON.stringify([s.state.from, a]);
        const e = perAlloc.get(k) ?? { sender: s.state.from, alloc: a, ships: [], handedOff: 0 };
        if (!e.ships.includes(s)) e.ships.push(s);
        e.handedOff = sat(e.handedOff + q);
        perAlloc.set(k, e);
      }
    }
  }
  for (const e of perAlloc.values()) {
    const receivers = sortedIds(e.ships.map((s) => s.state.to));
    const held = (allocations.get(e.alloc) as AllocDraft).state.quantity;
    if (receivers.length < 2 || e.handedOff <= held) continue;
    out.push({
      id: `${e.alloc}/double_handoff/${e.sender}`,
      rule: 'double_handoff',
      records: sortedIds([e.alloc, ...e.ships.map((s) => s.first.id)]),
      hubs: sortedIds([e.sender, ...receivers]),
      detail: { allocation: e.alloc, handedOff: e.handedOff, held },
    });
  }
  // (b)
  const perLot = new Map<string, { sender: string; item: string; lot: string; ships: Shipment[]; handedOff: number }>();
  for (const s of all) {
    for (const line of s.state.lines) {
      if (line.lot === undefined) continue;
      const k = JSON.stringify([s.state.from, line.item.code, line.lot]);
      const e = perLot.get(k) ?? { sender: s.state.from, item: line.item.code, lot: line.lot, ships: [], handedOff: 0 };
      if (!e.ships.includes(s)) e.ships.push(s);
      e.handedOff = sat(e.handedOff + line.shipped);
      perLot.set(k, e);
    }
  }
  for (const e of perLot.values()) {
    const receivers = sortedIds(e.ships.map((s) => s.state.to));
    // Received the lot here: a shipment of it to the sender with a receipt.
    const inbound = all.filter(
      (s) => s.state.to === e.sender && s.receipt !== undefined && s.state.lines.some((l) => l.item.code === e.item && l.lot === e.lot),
    );
    const held = sum(inbound.flatMap((s) => s.state.lines.filter((l) => l.item.code === e.item && l.lot === e.lot).map((l) => l.accepted ?? 0)));
    // shape: a sender that accepted none of the lot here never received it (its origin): not checked. The spec does not say whether a receipt accepting 0 is "received".
    if (held === 0 || receivers.length < 2) continue;
    if (e.handedOff <= held) continue;
    out.push({
      id: `${e.sender}/double_handoff/${digest(`${e.sender}|${e.item}|${e.lot}`)}`,
      rule: 'double_handoff',
      records: sortedIds([...e.ships, ...inbound].map((s) => s.first.id)), // shape: the shipments out and in (double-handoff.json)
      hubs: sortedIds([e.sender, ...receivers]),
      detail: { item: e.item, lot: e.lot, handedOff: e.handedOff, held },
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// §7.2 Bundles
// ---------------------------------------------------------------------------

/** §7.2: a need's stage in its bundle's progress. */
function bundleStage(n: NeedState): 'open' | 'allocated' | 'inTransit' | 'delivered' | 'closed' {
  if (n.status === 'fulfilled') return 'delivered';
  if (n.status === 'cancelled' || n.status === 'expired') return 'closed';
  if (n.delivered > 0 || n.inTransit > 0 || n.received > 0) return 'inTransit';
  return n.allocated > 0 ? 'allocated' : 'open';
}

/** §7.2: every counting bundle.posted, its author's updates in seq order (§2: others' are unauthorised), the pledges in force and the progress of its needs. */
function bundlesOf(counting: Envelope[], needs: Record<string, NeedState>, conflicts: Conflict[]): BundleState[] {
  const out: BundleState[] = [];
  for (const p of ofType(counting, 'bundle.posted')) {
    const b = p.record.body;
    const updates = authorised(
      ofType(counting, 'bundle.updated').filter((u) => u.record.body.bundle === p.id),
      p.id,
      p.record.hub,
      conflicts,
    ).sort((x, y) => x.record.seq - y.record.seq);
    let listed = [...b.needs];
    let { title, description, targetFen } = b;
    let closed: BundleState['closed'];
    for (const u of updates) {
      const ub = u.record.body;
      listed = [...listed, ...(ub.add ?? [])].filter((n) => !(ub.remove ?? []).includes(n));
      title = ub.title ?? title;
      description = ub.description ?? description;
      targetFen = ub.targetFen ?? targetFen;
      if (ub.close !== undefined) closed = { reason: ub.close, record: u.id };
    }
    const ids = sortedIds(listed);
    const pledges = new Map<string, Rec<'bundle.funded'>>();
    for (const f of ofType(counting, 'bundle.funded').filter((x) => x.record.body.bundle === p.id)) {
      const prev = pledges.get(f.record.hub);
      if (prev === undefined || prev.record.seq < f.record.seq) pledges.set(f.record.hub, f);
    }
    const funding = sortedIds(pledges.keys())
      .map((hub) => pledges.get(hub) as Rec<'bundle.funded'>)
      .filter((f) => f.record.body.amountFen > 0)
      .map((f) => ({ hub: f.record.hub, record: f.id, amountFen: f.record.body.amountFen }));
    const fundedFen = sum(funding.map((f) => f.amountFen));
    const present = ids.map((id) => needs[id]).filter((n): n is NeedState => n !== undefined);
    const progress: BundleState['progress'] = {
      needs: ids.length,
      missing: ids.length - present.length,
      open: 0,
      allocated: 0,
      inTransit: 0,
      delivered: 0,
      closed: 0,
      items: [],
    };
    for (const n of present) progress[bundleStage(n)]++;
    const live = present.filter((n) => n.status !== 'cancelled');
    progress.items = sortedIds(live.map((n) => n.item.code)).map((code) => {
      const of = live.filter((n) => n.item.code === code);
      return {
        code,
        base: (of[0] as NeedState).unit.base,
        requested: sum(of.map((n) => n.quantity)),
        allocated: sum(of.map((n) => Math.min(n.allocated, n.quantity))),
        inTransit: sum(of.map((n) => n.inTransit)),
        delivered: sum(of.map((n) => Math.min(n.delivered, n.quantity))),
      };
    });
    const status: BundleState['status'] = closed
      ? closed.reason
      : fundedFen === 0
        ? 'open'
        : targetFen !== undefined && fundedFen < targetFen
          ? 'partly_funded'
          : 'funded';
    out.push({
      id: p.id,
      hub: p.record.hub,
      hlc: p.record.hlc,
      title,
      region: b.region,
      ...(description !== undefined ? { description } : {}),
      ...(targetFen !== undefined ? { targetFen } : {}),
      ...(b.campaign !== undefined ? { campaign: b.campaign } : {}),
      needs: ids,
      status,
      ...(closed ? { closed } : {}),
      updates: updates.map((u) => u.id),
      funding,
      fundedFen,
      progress,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// §7 The state
// ---------------------------------------------------------------------------

/** §7: the resolved state of a set of verified records, computed from scratch. */
export function modelState(rootList: readonly string[], input: Iterable<Verified | Rec>): ResolvedState {
  // A set: one record per id.
  const records = new Map<string, Rec>();
  for (const v of input) records.set(v.id, { id: v.id, record: v.record as SignedRecord } as Rec);
  const all = [...records.values()];
  const roots = new Set(rootList);

  // §6 Clock: the greatest hlc.ms of any record held.
  const clock = all.reduce((m, r) => Math.max(m, r.record.hlc.ms), 0);

  // §1 Which records count.
  const byHub = new Map<string, Rec[]>();
  for (const r of all) byHub.set(r.record.hub, [...(byHub.get(r.record.hub) ?? []), r]);
  const { chains, admitted, conflicts } = admissionAndChains([...rootList], byHub);
  const hubs: Record<string, HubState> = {};
  const held: Record<string, string> = {};
  const counting: Rec[] = [];
  for (const [hub, own] of byHub) {
    const chain = chains.get(hub) as Chain;
    const adm = admitted.get(hub);
    hubs[hub] = hubState(hub, own, chain, adm, roots);
    if (adm === undefined) for (const r of own) held[r.id] = hub;
    else counting.push(...chain.records);
    // shape: a fork is a conflict whether or not the hub is admitted (the proof is in its own records).
    conflicts.push(...forkConflicts(hub, chain));
  }
  counting.sort(byHlcThenId);

  // Records naming an object that is not (yet) one: pending.
  const pending = new Map<string, Set<string>>();
  const wait = (target: string, rec: Envelope) => pending.set(target, (pending.get(target) ?? new Set()).add(rec.id));

  // §3 Needs and offers, with §2 authority.
  const needs = new Map<string, NeedDraft>();
  for (const p of ofType(counting, 'need.posted')) {
    const author = p.record.hub;
    const updates = ofType(counting, 'need.updated').filter((u) => u.record.body.need === p.id);
    const closes = ofType(counting, 'need.closed').filter((u) => u.record.body.need === p.id);
    needs.set(p.id, needOf(p, authorised(updates, p.id, author, conflicts), authorised(closes, p.id, author, conflicts)));
  }
  const offers = new Map<string, OfferState>();
  for (const p of ofType(counting, 'offer.posted')) {
    const author = p.record.hub;
    const updates = ofType(counting, 'offer.updated').filter((u) => u.record.body.offer === p.id);
    const withdrawals = ofType(counting, 'offer.withdrawn').filter((u) => u.record.body.offer === p.id);
    offers.set(p.id, offerOf(p, authorised(updates, p.id, author, conflicts), authorised(withdrawals, p.id, author, conflicts)));
  }
  for (const r of [...ofType(counting, 'need.updated'), ...ofType(counting, 'need.closed')]) if (!needs.has(r.record.body.need)) wait(r.record.body.need, r);
  for (const r of [...ofType(counting, 'offer.updated'), ...ofType(counting, 'offer.withdrawn')])
    if (!offers.has(r.record.body.offer)) wait(r.record.body.offer, r);

  // §4 Allocations.
  const allocations = new Map<string, AllocDraft>();
  const decisionsOf = (a: string) =>
    [...ofType(counting, 'allocation.accepted'), ...ofType(counting, 'allocation.declined')].filter((d) => d.record.body.allocation === a);
  for (const a of ofType(counting, 'allocation')) {
    const offer = offers.get(a.record.body.offer);
    const need = needs.get(a.record.body.need);
    if (offer === undefined) wait(a.record.body.offer, a);
    if (need === undefined) wait(a.record.body.need, a);
    if (offer === undefined || need === undefined) continue;
    const [ok] = authorised([a], offer.id, offer.hub, conflicts);
    if (ok === undefined) continue;
    allocations.set(a.id, allocationOf(a, offer, need, authorised(decisionsOf(a.id), a.id, need.state.hub, conflicts), conflicts));
  }
  for (const d of [...ofType(counting, 'allocation.accepted'), ...ofType(counting, 'allocation.declined')]) {
    if (!allocations.has(d.record.body.allocation)) wait(d.record.body.allocation, d);
  }
  allocationPasses([...allocations.values()], needs, offers, conflicts);

  // §5 Duplicates.
  conflicts.push(...duplicateNeeds([...needs.values()].map((n) => n.state)));

  // §6 Custody.
  const ships = shipments(counting, clock, allocations, needs, conflicts);
  const versionIds = new Set([...ships.values()].flatMap((s) => s.versions.map((v) => v.id)));
  for (const h of ofType(counting, 'custody.handoff'))
    if (h.record.body.corrects !== undefined && !versionIds.has(h.record.body.corrects)) wait(h.record.body.corrects, h);
  for (const r of ofType(counting, 'custody.receipt')) if (!versionIds.has(r.record.body.handoff)) wait(r.record.body.handoff, r);
  for (const d of ofType(counting, 'custody.delivered')) if (!needs.has(d.record.body.need)) wait(d.record.body.need, d);
  const deliveries = attributionAndDeliveries(ships, counting, allocations, needs);
  conflicts.push(...deliveredBeyondReceived(ships, deliveries));
  conflicts.push(...doubleHandoff(ships, allocations, needs));

  for (const n of needs.values()) n.state.status = needStatus(n.state, clock);
  for (const o of offers.values()) o.status = offerStatus(o, clock);

  const keyed = <T extends { id: string }>(xs: Iterable<T>): Record<string, T> => Object.fromEntries([...xs].map((x) => [x.id, x]));
  // §7.2: bundles read the needs' final states.
  const bundles = bundlesOf(counting, keyed([...needs.values()].map((n) => n.state)), conflicts);
  return {
    ...(bundles.length > 0 ? { bundles: keyed(bundles) } : {}),
    v: 1,
    clock,
    hubs,
    needs: keyed([...needs.values()].map((n) => n.state)),
    offers: keyed(offers.values()),
    allocations: keyed([...allocations.values()].map((a) => a.state)),
    shipments: keyed([...ships.values()].map((s) => s.state)),
    conflicts: keyed(conflicts),
    held,
    pending: Object.fromEntries([...pending].map(([k, v]) => [k, sortedIds(v)])),
  };
}

// ---------------------------------------------------------------------------
// §7 The state hash
// ---------------------------------------------------------------------------

/** R(map): the three-level tree of §7. */
function treeRoot(map: Record<string, unknown>): string {
  const buckets = new Map<string, Record<string, string>>();
  for (const [k, v] of Object.entries(map)) {
    const p = k.slice(0, 2);
    const b = buckets.get(p) ?? {};
    b[k] = digest(v); // L(k)
    buckets.set(p, b);
  }
  const top: Record<string, string> = {};
  for (const [p, b] of buckets) top[p] = digest(b); // B(p)
  return digest(top);
}

/** §7 State hash. */
export function modelStateHash(s: ResolvedState): string {
  return digest({
    v: 1,
    clock: s.clock,
    hubs: treeRoot(s.hubs),
    needs: treeRoot(s.needs),
    offers: treeRoot(s.offers),
    allocations: treeRoot(s.allocations),
    shipments: treeRoot(s.shipments),
    conflicts: treeRoot(s.conflicts),
    held: treeRoot(s.held),
    pending: treeRoot(s.pending),
    // §7.2: only when there is a bundle.
    ...(s.bundles !== undefined ? { bundles: treeRoot(s.bundles) } : {}),
  });
}

export type { DetailValue };
