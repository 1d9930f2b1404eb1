// `pnpm demo`: a Shuniu network on one machine. Province (Hubei 420000), city
// (Xiaogan 420900), two counties (Xiaonan 420902, Hanchuan 420984) and a national
// foundation following the province: five nodes, five SQLite files, five ports.
// Plays a short story and prints what flows and every node's state hash; keeps
// serving until Ctrl-C, or with --exit stops once all nodes agree (exit 0 only then).
// Ports 7420-7424 when free (so the console is at http://127.0.0.1:7420/), else any.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubNode, initDataDir, readKeyFile, signJoinRequest } from '@shuniu/hub';
import { formatTimestamp, signingKeyPairFromSeed } from '@shuniu/protocol';
import { call, type Running, until } from './lib.js';

const exitWhenDone = process.argv.includes('--exit');
const root = mkdtempSync(join(tmpdir(), 'shuniu-demo-'));
const say = (m: string) => process.stdout.write(`${m}\n`);

const labels = new Map<string, string>();
/** Log lines name peers by label instead of URL. */
const named = (m: string) => m.replace(/http:\/\/127\.0\.0\.1:\d+/g, (u) => labels.get(u) ?? u).replace(/ \{"accepted".*\}$/, (j) => ` ${j.trim()}`);

const nodes: Running[] = [];
let started = 0;

async function start(
  label: string,
  o: { name: string; level: 'province' | 'city' | 'county' | 'national'; region: string; parent?: string; follow?: string[] },
) {
  const dir = join(root, label);
  await initDataDir({ dir, port: 0, ...o });
  const node = await HubNode.open(dir, {
    overrides: { federation: { pullIntervalMs: 1000, backoffBaseMs: 200, backoffMaxMs: 2000 } },
    events: { log: (m) => say(`  [${label}] ${named(m)}`) },
    log: (m) => say(`  [${label}] ${named(m)}`),
  });
  const url = await node.listen(7420 + started++).catch(() => node.listen(0));
  const token = await node.auth.issue('operator', 8 * 3600);
  labels.set(url, label);
  say(`${label.padEnd(9)} ${o.name} (${o.region}) hub ${node.hubId.slice(0, 10)}… at ${url}, data ${dir}`);
  return { label, node, url, token } satisfies Running;
}

const has = async (n: Running, id: string) => (await fetch(`${n.url}/v1/records/${id}`)).status === 200;
const hash = async (n: Running) => ((await (await fetch(`${n.url}/v1/state/hash`)).json()) as { stateHash: string; records: number }).stateHash;

let code = 1;
try {
  say('== starting five nodes');
  const province = await start('province', { name: '湖北省枢纽', level: 'province', region: '420000' });
  nodes.push(province);
  const city = await start('city', { name: '孝感市枢纽', level: 'city', region: '420900', parent: province.url });
  nodes.push(city);
  await call(province, '/v1/admissions', { child: city.node.hubId, level: 'city', region: '420900', url: city.url });
  const xiaonan = await start('xiaonan', { name: '孝南区枢纽', level: 'county', region: '420902', parent: city.url });
  const hanchuan = await start('hanchuan', { name: '汉川市枢纽', level: 'county', region: '420984', parent: city.url });
  nodes.push(xiaonan, hanchuan);
  await call(city, '/v1/admissions', { child: xiaonan.node.hubId, level: 'county', region: '420902', url: xiaonan.url });
  await call(city, '/v1/admissions', { child: hanchuan.node.hubId, level: 'county', region: '420984', url: hanchuan.url });
  const foundation = await start('fund', { name: '壹基金', level: 'national', region: '440300', follow: [province.url] });
  nodes.push(foundation);
  // The foundation joins as an operator would (spec/node.md §7.1): the province, a root (only a root admits a national
  // hub), makes a join code bound to level national; the foundation sends its request signed with its key (what
  // `shuniu join --dir DIR --parent URL --code CODE` sends); the province's operator approves it, which signs hub.admitted.
  const joinCode = (await call(province, '/v1/join-codes', { level: 'national', note: '壹基金' })) as unknown as { id: string; code: string };
  const fundInception = JSON.parse(foundation.node.store.log(foundation.node.hubId, -1, 1)[0]?.json ?? 'null');
  const fundRequest = {
    parent: province.node.hubId,
    child: foundation.node.hubId,
    level: 'national',
    region: '440300',
    name: '壹基金',
    url: foundation.url,
  } as const;
  const fundKey = signingKeyPairFromSeed(readKeyFile(foundation.node.dir).signing).secretKey;
  await call(province, '/v1/join-requests', signJoinRequest(joinCode.code, fundRequest, fundInception, fundKey));
  await call(province, `/v1/join-requests/${joinCode.id}/approve`, {});
  say(`fund      joined with a join code: the province admitted it at level national`);

  const now = Date.now();
  const day = 86_400_000;
  say('\n== 1. Xiaonan posts a need: 20,000 surgical masks for medical staff, critical');
  const need = await call(xiaonan, '/v1/needs', {
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    quantity: 400,
    unit: { name: 'box', base: 'piece', size: 50 },
    urgency: 'critical',
    neededBy: formatTimestamp(Math.floor((now + 3 * day) / 1000) * 1000),
    region: '420902',
    beneficiaries: { group: 'medical_staff', count: 1200 },
    requester: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
    purpose: 'medical_protection',
  });
  await until('the need to reach the foundation', () => has(foundation, need.id));
  say(`   need ${need.id.slice(0, 10)}… reached the foundation through city and province`);

  say('\n== 2. The foundation offers 110,000 masks for Hubei medical staff');
  const offer = await call(foundation, '/v1/offers', {
    kind: 'goods',
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    quantity: 2200,
    unit: { name: 'box', base: 'piece', size: 50 },
    valueFen: 11_000_000,
    donor: { name: '壹基金', kind: 'foundation' },
    intent: { regions: ['42'], groups: ['medical_staff'], purposes: ['medical_protection'] },
    region: '420900',
    campaign: 'hubei-2020',
  });
  await until('the offer to reach the province', () => has(province, offer.id));

  say('\n== 3. The foundation trucks the masks to the province warehouse, which re-offers and allocates them');
  const masks = { item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, unit: { name: 'box', base: 'piece', size: 50 } };
  const arrival = formatTimestamp(Math.floor((now + day) / 1000) * 1000);
  const toWarehouse = await call(foundation, '/v1/handoffs', {
    shipment: 'YJJ-2020-0124-01',
    from: foundation.node.hubId,
    to: province.node.hubId,
    lines: [{ ...masks, quantity: 2200 }],
    carrier: { name: '壹基金包车', kind: 'chartered_truck' },
    expectedArrival: arrival,
    allocations: [],
  });
  await until('the handoff to reach the province', () => has(province, toWarehouse.id));
  await call(province, '/v1/receipts', {
    handoff: toWarehouse.id,
    lines: [{ line: 0, accepted: 2200, rejected: 0, missing: 0 }],
    received: formatTimestamp(Math.floor(Date.now() / 1000) * 1000),
  });
  // Only an offer's author may allocate it (spec/resolution.md §Authority): the
  // goods now sit in the province's warehouse, so the province offers them.
  await call(foundation, `/v1/offers/${offer.id}/withdraw`, { reason: '已交湖北省枢纽仓库统一分配' });
  const warehouse = await call(province, '/v1/offers', {
    kind: 'goods',
    ...masks,
    quantity: 2200,
    valueFen: 11_000_000,
    donor: { name: '壹基金', kind: 'foundation' },
    intent: { regions: ['42'], groups: ['medical_staff'], purposes: ['medical_protection'] },
    region: '420900',
    campaign: 'hubei-2020',
    note: '孝感应急管理局出借仓库',
  });
  say('   the province allocates 20,000 masks to the need');
  const allocation = await call(province, '/v1/allocations', { offer: warehouse.id, need: need.id, quantity: 20_000, note: '按需分配' });
  await until('the allocation to reach Xiaonan', () => has(xiaonan, allocation.id));
  await call(xiaonan, `/v1/allocations/${allocation.id}/accept`, {});

  say('\n== 4. Handoff: province warehouse to Xiaonan by chartered truck');
  const handoff = await call(province, '/v1/handoffs', {
    shipment: 'HB-2020-0124-001',
    from: province.node.hubId,
    to: xiaonan.node.hubId,
    lines: [{ ...masks, quantity: 400 }],
    carrier: { name: '孝感应急管理局', kind: 'chartered_truck' },
    expectedArrival: arrival,
    allocations: [allocation.id],
  });
  await until('the handoff to reach Xiaonan', () => has(xiaonan, handoff.id));

  say('\n== 5. Receipt: Xiaonan signs for 400 boxes');
  const { id: receiptId } = await call(xiaonan, '/v1/receipts', {
    handoff: handoff.id,
    lines: [{ line: 0, accepted: 400, rejected: 0, missing: 0 }],
    received: formatTimestamp(Math.floor(Date.now() / 1000) * 1000),
  });

  await until('the receipt to reach the province', () => has(province, receiptId));

  say('\n== 6. Xiaonan hands the masks to the hospital: 1,200 medical staff served');
  await call(xiaonan, '/v1/deliveries', {
    need: need.id,
    handoffs: [handoff.id],
    lines: [{ ...masks, quantity: 400 }],
    recipient: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
    peopleServed: 1200,
    delivered: formatTimestamp(Math.floor(Date.now() / 1000) * 1000),
  });

  say('\n== waiting for every node to agree');
  await until('all state hashes to agree', async () => {
    const hs = await Promise.all(nodes.map(hash));
    const counts = await Promise.all(nodes.map(async (n) => ((await (await fetch(`${n.url}/v1/status`)).json()) as { records: number }).records));
    return new Set(hs).size === 1 && new Set(counts).size === 1;
  });
  for (const n of nodes) say(`${n.label.padEnd(9)} state ${await hash(n)}`);
  const needs = (await (await fetch(`${foundation.url}/v1/state/needs?region=4209`)).json()) as {
    needs: { status: string; allocated: number; received: number }[];
  };
  say(`foundation sees Xiaonan's need: ${JSON.stringify(needs.needs.map((n) => ({ status: n.status, allocated: n.allocated, received: n.received })))}`);
  const conflicts = (await (await fetch(`${foundation.url}/v1/state/conflicts`)).json()) as { conflicts: { rule: string }[] };
  say(`conflicts: ${conflicts.conflicts.length === 0 ? 'none' : conflicts.conflicts.map((c) => c.rule).join(', ')}`);
  say('all nodes agree');
  if (!exitWhenDone) {
    say('\n== operator consoles (the links sign you in for 8 hours; the public map needs no sign-in)');
    for (const n of nodes) say(`${n.label.padEnd(9)} ${n.url}/#token=${n.token}`);
  }
  code = 0;
} catch (e) {
  say(`demo failed: ${(e as Error).message}`);
  code = 1;
}

async function shutdown(): Promise<void> {
  for (const n of nodes) await n.node.close().catch(() => {});
  rmSync(root, { recursive: true, force: true });
}

if (exitWhenDone || code !== 0) {
  await shutdown();
  process.exit(code);
} else {
  say('\nserving; Ctrl-C to stop');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void shutdown().then(() => process.exit(0));
    });
  }
}
