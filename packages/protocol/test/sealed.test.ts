import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  eraseSealed,
  fromBase64url,
  MemoryChains,
  openSealedPart,
  publicKeysOf,
  ready,
  recordId,
  recordJson,
  type SignedRecord,
  seal,
  sealedHashOf,
  toBase64url,
  verifyRecord,
} from '../src/index.js';
import { codeOf, maskNeed, outcome, testHub } from './helpers.js';

beforeAll(ready);

const secret = { contact: '王某', phone: '13800000000', address: '孝南区书院街道' };

function setup() {
  const P = testHub('hubei');
  const C = testHub('xiaogan');
  const D = testHub('xiaonan');
  const to = [D, C].map((x) => ({ hub: x.hub.id, encryptionKey: publicKeysOf(x.hub.keys).encryptionKey }));
  const s = seal(secret, to);
  const { record, id } = D.author.sign('need.posted', maskNeed, s);
  return { P, C, D, record, id };
}

describe('sealed parts (spec/records.md §Sealed part)', () => {
  it('only the named hubs can open them', () => {
    const { P, C, D, record } = setup();
    expect(openSealedPart(record, D.hub.id, D.hub.keys.encryption)).toEqual(secret);
    expect(openSealedPart(record, C.hub.id, C.hub.keys.encryption)).toEqual(secret);
    expect(codeOf(() => openSealedPart(record, P.hub.id, P.hub.keys.encryption))).toBe('E_SEALED');
    // Claiming to be a named hub does not help without its key.
    expect(codeOf(() => openSealedPart(record, D.hub.id, P.hub.keys.encryption))).toBe('E_SEALED');
    expect(codeOf(() => openSealedPart(record, D.hub.id, C.hub.keys.encryption))).toBe('E_SEALED');
  });

  it('an erased record keeps its id and still verifies, but cannot be opened', () => {
    const { D, record, id } = setup();
    const erased = eraseSealed(record);
    expect(erased.sealed).toBeUndefined();
    expect(erased.sealedHash).toBe(record.sealedHash);
    expect(recordId(erased)).toBe(id);
    const chains = new MemoryChains();
    chains.add(D.hub.inception);
    expect(outcome(chains, recordJson(erased))).toBe('valid');
    expect(outcome(chains, recordJson(record))).toBe('duplicate');
    expect(codeOf(() => openSealedPart(erased, D.hub.id, D.hub.keys.encryption))).toBe('E_SEALED');
  });

  it('a tampered sealed part is E_SEALED; re-hashing it breaks the signature instead', () => {
    const { D, record } = setup();
    const sealed = record.sealed as NonNullable<SignedRecord['sealed']>;
    const ct = fromBase64url(sealed.ct);
    ct[0] = (ct[0] as number) ^ 1;
    const tampered = { ...record, sealed: { ...sealed, ct: toBase64url(ct) } } as SignedRecord;
    const chains = new MemoryChains();
    chains.add(D.hub.inception);
    expect(outcome(chains, recordJson(tampered))).toBe('E_SEALED');
    expect(codeOf(() => openSealedPart(tampered, D.hub.id, D.hub.keys.encryption))).toBe('E_SEALED');
    const rehashed = { ...tampered, sealedHash: sealedHashOf(tampered.sealed as NonNullable<SignedRecord['sealed']>) } as SignedRecord;
    expect(outcome(chains, recordJson(rehashed))).toBe('E_SIG');
    // A sealed part whose hash matches but whose payload fails authentication still cannot be opened.
    expect(verifyRecord(tampered, chains.view(D.hub.id)).kind).toBe('invalid');
  });

  it('moving a sealed part to another record is refused', () => {
    const { D, record } = setup();
    const other = D.author.sign(
      'need.posted',
      { ...maskNeed, quantity: 10 },
      seal({ x: 1 }, [{ hub: D.hub.id, encryptionKey: publicKeysOf(D.hub.keys).encryptionKey }]),
    );
    const swapped = { ...other.record, sealed: record.sealed } as SignedRecord;
    const chains = new MemoryChains();
    chains.add(D.hub.inception);
    chains.add(record);
    expect(outcome(chains, recordJson(swapped))).toBe('E_SEALED');
  });

  it('refuses to seal to nobody or to a malformed key', () => {
    const { D } = setup();
    expect(codeOf(() => seal(secret, []))).toBe('E_ARGUMENT');
    expect(codeOf(() => seal(secret, [{ hub: D.hub.id, encryptionKey: 'AAAA' }]))).toBe('E_KEY');
  });

  it('property: changing any one character of the sealed member gives E_SEALED or a parse/schema error, never a valid record', () => {
    const { D, record } = setup();
    const text = recordJson(record);
    const start = text.indexOf('"sealed":{') + '"sealed":'.length;
    const end = text.indexOf('},"sealedHash"') + 1;
    const chains = new MemoryChains();
    chains.add(D.hub.inception);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":{},[]';
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.integer({ min: start, max: end - 1 }), fc.constantFrom(...alphabet.split('')), (i, c) => {
        fc.pre(text[i] !== c);
        const mutated = text.slice(0, i) + c + text.slice(i + 1);
        const code = outcome(chains, mutated);
        // Where the mutation keeps the record well formed, the sealed-part check is what catches it.
        expect(['E_SEALED', 'E_JSON', 'E_IJSON', 'E_SCHEMA']).toContain(code);
        seen.add(code);
      }),
      { numRuns: 300 },
    );
    expect(seen).toContain('E_SEALED');
  });
});

describe('sealed part decoding', () => {
  it('a non-canonical ct is E_SEALED when opening, not E_ARGUMENT', () => {
    const { D, record } = setup();
    const sealed = record.sealed as NonNullable<SignedRecord['sealed']>;
    // A length of 1 mod 4 is no byte string's encoding.
    const fixedUp = { ...sealed, ct: `${sealed.ct.slice(0, sealed.ct.length - (sealed.ct.length % 4))}A` };
    const rec = { ...record, sealed: fixedUp, sealedHash: sealedHashOf(fixedUp) } as SignedRecord;
    expect(codeOf(() => openSealedPart(rec, D.hub.id, D.hub.keys.encryption))).toBe('E_SEALED');
  });
});
