// The verify pool's workers (spec/node.md §7): their heaps are bounded, and one that ends is
// started again, its waiting jobs failed, never left waiting for an answer that cannot come.
import { ed25519Sign, randomSeed, ready, signingKeyPairFromSeed } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyPool } from '../src/verify-pool.js';

describe('verify pool', () => {
  let pool: VerifyPool;
  const jobs: { sig: Uint8Array; message: Uint8Array; publicKey: Uint8Array }[] = [];
  beforeAll(async () => {
    await ready();
    const kp = signingKeyPairFromSeed(randomSeed());
    const enc = new TextEncoder();
    for (let i = 0; i < 40; i++) {
      const message = enc.encode(`record ${i}`);
      jobs.push({ sig: ed25519Sign(message, kp.secretKey), message, publicKey: kp.publicKey });
    }
    // The last one's signature is of another message: it must say no.
    jobs[39] = { ...(jobs[39] as (typeof jobs)[number]), message: new TextEncoder().encode('something else') };
    pool = new VerifyPool({ threads: 1, inlineBelow: 1 });
  });
  afterAll(async () => {
    await pool.close();
  });

  const want = () => jobs.map((_, i) => i !== 39);

  it('checks in its worker; a worker that ends is started again and the pool keeps checking', async () => {
    expect(await pool.verify(jobs)).toEqual(want());
    // Jobs sent as it ends fail (an internal error for the request), they do not wait for ever.
    const crash = pool.crash(0);
    const during = pool.verify(jobs).then(
      (r) => ({ ok: true, r }),
      (e: Error) => ({ ok: false, r: e.message }),
    );
    await crash;
    const got = await during;
    if (!got.ok) expect(got.r).toMatch(/verify worker ended/);
    else expect(got.r).toEqual(want());
    for (let i = 0; i < 100 && pool.respawned === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pool.respawned).toBe(1);
    expect(pool.threads).toBe(1);
    expect(await pool.verify(jobs)).toEqual(want());
  });
});
