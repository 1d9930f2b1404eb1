/**
 * Shipments are linked through counting records only (spec/resolution.md §1:
 * records that do not count change nothing; §6: corrections and receipts that
 * name a handoff not in the state wait, listed in `pending`). Found by the
 * differential test against the reference model (test/model, issue 14 point 2).
 */
import { assumeVerified, ready } from '@shuniu/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { World } from '../../../spec/tools/resolution/world.js';
import { Resolver } from '../src/index.js';
import { modelState, modelStateHash } from './model/model.js';

beforeAll(ready);

function both(w: World, roots: string[]) {
  const records = w.records.map((e) => assumeVerified(e.record, e.id));
  const r = new Resolver({ roots });
  for (const v of [...records].reverse()) r.apply(v);
  const model = modelState(roots, records);
  expect(r.state()).toEqual(model);
  expect(r.stateHash()).toBe(modelStateHash(model));
  return r.state();
}

describe('custody links through counting records only', () => {
  it('a receipt naming the handoff of a hub not admitted waits in pending', () => {
    const w = new World();
    const root = w.hub('root');
    const stranger = w.hub('stranger');
    const h = w.handoff(stranger, root, [], 1);
    const receipt = w.receipt(root, h, 1);
    const s = both(w, [root.id]);
    expect(s.held[h]).toBe(stranger.id);
    expect(s.shipments[h]).toBeUndefined();
    expect(s.pending[h]).toEqual([receipt]);
  });

  it('a correction naming an unauthorised handoff (author not its `from`) waits in pending', () => {
    const w = new World();
    const root = w.hub('root');
    const a = w.hub('a');
    w.admit(root, a, 'city', '420900');
    const h = w.handoff(root, root, [], 1, { from: a.id });
    const fix = w.handoff(root, root, [], 2, { from: a.id, corrects: h });
    const s = both(w, [root.id]);
    expect(s.conflicts[`${h}/unauthorised`]).toBeDefined();
    expect(s.pending[h]).toEqual([fix]);
  });

  it('a correction naming a correction that does not count does not join the shipment, and waits', () => {
    const w = new World();
    const root = w.hub('root');
    const a = w.hub('a');
    const stranger = w.hub('stranger');
    w.admit(root, a, 'city', '420900');
    const h = w.handoff(root, a, [], 1);
    const held = w.handoff(stranger, a, [], 5, { from: root.id, corrects: h });
    const fix = w.handoff(root, a, [], 9, { corrects: held });
    const receipt = w.receipt(a, held, 5);
    const s = both(w, [root.id]);
    expect(s.shipments[h]?.versions).toEqual([h]);
    expect(s.shipments[h]?.shipped).toBe(50);
    expect(s.shipments[h]?.receipt).toBeUndefined();
    expect(s.pending[held]).toEqual([fix, receipt].sort());
  });

  it('a correction naming an unauthorised correction does not join the shipment through it, and waits', () => {
    const w = new World();
    const root = w.hub('root');
    const a = w.hub('a');
    const b = w.hub('b');
    w.admit(root, a, 'city', '420900');
    w.admit(root, b, 'city', '420981');
    const h = w.handoff(root, a, [], 1);
    const bad = w.handoff(b, a, [], 5, { from: root.id, corrects: h });
    const fix = w.handoff(root, a, [], 9, { corrects: bad });
    const s = both(w, [root.id]);
    expect(s.conflicts[`${bad}/unauthorised`]?.detail.expected).toBe(root.id);
    expect(s.shipments[h]?.versions).toEqual([h]);
    expect(s.shipments[h]?.handoff).toBe(h);
    expect(s.pending[bad]).toEqual([fix]);
  });

  it('a correction by the first handoff’s author that changes `from` is unauthorised, expected its own `from`; the shipment keeps its first version', () => {
    const w = new World();
    const root = w.hub('root');
    const a = w.hub('a');
    const b = w.hub('b');
    w.admit(root, a, 'city', '420900');
    w.admit(root, b, 'city', '420100');
    const h = w.handoff(root, a, [], 1);
    const fix = w.handoff(root, a, [], 2, { from: b.id, corrects: h });
    const s = both(w, [root.id]);
    expect(s.conflicts[`${fix}/unauthorised`]?.detail).toMatchObject({ author: root.id, expected: b.id });
    expect(s.shipments[h]?.versions ?? []).not.toContain(fix);
  });
});
