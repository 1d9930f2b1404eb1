// Offline transfer (issue 19 point 4, spec/node.md §13): two nodes with no HTTP link between them
// converge to one state hash through bundles alone, written and read by the built `shuniu bundle`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { initDataDir } from '../../nodes/hub/src/node.js';
import { needBody, post, reopen, startNode, TestHub, tempDir } from '../../nodes/hub/test/helpers.js';

const CLI = fileURLToPath(new URL('../../nodes/hub/dist/cli.js', import.meta.url));

/** The built CLI in a child process, without blocking this process (the nodes answer it). */
function shuniu(args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

type Running = Awaited<ReturnType<typeof startNode>>;
const running: Running[] = [];
afterAll(async () => {
  for (const n of running) await n.node.close().catch(() => {});
});

const work = mkdtempSync(join(tmpdir(), 'shuniu-bundle-'));
const stateHash = async (n: Running) =>
  ((await (await fetch(`${n.url}/v1/state/hash`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as { stateHash: string }).stateHash;

/** A root province node and a county node that trusts it, with no peer on either side. */
async function pair(): Promise<{ a: Running; b: Running }> {
  const a = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
  running.push(a);
  const { dir } = tempDir();
  await initDataDir({ dir, name: '黄州区枢纽', level: 'county', region: '421102', port: 0, roots: [a.node.hubId] });
  const b = await reopen(dir);
  running.push(b);
  return { a, b };
}

/** `shuniu bundle heads` of `to`, `shuniu bundle export --since-heads` at `from`, `shuniu bundle import` at `to`. */
async function carry(from: Running, to: Running, name: string) {
  const heads = join(work, `${name}.heads.json`);
  const file = join(work, `${name}.bundle.gz`);
  const h = await shuniu(['bundle', 'heads', '--url', to.url, '--token', to.token, '--out', heads]);
  expect(h.status, h.stderr).toBe(0);
  const e = await shuniu(['bundle', 'export', '--since-heads', heads, '--url', from.url, '--token', from.token, '--out', file]);
  expect(e.status, e.stderr).toBe(0);
  const i = await shuniu(['bundle', 'import', file, '--url', to.url, '--token', to.token]);
  expect(i.status, i.stderr).toBe(0);
  const result = JSON.parse(i.stdout.toString('utf8')) as { header: { records: number }; summary: Record<string, number>; refused: unknown[] };
  return { bytes: readFileSync(file).byteLength, file, result };
}

describe('offline bundles', () => {
  it('two nodes with no HTTP link converge to one state hash through bundles alone, both ways', async () => {
    const { a, b } = await pair();
    // A admits B and a county hub C (not a node) that posts 1,000 needs to A.
    expect((await post(`${a.url}/v1/admissions`, { child: b.node.hubId, level: 'county', region: '421102' }, a.token)).status).toBe(201);
    const c = await TestHub.make();
    expect((await post(`${a.url}/v1/admissions`, { child: c.id, level: 'county', region: '420902' }, a.token)).status).toBe(201);
    for (let i = 0; i < 1000; i++) c.sign('need.posted', needBody({ quantity: 1 + (i % 50), beneficiaries: { group: 'medical_staff', count: 10 + i } }));
    for (let i = 0; i < c.records.length; i += 500) {
      const res = await post(`${a.url}/v1/records`, c.records.slice(i, i + 500));
      expect(((await res.json()) as { summary: { accepted: number } }).summary.accepted).toBe(Math.min(500, c.records.length - i));
    }
    // No link: neither node has a peer, and B holds nothing of A's.
    expect(a.node.store.peers()).toEqual([]);
    expect(b.node.store.peers()).toEqual([]);
    expect(b.node.store.heads()[a.node.hubId]).toBeUndefined();
    expect(await stateHash(a)).not.toBe(await stateHash(b));

    // A → B: everything B lacks (A's chain and C's 1,001 records).
    const ab = await carry(a, b, 'a-to-b');
    expect(ab.result.refused).toEqual([]);
    expect(ab.result.summary.accepted).toBe(ab.result.header.records);
    expect(ab.result.header.records).toBeGreaterThanOrEqual(1001 + 3);
    const perThousand = Math.round((ab.bytes * 1000) / ab.result.header.records);
    const raw = gunzipSync(readFileSync(ab.file)).byteLength;
    console.log(
      `bundle A→B: ${ab.result.header.records} records, ${ab.bytes} bytes gzip (${raw} bytes uncompressed): ${perThousand} bytes per 1,000 records (${Math.round((raw * 1000) / ab.result.header.records)} uncompressed)`,
    );
    expect(ab.bytes).toBeLessThan(raw);

    // B writes records of its own (needs and an offer), then B → A carries only what A lacks: B's chain.
    for (let i = 0; i < 3; i++) expect((await post(`${b.url}/v1/needs`, needBody({ region: '421102', quantity: 10 + i }), b.token)).status).toBe(201);
    const ba = await carry(b, a, 'b-to-a');
    expect(ba.result.refused).toEqual([]);
    expect(ba.result.header.records).toBe((b.node.store.heads()[b.node.hubId] as number) + 1);
    expect(await stateHash(a)).toBe(await stateHash(b));

    // A answers with an offer; one more trip A → B carries just it, and the two agree again.
    const offer = await post(
      `${a.url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 100,
        unit: { name: 'box', base: 'piece', size: 50 },
        valueFen: 0,
        donor: { name: '湖北省慈善总会', kind: 'foundation' },
        intent: {},
        region: '420100',
      },
      a.token,
    );
    expect(offer.status, await offer.clone().text()).toBe(201);
    const again = await carry(a, b, 'a-to-b-2');
    expect(again.result.header.records).toBe(1);
    expect(again.result.summary.accepted).toBe(1);
    expect(await stateHash(b)).toBe(await stateHash(a));
    expect(b.node.store.maxOrd()).toBe(a.node.store.maxOrd());
  });

  it('works on stopped nodes’ data directories too (--dir): heads, export and import without a server', async () => {
    const { a, b } = await pair();
    expect((await post(`${a.url}/v1/admissions`, { child: b.node.hubId, level: 'county', region: '421102' }, a.token)).status).toBe(201);
    const need = ((await (await post(`${a.url}/v1/needs`, needBody({ quantity: 3 }), a.token)).json()) as { id: string }).id;
    const aHeads = a.node.store.heads();
    await a.node.close();
    await b.node.close();
    const heads = join(work, 'dir.heads.json');
    const file = join(work, 'dir.bundle.gz');
    expect((await shuniu(['bundle', 'heads', '--dir', b.dir, '--out', heads])).status).toBe(0);
    const e = await shuniu(['bundle', 'export', '--since-heads', heads, '--dir', a.dir, '--out', file]);
    expect(e.status, e.stderr).toBe(0);
    const i = await shuniu(['bundle', 'import', file, '--dir', b.dir]);
    expect(i.status, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout.toString('utf8')).refused).toEqual([]);
    const b2 = await reopen(b.dir);
    running.push(b2);
    expect(b2.node.store.hasRecord(need)).toBe(true);
    // Every record of A is now at B (B's own chain aside, which A never saw).
    const bHeads = b2.node.store.heads();
    for (const [hub, seq] of Object.entries(aHeads)) expect(bHeads[hub]).toBe(seq);
    const needs = (await (await fetch(`${b2.url}/v1/state/needs`, { headers: { authorization: `Bearer ${b2.token}` } })).json()) as { needs: { id: string }[] };
    expect(needs.needs.map((n) => n.id)).toContain(need);
  });

  it('an import verifies every record: a forged one is refused with its code, the rest stored; a bad file is a typed error', async () => {
    const { a, b } = await pair();
    expect((await post(`${a.url}/v1/admissions`, { child: b.node.hubId, level: 'county', region: '421102' }, a.token)).status).toBe(201);
    const need = (await (await post(`${a.url}/v1/needs`, needBody({ quantity: 7 }), a.token)).json()) as { id: string };
    const res = await post(`${a.url}/v1/bundle/export`, { heads: {} }, a.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    const good = Buffer.from(await res.arrayBuffer());
    const lines = gunzipSync(good).toString('utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0] as string) as { format: string; version: number; hub: string; records: number };
    expect(header).toMatchObject({ format: 'shuniu-bundle', version: 1, hub: a.node.hubId, records: lines.length - 1 });
    const at = lines.findIndex((l) => l.includes('"need.posted"'));
    // The need's quantity changed after signing: a forged record.
    const forged = [...lines];
    forged[at] = (forged[at] as string).replace('"quantity":7', '"quantity":7000');
    expect(forged[at]).not.toBe(lines[at]);
    const upload = (body: Uint8Array, type = 'application/gzip') =>
      fetch(`${b.url}/v1/bundle/import`, { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${b.token}` }, body });
    const r1 = await upload(gzipSync(`${forged.join('\n')}\n`));
    expect(r1.status).toBe(200);
    const out = (await r1.json()) as { summary: Record<string, number>; refused: { line: number; code: string; status: string }[] };
    expect(out.refused).toEqual([expect.objectContaining({ line: at, status: 'rejected', code: 'E_SIG' })]);
    expect(out.summary.accepted).toBe(header.records - 1);
    expect(b.node.store.hasRecord(need.id)).toBe(false);

    const problem = async (r: Response) => ({ status: r.status, code: ((await r.json()) as { code: string }).code });
    // Not gzip; another format version; a cut file; a header that is not a bundle's; the wrong media type.
    expect(await problem(await upload(Buffer.from(lines.join('\n'))))).toEqual({ status: 400, code: 'E_ARGUMENT' });
    expect(await problem(await upload(gzipSync([JSON.stringify({ ...header, version: 2 }), ...lines.slice(1)].join('\n'))))).toEqual({
      status: 400,
      code: 'E_VERSION',
    });
    expect(await problem(await upload(gzipSync(lines.slice(0, -1).join('\n'))))).toEqual({ status: 400, code: 'E_ARGUMENT' });
    expect(await problem(await upload(gzipSync(`{"format":"zip"}\n`)))).toEqual({ status: 400, code: 'E_SCHEMA' });
    expect(await problem(await upload(gzipSync('not json\n')))).toEqual({ status: 400, code: 'E_JSON' });
    expect(await problem(await upload(good, 'application/json'))).toEqual({ status: 415, code: 'E_UNSUPPORTED_MEDIA' });
    // Bundles are operator business: no token, no bundle.
    expect((await fetch(`${a.url}/v1/bundle/export`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    // The genuine bundle then goes in whole.
    const r2 = await upload(good);
    expect(((await r2.json()) as { refused: unknown[] }).refused).toEqual([]);
    expect(b.node.store.hasRecord(need.id)).toBe(true);
  });
});
