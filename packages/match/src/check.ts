import type { BodyOf } from '@shuniu/protocol';
import type { ResolvedState } from '@shuniu/resolve';
import { covered, duplicateGroups, intentBreach, needIsOpen, offerIsOpen, Units } from './rules.js';
import type { MatchOptions, Proposal, Violation } from './types.js';

/** The part of a proposal the hard rules look at; `offerQuantity` defaults to `quantity`. */
export type Planned = Pick<Proposal, 'offer' | 'need' | 'quantity'> & { offerQuantity?: number };

/**
 * Checks a set of planned allocations against the hard rules H1–H6 of
 * spec/matching.md, as if they were all signed at once. Used by the bench on
 * baselines and available to operators for hand-made plans.
 *
 * @example violations(state, propose(state)) // []
 */
export function violations(state: ResolvedState, planned: readonly Planned[], opts: Pick<MatchOptions, 'catalogue'> = {}): Violation[] {
  const units = new Units(opts.catalogue);
  const dups = duplicateGroups(state);
  const out: Violation[] = [];
  const perOffer = new Map<string, number>();
  const perGroup = new Map<string, { quantity: number; members: Set<string> }>();
  for (const p of planned) {
    const v = (rule: Violation['rule'], message: string) => out.push({ rule, offer: p.offer, need: p.need, message });
    const o = state.offers[p.offer];
    const n = state.needs[p.need];
    if (o === undefined) v('unknown_offer', `no offer ${p.offer}`);
    if (n === undefined) v('unknown_need', `no need ${p.need}`);
    if (o === undefined || n === undefined) continue;
    const oq = p.offerQuantity ?? p.quantity;
    if (!Number.isSafeInteger(p.quantity) || p.quantity < 1 || !Number.isSafeInteger(oq) || oq < 1) {
      v('quantity_not_positive_integer', `quantity ${p.quantity} / ${oq}`);
      continue;
    }
    if (!offerIsOpen(o, state.clock)) v('offer_not_available', `offer ${o.status}, available ${o.available}`);
    if (!needIsOpen(n)) v('need_not_open', `need ${n.status}`);
    const breach = intentBreach(o, n);
    if (breach !== undefined) v(breach, `donor intent ${JSON.stringify(o.intent)} excludes need in ${n.region} for ${n.beneficiaries.group}`);
    const s = units.scale(o, n);
    if (s === undefined || p.quantity * s.need !== oq * s.offer) v('item_mismatch', `offer ${o.item.code}/${o.unit.base}, need ${n.item.code}/${n.unit.base}`);
    perOffer.set(o.id, (perOffer.get(o.id) ?? 0) + oq);
    const members = dups.get(n.id);
    const key = members?.[0] ?? n.id;
    const g = perGroup.get(key) ?? { quantity: 0, members: new Set<string>() };
    g.quantity += p.quantity;
    g.members.add(n.id);
    perGroup.set(key, g);
  }
  for (const [id, q] of perOffer) {
    const o = state.offers[id];
    if (o !== undefined && q > o.available)
      out.push({ rule: 'over_offer', offer: id, need: '', message: `${q} ${o.unit.base} planned, ${o.available} available` });
  }
  for (const [key, g] of perGroup) {
    const members = dups.get(key);
    const ids = [...g.members];
    if (members !== undefined && ids.length > 1)
      out.push({ rule: 'duplicate_matched_twice', offer: '', need: key, message: `likely duplicates ${ids.sort().join(', ')} all matched` });
    const n = state.needs[ids[0] as string];
    if (n === undefined) continue;
    let have = 0;
    for (const m of members ?? [n.id]) {
      const mn = state.needs[m];
      if (mn !== undefined && needIsOpen(mn) && mn.item.code === n.item.code && mn.unit.base === n.unit.base) have += covered(mn);
    }
    if (g.quantity + have > n.quantity)
      out.push({ rule: 'over_need', offer: '', need: n.id, message: `${g.quantity} planned + ${have} covered > ${n.quantity}` });
  }
  return out;
}

/**
 * The body of the allocation record an operator signs for a proposal
 * (record type `allocation`, quantity in base units).
 *
 * @example author.sign('allocation', allocationBody(proposal, 'Hubei hub, round 1'))
 */
export function allocationBody(p: Pick<Proposal, 'offer' | 'need' | 'quantity'>, note?: string): BodyOf<'allocation'> {
  return note === undefined ? { offer: p.offer, need: p.need, quantity: p.quantity } : { offer: p.offer, need: p.need, quantity: p.quantity, note };
}
