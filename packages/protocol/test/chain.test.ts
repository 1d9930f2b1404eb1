import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BodyOf,
  DEFAULT_MAX_SKEW_MS,
  keyPairsFromSeeds,
  MemoryChains,
  PROTOCOL_VERSION,
  publicKeysOf,
  ready,
  recordId,
  recordJson,
  type SignedRecord,
  signRecord,
  toBase64url,
  verifyRecord,
} from '../src/index.js';
import { maskNeed, outcome, seedsOf, T0, testHub } from './helpers.js';

beforeAll(ready);

const closed = (need: string): BodyOf<'need.closed'> => ({ need, reason: 'fulfilled' });

describe('chain verification (spec/records.md §Verification)', () => {
  it('accepts a chain in order, reports duplicates, holds gaps and proves forks', () => {
    const { hub, author } = testHub('xiaonan');
    const chains = new MemoryChains();
    const r1 = author.sign('need.posted', maskNeed);
    const r2 = author.sign('need.closed', closed(r1.id));
    expect(outcome(chains, r1.record)).toBe('E_GAP'); // no inception yet
    expect(outcome(chains, hub.inception)).toBe('valid');
    expect(outcome(chains, hub.inception)).toBe('duplicate');
    expect(outcome(chains, r2.record)).toBe('E_GAP');
    expect(outcome(chains, r1.record)).toBe('valid');
    expect(outcome(chains, r2.record)).toBe('valid');

    const fork = signRecord(
      { ...r2.record, body: closed(r1.id + ''), sig: undefined, hlc: { ms: r2.record.hlc.ms, c: 1 } } as never,
      hub.keys.signing.secretKey,
    );
    const res = chains.add(fork);
    expect(res.kind).toBe('fork');
    if (res.kind !== 'fork') return;
    expect(res.error.code).toBe('E_FORK');
    expect(res.existing).toBe(r2.id);
    expect(res.error.detail).toEqual({ hub: hub.id, seq: 2, ids: [r2.id, recordId(fork)] });
    expect(chains.forks).toHaveLength(1);
    expect(chains.forks[0]?.records.map((r) => recordId(r))).toEqual([r2.id, recordId(fork)]);
    // The fork does not replace what was held.
    expect(chains.record(hub.id, 2)).toEqual(r2.record);
  });

  it('refuses records more than the allowed skew ahead of the receiver clock (E_CLOCK_SKEW)', () => {
    const { hub, author } = testHub('xiaonan');
    const r = author.sign('need.posted', maskNeed);
    const chains = new MemoryChains();
    chains.add(hub.inception);
    const ms = r.record.hlc.ms;
    expect(outcome(chains, r.record, { now: ms - DEFAULT_MAX_SKEW_MS - 1 })).toBe('E_CLOCK_SKEW');
    expect(verifyRecord(r.record, chains.view(hub.id), { now: ms - 1000, maxSkewMs: 999 }).kind).toBe('invalid');
    expect(outcome(chains, r.record, { now: ms - DEFAULT_MAX_SKEW_MS })).toBe('valid');
  });

  it('an inception must be seq 0 with prev null and a hub id derived from its body', () => {
    const { hub } = testHub('xiaonan');
    const other = testHub('xiaogan');
    const resign = (change: Partial<SignedRecord>) =>
      signRecord({ ...hub.inception, ...change, sig: undefined } as never, hub.keys.signing.secretKey) as SignedRecord;
    expect(outcome(new MemoryChains(), resign({ hub: other.hub.id }))).toBe('E_HUB_ID');
    expect(outcome(new MemoryChains(), resign({ seq: 1 }))).toBe('E_CHAIN');
    expect(outcome(new MemoryChains(), resign({ prev: hub.id }))).toBe('E_CHAIN');
    const wrongKey = signRecord({ ...hub.inception, sig: undefined } as never, other.hub.keys.signing.secretKey);
    expect(outcome(new MemoryChains(), wrongKey)).toBe('E_SIG');
  });
});

describe('key rotation and recovery (spec/keys.md)', () => {
  it('an ordinary rotation is signed with the old key; later records need the new one', () => {
    const { hub, author } = testHub('xiaonan');
    const next = keyPairsFromSeeds(seedsOf('xiaonan#2'));
    const chains = new MemoryChains();
    chains.add(hub.inception);
    const rot = author.sign('hub.keys.rotated', publicKeysOf(next));
    expect(outcome(chains, rot.record)).toBe('valid');
    expect(chains.view(hub.id)?.keys).toEqual(publicKeysOf(next));

    const stale = author.sign('need.posted', maskNeed); // still the old key
    expect(outcome(chains, stale.record)).toBe('E_SIG');
    author.head = { seq: rot.record.seq, id: rot.id, hlc: stale.record.hlc };
    author.useKey(next.signing.secretKey);
    const fresh = author.sign('need.posted', maskNeed);
    expect(outcome(chains, fresh.record)).toBe('valid');
  });

  it('a record signed with a rotated key that arrives before the rotation is held (E_GAP), then accepted', () => {
    const { hub, author } = testHub('xiaonan');
    const next = keyPairsFromSeeds(seedsOf('xiaonan#2'));
    const a = author.sign('need.posted', maskNeed);
    const rot = author.sign('hub.keys.rotated', publicKeysOf(next));
    author.useKey(next.signing.secretKey);
    const b = author.sign('need.closed', closed(a.id));
    const chains = new MemoryChains();
    chains.add(hub.inception);
    expect(outcome(chains, b.record)).toBe('E_GAP');
    expect(outcome(chains, rot.record)).toBe('E_GAP');
    expect(outcome(chains, a.record)).toBe('valid');
    expect(outcome(chains, rot.record)).toBe('valid');
    expect(outcome(chains, b.record)).toBe('valid');
  });

  it('recovery cuts off a thief: branches before the stolen-key records, even after the thief rotated the commitment away', () => {
    const owner = testHub('xiaogan');
    const { hub } = owner;
    const chains = new MemoryChains();
    chains.add(hub.inception);
    const good = owner.author.sign('hub.admitted', { child: hub.id, level: 'county', region: '420902' });
    chains.add(good.record);

    // The thief holds the signing key: signs a bogus offer and rotates to keys of its own.
    const thiefKeys = keyPairsFromSeeds(seedsOf('thief'));
    const t1 = owner.author.sign('offer.withdrawn', { offer: good.id, reason: 'stolen key' });
    const t2 = owner.author.sign('hub.keys.rotated', publicKeysOf(thiefKeys));
    expect(outcome(chains, t1.record)).toBe('valid');
    expect(outcome(chains, t2.record)).toBe('valid');

    // The owner reveals the recovery key committed in the inception and branches at seq 2.
    const fresh = keyPairsFromSeeds(seedsOf('xiaogan#2'));
    const recovery = signRecord(
      {
        v: PROTOCOL_VERSION,
        type: 'hub.keys.rotated',
        hub: hub.id,
        seq: 2,
        prev: good.id,
        hlc: { ms: t2.record.hlc.ms + 60_000, c: 0 },
        body: { ...publicKeysOf(fresh), recovery: { key: toBase64url(hub.keys.recovery.publicKey) } },
      },
      hub.keys.recovery.secretKey,
    );
    const res = chains.add(recovery);
    expect(res.kind).toBe('valid');
    expect(res.kind === 'valid' && res.recovery).toBe(true);
    expect(chains.view(hub.id)?.head.seq).toBe(2);
    expect(chains.view(hub.id)?.keys).toEqual(publicKeysOf(fresh));

    // The thief's next record no longer verifies; its old seq-2 record is now proof of a fork.
    const thiefNext = signRecord(
      {
        v: PROTOCOL_VERSION,
        type: 'need.closed',
        hub: hub.id,
        seq: 3,
        prev: recordId(recovery),
        hlc: { ms: recovery.hlc.ms + 1, c: 0 },
        body: closed(good.id),
      },
      thiefKeys.signing.secretKey,
    );
    expect(outcome(chains, thiefNext)).toBe('E_SIG');
    expect(outcome(chains, t1.record)).toBe('E_FORK');

    // The revealed recovery key cannot be used twice: the new commitment names another key.
    const again = signRecord(
      { ...recovery, seq: 3, prev: recordId(recovery), sig: undefined, hlc: { ms: recovery.hlc.ms + 2, c: 0 } } as never,
      hub.keys.recovery.secretKey,
    );
    expect(outcome(chains, again)).toBe('E_SIG');
    // And the recovered hub signs on with its fresh key.
    const ok = signRecord(
      {
        v: PROTOCOL_VERSION,
        type: 'need.closed',
        hub: hub.id,
        seq: 3,
        prev: recordId(recovery),
        hlc: { ms: recovery.hlc.ms + 3, c: 0 },
        body: closed(good.id),
      },
      fresh.signing.secretKey,
    );
    expect(outcome(chains, recordJson(ok))).toBe('valid');
  });

  it('a recovery must link the id held just before its branch point', () => {
    const { hub, author } = testHub('xiaogan');
    const chains = new MemoryChains();
    chains.add(hub.inception);
    const a = author.sign('need.posted', maskNeed);
    chains.add(a.record);
    const fresh = keyPairsFromSeeds(seedsOf('xiaogan#2'));
    const bad = signRecord(
      {
        v: PROTOCOL_VERSION,
        type: 'hub.keys.rotated',
        hub: hub.id,
        seq: 1,
        prev: a.id,
        hlc: { ms: T0 + 10_000, c: 0 },
        body: { ...publicKeysOf(fresh), recovery: { key: toBase64url(hub.keys.recovery.publicKey) } },
      },
      hub.keys.recovery.secretKey,
    );
    expect(outcome(chains, bad)).toBe('E_CHAIN');
  });
});
