/**
 * Finished objects (spec/resolution.md §11): the needs, offers, allocations
 * and shipments of a resolved state that no longer change unless a record
 * touches them or one of their neighbours. The rule is a pure function of the
 * state, so any implementation (and the bench's open share) can evaluate it;
 * it changes nothing in the state or its hash. An implementation may keep
 * finished objects out of memory provided it loads them back before any
 * record or derivation reads them (§11, coming back).
 */
import type { ResolvedState } from './types.js';

export interface FinishedSets {
  needs: Set<string>;
  offers: Set<string>;
  allocations: Set<string>;
  shipments: Set<string>;
}

/** The finished needs, offers, allocations and shipments of `state` (spec/resolution.md §11). */
export function finishedObjects(state: ResolvedState): FinishedSets {
  const shipments = new Set<string>();
  // Allocations listed by a shipment with no receipt in force: goods under way.
  const underWay = new Set<string>();
  for (const s of Object.values(state.shipments)) {
    if (s.receipt !== undefined) shipments.add(s.id);
    else for (const a of s.allocations) underWay.add(a);
  }
  const needBusy = new Set<string>();
  const offerBusy = new Set<string>();
  for (const a of Object.values(state.allocations)) {
    if (!underWay.has(a.id)) continue;
    needBusy.add(a.need);
    offerBusy.add(a.offer);
  }
  const needs = new Set<string>();
  for (const n of Object.values(state.needs)) if (n.closed !== undefined && !needBusy.has(n.id)) needs.add(n.id);
  const offers = new Set<string>();
  for (const o of Object.values(state.offers)) if ((o.withdrawn !== undefined || o.available === 0) && !offerBusy.has(o.id)) offers.add(o.id);
  const allocations = new Set<string>();
  for (const a of Object.values(state.allocations))
    if (a.status === 'declined' || a.status === 'void' || (needs.has(a.need) && offers.has(a.offer))) allocations.add(a.id);
  return { needs, offers, allocations, shipments };
}
