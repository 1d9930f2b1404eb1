// EPCIS 2.0 export (issue 19 point 2, spec/node.md §14.2): the document validates with a real EPCIS 2.0
// validator (epcis2.js's validateEpcisDocument, vendored in test/fixtures/vendor), and its events say
// what the custody records say: shipping/in_transit, receiving/in_progress and damaged, dispensing.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DONOR_NAME, PRIVATE_NAME, PRIVATE_PHONE, type Scenario, scenario } from './scenario.js';

const require = createRequire(import.meta.url);
const { validateEpcisDocument } = require('../fixtures/vendor/epcis2.js-2.7.3/epcis2.node.cjs') as {
  validateEpcisDocument: (doc: unknown, throwError: boolean) => { success: boolean; errors: string[] };
};
const CLI = fileURLToPath(new URL('../../nodes/hub/dist/cli.js', import.meta.url));

function shuniu(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout: out, stderr: err }));
  });
}

type Doc = { '@context': unknown; type: string; epcisBody: { eventList: Record<string, unknown>[] } };

let s: Scenario;
let doc: Doc;
let text: string;
beforeAll(async () => {
  s = await scenario();
  const res = await fetch(`${s.p.url}/v1/export/epcis`, { headers: { authorization: `Bearer ${s.p.token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/);
  text = await res.text();
  doc = JSON.parse(text) as Doc;
});
afterAll(async () => {
  await s?.p.node.close();
});

describe('EPCIS 2.0 export', () => {
  it('validates as an EPCIS 2.0 document (epcis2.js validateEpcisDocument); the validator refuses broken copies', () => {
    expect(validateEpcisDocument(doc, false)).toEqual({ success: true, errors: [] });
    const broken = (f: (d: Doc) => void) => {
      const d = structuredClone(doc);
      f(d);
      return validateEpcisDocument(d, false).success;
    };
    expect(broken((d) => Object.assign(d.epcisBody.eventList[0] as object, { bizStep: 'teleporting' }))).toBe(false);
    expect(broken((d) => Object.assign(d.epcisBody.eventList[0] as object, { action: 'MOVE' }))).toBe(false);
    expect(broken((d) => delete (d.epcisBody.eventList[0] as Record<string, unknown>).eventTime)).toBe(false);
    expect(broken((d) => Object.assign(d.epcisBody.eventList[0] as object, { shuniuHub: 'x' }))).toBe(false);
  });

  it('shipping, receiving (accepted and rejected) and dispensing events, each with its Shuniu record id as eventID', () => {
    const events = doc.epcisBody.eventList;
    const byId = (id: string) => events.find((e) => e.eventID === id);
    const ship = byId(`urn:shuniu:record:${s.handoff}`);
    expect(ship).toMatchObject({
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      quantityList: [{ epcClass: 'urn:shuniu:item:PPE.MASK.SURGICAL', quantity: 20_000 }],
      sourceList: [{ type: 'possessing_party', source: `urn:shuniu:hub:${s.p.node.hubId}` }],
      destinationList: [{ type: 'possessing_party', destination: `urn:shuniu:hub:${s.c.id}` }],
      bizTransactionList: [{ type: 'desadv', bizTransaction: `urn:shuniu:shipment:${s.p.node.hubId}:HB-2020-0001` }],
    });
    expect(byId(`urn:shuniu:record:${s.receipt}`)).toMatchObject({
      bizStep: 'receiving',
      disposition: 'in_progress',
      quantityList: [{ epcClass: 'urn:shuniu:item:PPE.MASK.SURGICAL', quantity: 19_950 }],
    });
    expect(byId(`urn:shuniu:record:${s.receipt}:rejected:0`)).toMatchObject({ bizStep: 'receiving', disposition: 'damaged', quantityList: [{ quantity: 50 }] });
    expect(byId(`urn:shuniu:record:${s.delivery}`)).toMatchObject({ bizStep: 'dispensing', disposition: 'dispensed', quantityList: [{ quantity: 19_950 }] });
    expect(events).toHaveLength(4);
    const times = events.map((e) => e.eventTime as string);
    expect(times).toEqual([...times].sort());
  });

  it('nothing private: no sealed part, donor, contact, note or recipient name', () => {
    for (const secret of [PRIVATE_PHONE, PRIVATE_NAME, DONOR_NAME, '孝南区人民医院', '顺丰', 'sealed']) expect(text).not.toContain(secret);
  });

  it('shuniu export epcis --url --token writes the document on stdout', async () => {
    const r = await shuniu(['export', 'epcis', '--url', s.p.url, '--token', s.p.token]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Doc;
    expect(validateEpcisDocument(out, false).success).toBe(true);
    expect(out.epcisBody.eventList.map((e) => e.eventID)).toEqual(doc.epcisBody.eventList.map((e) => e.eventID));
  });
});
