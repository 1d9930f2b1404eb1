import { beforeAll, describe, expect, it } from 'vitest';
import { createHub, ready, recoverySeedFromFile, seedsFromKeyFile, toHex } from '../src/index.js';

beforeAll(ready);

describe('key files (spec/keys.md §6)', () => {
  it('reads a node key file without recoverySeed (the recovery seed lives offline in recovery.key.json)', () => {
    const hub = createHub({ created: '2020-01-24T00:00:00Z', hlc: { ms: 1579824000000, c: 0 } });
    const { recoverySeed, ...node } = hub.keyFile;
    const seeds = seedsFromKeyFile(node);
    expect(toHex(seeds.signing)).toBe(hub.keyFile.signingSeed);
    expect(seeds.recovery).toBeUndefined();
    const full = seedsFromKeyFile(hub.keyFile);
    expect(toHex(full.recovery as Uint8Array)).toBe(recoverySeed);
    const recoveryFile = { hub: hub.id, recoverySeed, created: hub.keyFile.created };
    expect(toHex(recoverySeedFromFile(recoveryFile))).toBe(recoverySeed);
  });

  it('refuses a seed that is not 32 bytes of hex with E_KEY', () => {
    const hub = createHub({ created: '2020-01-24T00:00:00Z', hlc: { ms: 1579824000000, c: 0 } });
    expect(() => seedsFromKeyFile({ ...hub.keyFile, signingSeed: 'abcd' })).toThrow(expect.objectContaining({ code: 'E_KEY' }));
    expect(() => seedsFromKeyFile({ ...hub.keyFile, recoverySeed: 'zz'.repeat(32) })).toThrow(expect.objectContaining({ code: 'E_KEY' }));
    expect(() => recoverySeedFromFile({})).toThrow(expect.objectContaining({ code: 'E_KEY' }));
  });
});
