/**
 * Two recoveries at one seq (issue 13 point 9; spec/records.md §8 step 17,
 * spec/resolution.md §1): under every arrival order a verifier follows the
 * first recovery it can apply and keeps the other as a fork (E_FORK), and
 * the resolver, given every record, picks the same winner and state.
 */
import { assumeVerified, MemoryChains, parseRecord, ready, type SignedRecord } from '@shuniu/protocol';
import { describe, expect, it } from 'vitest';
import { type Entry, World } from '../../../spec/tools/resolution/world.js';
import { Resolver } from '../src/index.js';

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Feeds records in order, re-trying those held (E_GAP) after each one, as a node's holding area does. */
function verifyAll(records: SignedRecord[]): Map<string, string> {
  const chains = new MemoryChains();
  const verdicts = new Map<string, string>();
  let held: SignedRecord[] = [];
  const one = (r: SignedRecord, id: string): boolean => {
    const res = chains.add(parseRecord(JSON.stringify(r)));
    const v = res.kind === 'valid' ? (res.recovery ? 'recovery' : 'valid') : res.kind === 'duplicate' ? 'duplicate' : res.error.code;
    verdicts.set(id, v);
    return v !== 'E_GAP';
  };
  for (const r of records) {
    const id = idOf(r);
    if (!one(r, id)) held.push(r);
    let progress = true;
    while (progress) {
      progress = false;
      const still: SignedRecord[] = [];
      for (const h of held)
        if (one(h, idOf(h))) progress = true;
        else still.push(h);
      held = still;
    }
  }
  return verdicts;
}

const ids = new Map<SignedRecord, string>();
const idOf = (r: SignedRecord) => ids.get(r) as string;

describe('two recoveries at one seq, every arrival order', async () => {
  await ready();
  const w = new World();
  const hubei = w.hub('hubei');
  w.profile(hubei, 'province', '420000', '湖北省枢纽');
  const xiaonan = w.hub('xiaonan');
  w.admit(hubei, xiaonan, 'county', '420902');
  w.profile(xiaonan, 'county', '420902', '孝南区枢纽');
  const good1 = w.need(xiaonan, { requester: { name: '甲医院', kind: 'hospital' } });
  const head = { ...xiaonan.author.head };
  const thief = w.thief(xiaonan);
  const owner = w.recover(xiaonan, head);
  const ownerNeed = w.need(xiaonan, { requester: { name: '乙医院', kind: 'hospital' } });
  // The thief copied the recovery seed too and recovers later: a greater hlc, so it wins unless the owner's is vouched.
  const thiefRec = w.recover(thief, head, 9);
  const thiefNeed = w.need(thief, { requester: { name: '假医院', kind: 'hospital' }, quantity: 9999 });
  for (const e of w.records) ids.set(e.record, e.id);
  const byId = new Map(w.records.map((e) => [e.id, e]));
  const tail = [owner, ownerNeed, thiefRec, thiefNeed].map((id) => byId.get(id) as Entry);
  const prefix = w.records.filter((e) => !tail.includes(e));
  const orders = permutations(tail);

  it('the verifier follows the first recovery it can apply; the other is E_FORK, never followed', () => {
    expect(orders).toHaveLength(24);
    for (const order of orders) {
      const v = verifyAll([...prefix, ...order].map((e) => e.record));
      const label = order.map((e) => e.id.slice(0, 4)).join(' ');
      const recoveries = [owner, thiefRec].map((id) => v.get(id));
      expect(recoveries.sort(), label).toEqual(['E_FORK', 'recovery']);
      const followed = v.get(owner) === 'recovery' ? owner : thiefRec;
      const [mine, other] = followed === owner ? [ownerNeed, thiefNeed] : [thiefNeed, ownerNeed];
      expect(v.get(mine), label).toBe('valid');
      // The other branch's record does not verify on this chain (other keys): a node keeps it beside the chain.
      expect(['E_SIG', 'E_CHAIN', 'E_FORK'], label).toContain(v.get(other));
      expect(v.get(good1)).toBe('valid');
    }
  });

  it('the resolver, given every record, picks the same winner and state hash whatever the order', () => {
    const hashes = new Set<string>();
    for (const order of orders) {
      const r = new Resolver({ roots: [hubei.id] });
      for (const e of [...prefix, ...order]) r.apply(assumeVerified(e.record, e.id));
      hashes.add(r.stateHash());
      const s = r.state() as unknown as { hubs: Record<string, { recovery?: string }>; needs: Record<string, unknown> };
      expect(s.hubs[xiaonan.id]?.recovery).toBe(thiefRec);
      expect(s.needs[thiefNeed]).toBeDefined();
      expect(s.needs[ownerNeed]).toBeUndefined();
      expect(s.needs[good1]).toBeDefined();
    }
    expect(hashes.size).toBe(1);
  });
});
