import { beforeAll, describe, expect, it } from 'vitest';
import { hubIdOf, MemoryChains, parseIJson, parseRecord, ready, recordId, recordJson } from '../src/index.js';
import { codeOf, outcome, testHub } from './helpers.js';

beforeAll(ready);

describe('regressions', () => {
  it('an endpoint URL is checked as written, never trimmed (z.url() used to strip whitespace, so signed records did not verify)', () => {
    const { author } = testHub('hubei');
    const body = { name: { zh: '湖北枢纽' }, level: 'province' as const, region: '420000', endpoints: [' https://hubei.example/\t'] };
    expect(codeOf(() => author.sign('hub.profile', body))).toBe('E_SCHEMA');
    const ok = author.sign('hub.profile', { ...body, endpoints: ['https://hubei.example/', 'http://[::1]:8080/x?y=1#z'] });
    expect(ok.record.body).toEqual({ ...body, endpoints: ['https://hubei.example/', 'http://[::1]:8080/x?y=1#z'] });
  });

  it('an ext member named "__proto__" survives parsing and signing (zod dropped it and broke the signature)', () => {
    const { hub, author } = testHub('xiaonan');
    const ext = parseIJson('{"__proto__":{"a":1},"b":2}') as Record<string, unknown>;
    const { record, id } = author.sign('need.closed', { need: hub.id, reason: 'cancelled', ext });
    const text = recordJson(record);
    expect(text).toContain('"__proto__":{"a":1}');
    const parsed = parseRecord(text);
    expect(recordId(parsed)).toBe(id);
    const chains = new MemoryChains();
    chains.add(hub.inception);
    expect(outcome(chains, text)).toBe('valid');
  });

  it('-0 in a body signs as 0: the record verifies and has the id of the same body with 0 (found by the round-trip property)', () => {
    const { hub, author } = testHub('xiaonan');
    const signed = author.sign('need.closed', { need: hub.id, reason: 'cancelled', ext: { x: [-0] } });
    const text = recordJson(signed.record);
    expect(text).toContain('"x":[0]');
    const parsed = parseRecord(text);
    expect(Object.is((parsed.body as unknown as { ext: { x: number[] } }).ext.x[0], 0)).toBe(true);
    expect(recordId(parsed)).toBe(signed.id);
    const chains = new MemoryChains();
    chains.add(hub.inception);
    expect(outcome(chains, text)).toBe('valid');
  });

  it('parseRecord returns a copy: changing the input afterwards does not change the record', () => {
    const { hub } = testHub('xiaonan');
    const input = JSON.parse(recordJson(hub.inception));
    const parsed = parseRecord(input);
    input.body.created = '2021-01-01T00:00:00Z';
    expect(parsed.body).toEqual(hub.inception.body);
  });

  it('hubIdOf refuses a malformed body with E_SCHEMA, not a ZodError', () => {
    expect(codeOf(() => hubIdOf({ signingKey: 'x' } as never))).toBe('E_SCHEMA');
  });
});
