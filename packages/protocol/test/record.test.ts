import { beforeAll, describe, expect, it } from 'vitest';
import type { BodyOf } from '../src/index.js';
import { Author, createHub, eraseSealed, MemoryChains, openSealedPart, publicKeysOf, ready, recordId, seal, verifyRecord } from '../src/index.js';

beforeAll(ready);

const need: BodyOf<'need.posted'> = {
  item: { code: 'PPE.MASK.N95', name: 'N95 口罩' },
  quantity: 200,
  unit: { name: 'box', base: 'piece', size: 50 },
  urgency: 'critical',
  neededBy: '2020-01-30T00:00:00Z',
  region: '420902',
  beneficiaries: { group: 'medical_staff', count: 300 },
  requester: { name: '孝南区人民医院', kind: 'hospital' },
};

describe('chain of signed records', () => {
  it('accepts a hub chain, reports duplicates, and keeps erased sealed records verifiable', () => {
    const hub = createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: 1579852800000, c: 0 } });
    let t = 1579852800000;
    const author = Author.fromNewHub(hub, () => (t += 1000));
    const chains = new MemoryChains();
    expect(chains.add(hub.inception).kind).toBe('valid');
    const { record, id } = author.sign('need.posted', need);
    expect(recordId(record)).toBe(id);
    expect(chains.add(record).kind).toBe('valid');
    expect(chains.add(record).kind).toBe('duplicate');

    const s = seal({ name: '张三', phone: '13800000000' }, [{ hub: hub.id, encryptionKey: publicKeysOf(hub.keys).encryptionKey }]);
    const sealedRec = author.sign('need.posted', need, s);
    expect(chains.add(sealedRec.record).kind).toBe('valid');
    expect(openSealedPart(sealedRec.record, hub.id, hub.keys.encryption)).toEqual({ name: '张三', phone: '13800000000' });
    const erased = eraseSealed(sealedRec.record);
    expect(recordId(erased)).toBe(sealedRec.id);
    const fresh = new MemoryChains();
    fresh.add(hub.inception);
    fresh.add(record);
    expect(verifyRecord(erased, fresh.view(hub.id)).kind).toBe('valid');
  });
});
