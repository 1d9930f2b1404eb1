import { parseIJson, recordJson, type SignedRecord } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPACT, PLAIN, plainObjectText } from '../src/ingest-worker.js';
import { arraySpans, memberArraySpans, memberSpan } from '../src/json-spans.js';
import type { HubNode } from '../src/node.js';
import { needBody, post, startNode, TestHub } from './helpers.js';

describe('json-spans', () => {
  const texts = (s: string) => {
    const offs = arraySpans(s);
    return offs && Array.from({ length: offs.length / 2 }, (_, i) => s.slice(offs[2 * i], offs[2 * i + 1]));
  };
  it('splits a top-level array into its element texts', () => {
    expect(texts(' [ {"a":"],\\"}"} ,[1,[2]], "x\\\\" ,3, null ] ')).toEqual(['{"a":"],\\"}"}', '[1,[2]]', '"x\\\\"', '3', 'null']);
    expect(texts('[]')).toEqual([]);
  });
  it('refuses what is not shaped as an array', () => {
    for (const s of ['{"a":1}', '[1,2', '[1,2]x', '["a]', '[1 2]', '']) expect(arraySpans(s)).toBeUndefined();
  });
  it('finds a member of a top-level object', () => {
    const s = '{"hub":"x","head":3,"records":[{"a":1}],"next":null}';
    const m = memberSpan(s, 'records') as [number, number];
    expect(s.slice(m[0], m[1])).toBe('[{"a":1}]');
    expect(memberSpan(s, 'nope')).toBeUndefined();
  });
  it('splits the array that is a member of a top-level object, in one pass', () => {
    const s = '{"hub":"x","head":3,"records": [ {"a":"]"} , [1] ] ,"next":null}';
    const m = memberSpan(s, 'records') as [number, number];
    expect(memberArraySpans(s, 'records')).toEqual(arraySpans(s, m[0], m[1]));
    expect(memberArraySpans(s, 'records')?.length).toBe(4);
    expect(memberArraySpans('{"records":[]}', 'records')).toEqual([]);
    for (const bad of ['{"records":{"a":1}}', '{"records":[1,2}', '{"records":[1]x}', '{"hub":"x"}', '[1]'])
      expect(memberArraySpans(bad, 'records')).toBeUndefined();
  });
});

describe('plainObjectText', () => {
  it('says COMPACT only of texts that are JSON.stringify of their own parse', () => {
    const texts = [
      '{"a":1,"b":[true,false,null],"c":{"d":"x"}}',
      '{"a":"quote \\" backslash \\\\ nl \\n tab \\t cr \\r bs \\b ff \\f"}',
      '{"a":"孝南区 😷 \u2028"}',
      '{"a":-1,"b":-10,"c":0}',
      '{"a": 1}',
      '{\n"a":1}',
      '{"a":"\\u0041"}',
      '{"a":"\\/"}',
      '{"a":"\\u001f"}',
      '{"a":-0}',
      '{"1":1,"a":2}',
      '{"a":{"0":1}}',
      '{"a":"x","1b":2}',
      '{"a":"1:"}',
    ];
    for (const t of texts) {
      const scan = plainObjectText(t);
      expect(scan & PLAIN, t).toBe(PLAIN);
      const same = JSON.stringify(JSON.parse(t)) === t;
      if (scan & COMPACT) expect(same, t).toBe(true);
    }
    expect(texts.slice(0, 4).map((t) => plainObjectText(t) & COMPACT)).toEqual([COMPACT, COMPACT, COMPACT, COMPACT]);
    expect(texts.slice(-1).map((t) => plainObjectText(t) & COMPACT)).toEqual([COMPACT]);
    expect(plainObjectText('{"a":1.5}')).toBe(0);
    expect(plainObjectText('[1]')).toBe(0);
  });
});

// The same mixed batch pushed as an array (texts read in the worker pool)
// and wrapped as {"records": [...]} (values read on the main thread) must
// give the same acknowledgements, record by record.
describe('pushed arrays read in worker threads', () => {
  let a: { node: HubNode; url: string; token: string };
  let b: { node: HubNode; url: string; token: string };
  let hub: TestHub;
  let other: TestHub;
  let banned: TestHub;
  beforeAll(async () => {
    a = await startNode({ name: '甲', level: 'province', region: '420000' });
    b = await startNode({ name: '乙', level: 'province', region: '420000' });
    hub = await TestHub.make();
    other = await TestHub.make();
    banned = await TestHub.make();
    for (const n of [a, b]) {
      for (const h of [hub, other])
        expect((await post(`${n.url}/v1/admissions`, { child: h.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
      // other's chain is known, so its record after a gap is held (a stranger's would need its inception chain).
      expect((await post(`${n.url}/v1/records`, other.records[0])).status).toBe(201);
      expect((await post(`${n.url}/v1/blocks`, { hub: banned.id }, n.token)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await a.node.close();
    await b.node.close();
  });

  it('gives the same acks as the main-thread path for every outcome', async () => {
    for (let i = 0; i < 12; i++) hub.sign('need.posted', needBody({ quantity: 10 + i }));
    const good = hub.records.map(recordJson);
    const bad = { ...(hub.sign('need.posted', needBody()) as SignedRecord) };
    hub.records.pop();
    const tampered = recordJson({ ...bad, body: { ...bad.body, quantity: 7 } } as SignedRecord);
    const schema = recordJson({ ...bad, body: { ...bad.body, urgency: 'whenever' } } as unknown as SignedRecord);
    for (let i = 0; i < 3; i++) other.sign('need.posted', needBody());
    const gap = recordJson(other.records[3] as SignedRecord);
    const texts = [
      ...good,
      good[2] as string,
      tampered,
      schema,
      gap,
      recordJson(banned.records[0] as SignedRecord),
      '{"v":1,"type":"need.posted","n":1e400}'.replace('1e400', '100000000000000000000.0'),
      '"not a record"',
      '{"v":2}',
    ];
    const text = `[${texts.join(',')}]`;
    const ra = await post(`${a.url}/v1/records`, text);
    const rb = await post(`${b.url}/v1/records`, `{"records":${text}}`);
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    const acksA = ((await ra.json()) as { acks: Record<string, unknown>[] }).acks;
    const acksB = ((await rb.json()) as { acks: Record<string, unknown>[] }).acks;
    const strip = (x: Record<string, unknown>[]) => x.map(({ ord: _o, ...rest }) => rest);
    expect(strip(acksA)).toEqual(strip(acksB));
    expect(acksA.map((x) => x.status)).toEqual([
      ...good.map(() => 'accepted'),
      'duplicate',
      'rejected',
      'rejected',
      'held',
      'blocked',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(acksA.slice(good.length + 1).map((x) => x.code)).toEqual(['E_SIG', 'E_SCHEMA', 'E_GAP', 'E_BLOCKED', 'E_IJSON', 'E_JSON', 'E_VERSION']);
    // The same records again: idempotent.
    const again = ((await (await post(`${a.url}/v1/records`, `[${good.join(',')}]`)).json()) as { acks: { status: string }[] }).acks;
    expect(again.every((x) => x.status === 'duplicate')).toBe(true);
    for (const h of [hub, other, banned]) expect(a.node.store.heads()[h.id]).toBe(b.node.store.heads()[h.id]);
    expect(a.node.store.heads()[hub.id]).toBe(12);
    expect(a.node.store.heldCount()).toBe(b.node.store.heldCount());
  });

  it('stores a record as JSON.stringify writes it, whatever the pushed text looked like', async () => {
    const h = await TestHub.make();
    expect((await post(`${a.url}/v1/admissions`, { child: h.id, level: 'county', region: '420902' }, a.token)).status).toBe(201);
    for (let i = 0; i < 20; i++) h.sign('need.posted', needBody({ quantity: 90 + i }));
    const r = h.sign('need.posted', needBody({ quantity: 99, requester: { name: '医院 "甲"\n/x', kind: 'hospital' } }));
    const spaced = JSON.stringify(r, null, 1).replace('/x', '\\/x');
    const texts = [...h.records.slice(0, -1).map(recordJson), spaced];
    const res = await post(`${a.url}/v1/records`, `[${texts.join(',')}]`);
    const acks = ((await res.json()) as { acks: { status: string; id: string }[] }).acks;
    expect(acks.at(-1)?.status).toBe('accepted');
    const stored = a.node.store.recordById(acks.at(-1)?.id as string);
    expect(stored?.json).toBe(JSON.stringify(r));
    expect(texts.length).toBeGreaterThan(16); // read in the worker pool
    for (const x of a.node.store.log(h.id, -1, 100)) expect(x.json).toBe(JSON.stringify(JSON.parse(x.json)));
  });

  it('refuses a body that is not I-JSON as a whole, with the strict parser’s error', async () => {
    const texts = hub.records.map(recordJson);
    texts.splice(5, 0, '{"a":1,"a":2}');
    const text = `[${texts.join(',')}]`;
    let expected: { code: string; message: string } | undefined;
    try {
      parseIJson(text);
    } catch (e) {
      expected = e as { code: string; message: string };
    }
    const res = await post(`${a.url}/v1/records`, text);
    expect(res.status).toBe(400);
    const p = (await res.json()) as { code: string; detail: string };
    expect(p.code).toBe(expected?.code);
    expect(p.code).toBe('E_IJSON');
    expect(p.detail).toBe(expected?.message);
  });
});
