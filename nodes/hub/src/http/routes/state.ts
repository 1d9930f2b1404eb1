import { ShuniuError } from '@shuniu/protocol';
import { Hono } from 'hono';
import type { Ingestor } from '../../ingest.js';
import type { Store } from '../../store/types.js';
import type { Trust } from '../../trust.js';
import { principalOf } from '../access.js';
import { feedFilter } from './feed.js';

export interface StateDeps {
  store: Store;
  ingestor: Ingestor;
  trust: Trust;
}

export const COLLECTIONS = ['needs', 'offers', 'allocations', 'shipments', 'conflicts', 'hubs'] as const;

type Item = Record<string, unknown>;

/** Filters resolved items with the feed's parameters, on the members the item has. */
function matches(item: Item, f: ReturnType<typeof feedFilter>): boolean {
  if (f.region) {
    const region = typeof item.region === 'string' ? item.region : undefined;
    if (!region?.startsWith(f.region)) return false;
  }
  if (f.urgency && !(typeof item.urgency === 'string' && f.urgency.includes(item.urgency))) return false;
  if (f.group) {
    const g = (item.beneficiaries as { group?: string } | undefined)?.group ?? item.group;
    if (!(typeof g === 'string' && f.group.includes(g))) return false;
  }
  return true;
}

/** What anonymous readers see instead of an individual donor's name (spec/node.md §6.1, issue 10 point 11). */
export const ANONYMOUS_DONOR = '爱心人士';

/**
 * An offer as an anonymous reader gets it: an individual donor who did not
 * agree to be named (`donor.named` not true) is shown as 爱心人士.
 */
export function publicOffer(item: Item): Item {
  const d = item.donor as { name?: string; kind?: string; named?: boolean } | undefined;
  if (!d || d.kind !== 'individual' || d.named === true) return item;
  return { ...item, donor: { kind: 'individual', name: ANONYMOUS_DONOR } };
}

/** Resolved state (spec/node.md §State): collections with filters and the state hash. */
export function stateRoutes(deps: StateDeps) {
  const app = new Hono();
  app.get('/v1/state/hash', (c) => c.json({ stateHash: deps.ingestor.engine.stateHash(), records: deps.store.maxOrd() }));
  app.get('/v1/state/:collection', (c) => {
    const name = c.req.param('collection');
    if (!(COLLECTIONS as readonly string[]).includes(name)) throw new ShuniuError('E_NOT_FOUND', `no state collection ${name}`);
    const f = feedFilter(c);
    let items = deps.ingestor.engine.collection(name) as Item[] | undefined;
    if (items === undefined && name === 'hubs') {
      items = deps.store.hubProfiles().map((h) => ({
        hub: h.hub,
        headSeq: h.headSeq,
        trusted: deps.trust.isTrusted(h.hub),
        ...(h.profile && typeof h.profile === 'object' ? (h.profile as Item) : {}),
      }));
    }
    if (items === undefined) throw new ShuniuError('E_NOT_FOUND', `state collection ${name} is not available on this node yet`);
    let out = items.filter((i) => matches(i, f));
    // Operators, subscribers and trusted peers see donors as recorded; anyone else only the ones who agreed to be named.
    const p = principalOf(c);
    const named = p.kind === 'operator' || p.kind === 'subscriber' || (p.kind === 'peer' && deps.trust.isTrusted(p.hub));
    if (name === 'offers' && !named) out = out.map(publicOffer);
    return c.json({ [name]: out });
  });
  return app;
}
