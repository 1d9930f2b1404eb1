import { ShuniuError } from '@shuniu/protocol';
import type { AllocationState, HubState, NeedState, OfferState, ShipmentState } from '@shuniu/resolve';
import { Hono } from 'hono';
import { EPCIS_MEDIA_TYPE, epcisDocument } from '../../export/epcis.js';
import { type DeliveryRow, HXL_KINDS, type HxlKind, type HxlSource, hxlCsv } from '../../export/hxl.js';
import type { Ingestor } from '../../ingest.js';
import type { Store } from '../../store/types.js';

export interface ExportDeps {
  store: Store;
  ingestor: Ingestor;
  hubId: string;
}

/** The resolved collections and the counting deliveries an export reads (at the state version of the call). */
export function exportSource(deps: ExportDeps): HxlSource {
  const e = deps.ingestor.engine;
  const needs = (e.collection('needs') ?? []) as NeedState[];
  return {
    hubs: (e.collection('hubs') ?? []) as HubState[],
    needs,
    offers: (e.collection('offers') ?? []) as OfferState[],
    allocations: (e.collection('allocations') ?? []) as AllocationState[],
    deliveries: () => {
      const out: DeliveryRow[] = [];
      for (const n of needs)
        for (const id of n.deliveries) {
          const r = deps.store.recordById(id);
          if (!r) continue;
          const rec = JSON.parse(r.json) as { hub: string; body: DeliveryRow['body'] };
          out.push({ id, hub: rec.hub, need: n, body: rec.body });
        }
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
  };
}

function regionParam(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d{2,6}$/.test(v)) throw new ShuniuError('E_ARGUMENT', 'region must be a GB/T 2260 code or prefix (2 to 6 digits)');
  return v.replace(/(00)+$/, '') || v;
}

/**
 * Exports for partners' tools (spec/node.md §14): read access, like the
 * resolved state they are made from.
 */
export function exportRoutes(deps: ExportDeps) {
  const app = new Hono();

  app.get('/v1/export/hxl/:kind', (c) => {
    const kind = c.req.param('kind');
    if (!(HXL_KINDS as readonly string[]).includes(kind))
      throw new ShuniuError('E_NOT_FOUND', `no HXL export ${JSON.stringify(kind)}: ${HXL_KINDS.join(', ')}`);
    const text = hxlCsv(kind as HxlKind, exportSource(deps), regionParam(c.req.query('region')));
    return c.body(text, 200, {
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="shuniu-${kind}.hxl.csv"`,
    });
  });

  app.get('/v1/export/epcis', (c) => {
    const src = exportSource(deps);
    const region = regionParam(c.req.query('region'));
    const shipments = (deps.ingestor.engine.collection('shipments') ?? []) as ShipmentState[];
    const shippedAt = (handoff: string) => {
      const r = deps.store.recordById(handoff);
      return r ? (JSON.parse(r.json) as { hlc: { ms: number } }).hlc.ms : undefined;
    };
    const doc = epcisDocument({ hubs: src.hubs, shipments, deliveries: src.deliveries }, shippedAt, { now: Date.now(), ...(region ? { region } : {}) });
    return c.body(JSON.stringify(doc), 200, {
      'content-type': `${EPCIS_MEDIA_TYPE}; charset=utf-8`,
      'content-disposition': 'attachment; filename="shuniu-epcis.jsonld"',
    });
  });

  return app;
}
