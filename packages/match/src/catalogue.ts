import { RELIEF_ITEMS, type ReliefItem } from '@shuniu/protocol';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { cmpStr, duplicateGroups, groupGap, intentBreach, needIsOpen, offerIsOpen, representative } from './rules.js';
import type { Catalogue, Proposal } from './types.js';

/** The engine's Catalogue from relief items: base, packs as units, substitutes (spec/catalogue.md §5). */
export function catalogueFromItems(items: readonly ReliefItem[]): Catalogue {
  return { items: items.map((it) => ({ code: it.code, base: it.base, units: { ...it.packs }, substitutes: [...it.substitutes] })) };
}

/**
 * The relief-item catalogue of spec/catalogue.json in the engine's shape: pass
 * it as `catalogue` to convert packs (spec/matching.md §4) and to
 * substituteHints.
 *
 * @example propose(state, { catalogue: RELIEF_CATALOGUE })
 */
export const RELIEF_CATALOGUE: Catalogue = catalogueFromItems(RELIEF_ITEMS);

/** An open offer of a substitute item that could serve a need still short after the proposals (spec/catalogue.md §5). */
export interface SubstituteHint {
  need: string;
  /** The need's item code. */
  item: string;
  /** Still missing after the standing allocations and the proposals, in the need's base unit. */
  gap: number;
  unit: string;
  offer: string;
  /** The offer's item: one of the need item's `substitutes`. */
  offerItem: string;
  /** What the offer still has after the proposals, in its own base unit (shared by every hint naming it). */
  available: number;
  offerUnit: string;
}

/**
 * For each need still short after `proposals`, the open offers of an item the
 * catalogue lists as a substitute for the need's item, whose donor intent
 * allows the need (H1). Hints are not allocations: the resolver voids an
 * allocation across items, so the requester posts a need for the substitute
 * item if it will take it. Order: need id, the order of `substitutes`, offer id.
 *
 * @example substituteHints(state, propose(state, { catalogue: RELIEF_CATALOGUE }))
 */
export function substituteHints(state: ResolvedState, proposals: readonly Proposal[], catalogue: Catalogue = RELIEF_CATALOGUE): SubstituteHint[] {
  const subs = new Map(catalogue.items.map((it) => [it.code, it.substitutes ?? []]));
  const toNeed = new Map<string, number>();
  const fromOffer = new Map<string, number>();
  for (const p of proposals) {
    toNeed.set(p.need, (toNeed.get(p.need) ?? 0) + p.quantity);
    fromOffer.set(p.offer, (fromOffer.get(p.offer) ?? 0) + p.offerQuantity);
  }
  const byItem = new Map<string, OfferState[]>();
  for (const id of Object.keys(state.offers).sort(cmpStr)) {
    const o = state.offers[id] as OfferState;
    if (!offerIsOpen(o, state.clock)) continue;
    const list = byItem.get(o.item.code);
    if (list) list.push(o);
    else byItem.set(o.item.code, [o]);
  }
  const dups = duplicateGroups(state);
  const out: SubstituteHint[] = [];
  for (const id of Object.keys(state.needs).sort(cmpStr)) {
    const n = state.needs[id] as NeedState;
    const codes = subs.get(n.item.code);
    if (codes === undefined || codes.length === 0 || !needIsOpen(n)) continue;
    const members = dups.get(id);
    if (members !== undefined && representative(state, members) !== id) continue;
    const g = groupGap(state, n, members);
    const gap = g.quantity - g.covered - (toNeed.get(id) ?? 0);
    if (gap <= 0) continue;
    for (const code of codes)
      for (const o of byItem.get(code) ?? []) {
        const available = o.available - (fromOffer.get(o.id) ?? 0);
        if (available <= 0 || intentBreach(o, n) !== undefined) continue;
        out.push({ need: id, item: n.item.code, gap, unit: n.unit.base, offer: o.id, offerItem: code, available, offerUnit: o.unit.base });
      }
  }
  return out;
}
