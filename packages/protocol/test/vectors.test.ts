import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha512 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildVectors, type InvalidVector, type RecordVector } from '../../../spec/tools/vectors-lib.js';
import {
  ed25519Verify,
  fromBase64url,
  fromHex,
  jcs,
  keyPairsFromSeeds,
  MemoryChains,
  openSealedPart,
  parseRecord,
  ready,
  recordId,
  recoveryCommitment,
  type SignedRecord,
  seal,
  sha256,
  signedBytes,
  toBase64url,
  toHex,
} from '../src/index.js';
import { loadVectors, outcome, specDir } from './helpers.js';

beforeAll(ready);

type KeyVector = {
  comment: string;
  hubId: string;
  signingSeed: string;
  signingSecretKey: string;
  signingPublicKey: string;
  signingKey: string;
  encryptionSeed: string;
  encryptionSecretKey: string;
  encryptionPublicKey: string;
  encryptionKey: string;
  recoverySeed: string;
  recoveryPublicKey: string;
  recoveryKey: string;
  recoveryCommitment: string;
  inceptionBody?: Record<string, unknown>;
  inceptionBodyJcs?: string;
};

const keys = loadVectors<{ vectors: KeyVector[] }>('keys.json');
const records = loadVectors<{ vectors: RecordVector[] }>('records.json');
const invalid = loadVectors<{ vectors: InvalidVector[] }>('invalid.json');

describe('spec/vectors are what spec/tools/gen-vectors.ts generates', () => {
  it('keys.json, records.json and invalid.json equal a fresh deterministic build (run `pnpm vectors` after a change)', async () => {
    const fresh = JSON.parse(JSON.stringify(await buildVectors()));
    expect(fresh.keys).toEqual(keys);
    expect(fresh.records).toEqual(records);
    expect(fresh.invalid).toEqual(invalid);
  });
});

describe('keys.json', () => {
  it('spec/keys.md §6 spells every seed label: each one of its table is a seed of keys.json, and every seed is one of them', () => {
    const md = readFileSync(join(specDir, 'keys.md'), 'utf8');
    const table = md.slice(md.indexOf('| hub | generation 1 | generation 2 |'), md.indexOf('(The random bytes of the sealed vector'));
    const labels = [...table.matchAll(/`(shuniu-vectors:[^`]+)`/g)].map((m) => m[1] as string);
    expect(labels).toHaveLength(15);
    const seeds = new Set(keys.vectors.flatMap((v) => [v.signingSeed, v.encryptionSeed, v.recoverySeed]));
    const fromLabels = new Set(labels.map((l) => toHex(sha256(new TextEncoder().encode(l)))));
    expect(fromLabels).toEqual(seeds);
  });

  it.each(keys.vectors.map((v) => [v.comment, v] as const))('%s', (_c, v) => {
    const kp = keyPairsFromSeeds({ signing: fromHex(v.signingSeed), encryption: fromHex(v.encryptionSeed), recovery: fromHex(v.recoverySeed) });
    expect(toHex(kp.signing.publicKey)).toBe(v.signingPublicKey);
    expect(toHex(kp.signing.secretKey)).toBe(v.signingSecretKey);
    expect(v.signingSecretKey).toBe(v.signingSeed + v.signingPublicKey);
    expect(toBase64url(kp.signing.publicKey)).toBe(v.signingKey);
    // spec/keys.md: the X25519 secret key is the first half of SHA-512(seed).
    expect(toHex(sha512(fromHex(v.encryptionSeed)).slice(0, 32))).toBe(v.encryptionSecretKey);
    expect(toHex(kp.encryption.publicKey)).toBe(v.encryptionPublicKey);
    expect(toBase64url(fromHex(v.encryptionPublicKey))).toBe(v.encryptionKey);
    expect(toHex(kp.recovery.publicKey)).toBe(v.recoveryPublicKey);
    expect(toBase64url(kp.recovery.publicKey)).toBe(v.recoveryKey);
    expect(recoveryCommitment(kp.recovery.publicKey)).toBe(v.recoveryCommitment);
    expect(toBase64url(sha256(fromHex(v.recoveryPublicKey)))).toBe(v.recoveryCommitment);
    if (v.inceptionBody) {
      expect(v.inceptionBody).toMatchObject({ signingKey: v.signingKey, encryptionKey: v.encryptionKey, recoveryCommitment: v.recoveryCommitment });
      expect(jcs(v.inceptionBody)).toBe(v.inceptionBodyJcs);
      expect(toBase64url(sha256(new TextEncoder().encode(v.inceptionBodyJcs)))).toBe(v.hubId);
    }
  });

  it('covers the three hubs of the worked example', () => {
    const regions = keys.vectors.filter((v) => v.inceptionBody).map((v) => (v as unknown as { region: string }).region);
    expect(regions).toEqual(['420000', '420900', '420902']);
  });
});

describe('records.json', () => {
  it('covers every record type and a sealed part', async () => {
    const { RECORD_TYPES } = await import('../src/index.js');
    const types = new Set(records.vectors.map((v) => v.record.type));
    for (const t of RECORD_TYPES) expect(types, t).toContain(t);
    expect(records.vectors.some((v) => v.record.sealed)).toBe(true);
  });

  it('verifies as one stream: signed bytes, id and chain position of every record', () => {
    const chains = new MemoryChains();
    for (const v of records.vectors) {
      const record = parseRecord(JSON.stringify(v.record));
      expect(toHex(signedBytes(record)), v.comment).toBe(v.signedBytes);
      expect(recordId(record), v.comment).toBe(v.id);
      expect(toBase64url(sha256(fromHex(v.signedBytes)))).toBe(v.id);
      expect(outcome(chains, record), v.comment).toBe('valid');
    }
  });

  it('signed bytes are the JCS of the record without sig and sealed', () => {
    for (const v of records.vectors) {
      const { sig: _s, sealed: _x, ...rest } = v.record;
      expect(new TextDecoder().decode(fromHex(v.signedBytes))).toBe(jcs(rest));
    }
  });

  it('the sealed vector opens for both named hubs and is reproducible from its recorded randomness', () => {
    const v = records.vectors.find((x) => x.sealing) as RecordVector & { sealing: NonNullable<RecordVector['sealing']> };
    const rec = v.record as SignedRecord;
    for (const hubId of v.sealing.recipients) {
      const k = keys.vectors.find((x) => x.hubId === hubId && x.inceptionBody) as KeyVector;
      const pair = keyPairsFromSeeds({ signing: fromHex(k.signingSeed), encryption: fromHex(k.encryptionSeed), recovery: fromHex(k.recoverySeed) });
      expect(openSealedPart(rec, hubId, pair.encryption)).toEqual(v.sealing.payload);
    }
    const draws = [v.sealing.key, v.sealing.nonce, ...v.sealing.ephemeralSeeds].map(fromHex);
    const recipients = v.sealing.recipients.map((hub) => ({ hub, encryptionKey: (keys.vectors.find((x) => x.hubId === hub) as KeyVector).encryptionKey }));
    const again = seal(v.sealing.payload as never, recipients, { randomBytes: () => draws.shift() as Uint8Array });
    expect(again.sealed).toEqual(rec.sealed);
    expect(again.sealedHash).toBe(rec.sealedHash);
    // Each key entry is a libsodium sealed box: ephemeral public key (32) ‖ box (32 + 16).
    for (const t of rec.sealed?.to ?? []) expect(fromBase64url(t.key).length).toBe(80);
  });
});

describe('invalid.json', () => {
  it.each(invalid.vectors.map((v) => [v.comment, v] as const))('%s', (_c, v) => {
    const chains = new MemoryChains();
    for (const r of v.context) expect(outcome(chains, JSON.stringify(r)), 'context record').toBe('valid');
    expect(outcome(chains, v.record)).toBe(v.error);
  });

  it('Ed25519 strictness (spec/keys.md §1): a permissive verifier (node:crypto) accepts the small-order forgeries; ours refuses every ed25519 vector', () => {
    const strict = invalid.vectors.filter((v) => v.tags.includes('ed25519'));
    expect(strict.length).toBeGreaterThanOrEqual(8);
    const tags = new Set(strict.flatMap((v) => v.tags));
    for (const t of ['small-order', 'non-canonical']) expect(tags).toContain(t);
    let acceptedByNodeCrypto = 0;
    for (const v of strict) {
      const r = JSON.parse(v.record) as SignedRecord;
      const key = r.type === 'hub.inception' ? r.body.signingKey : (v.context[0] as SignedRecord & { body: { signingKey: string } }).body.signingKey;
      const { sig, ...unsigned } = r;
      const msg = signedBytes(unsigned as Parameters<typeof signedBytes>[0]);
      const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), fromBase64url(key)]), format: 'der', type: 'spki' });
      if (nodeVerify(null, msg, spki, fromBase64url(sig))) acceptedByNodeCrypto++;
      expect(ed25519Verify(fromBase64url(sig), msg, fromBase64url(key)), v.comment).toBe(false);
      const chains = new MemoryChains();
      for (const c of v.context) expect(outcome(chains, JSON.stringify(c))).toBe('valid');
      expect(outcome(chains, v.record), v.comment).toBe('E_SIG');
    }
    // The small-order and non-canonical-key forgeries hold for this very message: only the checks make them fail.
    expect(acceptedByNodeCrypto).toBeGreaterThanOrEqual(6);
  });

  it('pins every error code a record alone can produce', () => {
    const codes = new Set(invalid.vectors.map((v) => v.error));
    for (const c of ['E_JSON', 'E_IJSON', 'E_SCHEMA', 'E_VERSION', 'E_SIG', 'E_HUB_ID', 'E_CHAIN', 'E_GAP', 'E_FORK', 'E_SEALED']) expect(codes).toContain(c);
  });
});
