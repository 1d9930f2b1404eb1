// Repeated proposal requests (issue 11 point 5), as an attack of bench/hostile.ts: a county
// admitted by the node's operator pushes 60,000 signed need.posted records and 2,000
// offer.posted records (20 items, 120 counties, some donor intents) before the phase's clock
// starts (`prepare`); during the phase, `clients` subscribers ask GET /v1/match/proposals in a
// loop (first pages of a few regions, then on along `next`), with a subscriber token of the target
// (the route needs one even where reads are public). The node plans in its matching worker, sent
// only what changed, and serves subscribers the plan held for limits.matchStaleMs while the
// operator's writes move the version on (spec/node.md §6.1): what is measured is the operator's
// write latency beside that.

import { request } from 'node:http';
import { Author, type BodyOf, createHub, ready, type SignedRecord } from '@shuniu/protocol';
import { prng } from '../match-scenario.js';

/** GET from a chosen local address: status, ETag and body. */
function getFrom(
  url: string,
  localAddress: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<{ status: number; etag: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The running node (bench/hostile.ts Target). */
export interface ProposalTarget {
  url: string;
  token: string;
  /** A subscriber token: the readers are subscribers, not the node's operators (who always get the current version). */
  subscriber?: string;
}

const ITEMS = Array.from({ length: 20 }, (_, i) => ({ code: `ITEM.${i}`, name: `item ${i}` }));
const PREFS = ['4201', '4202', '4203', '4205', '4206', '4207', '4208', '4209', '4210', '4211', '4212', '4213'];
const COUNTIES = Array.from({ length: 120 }, (_, i) => `${PREFS[i % PREFS.length]}${((i % 30) + 1).toString().padStart(2, '0')}`);
const URGENCY = ['critical', 'critical', 'high', 'high', 'high', 'normal', 'normal', 'low'] as const;
const GROUPS = ['medical_staff', 'medical_staff', 'patients', 'community_workers', 'elderly'] as const;

function records(needs: number, offers: number): { hub: ReturnType<typeof createHub>; signed: SignedRecord[] } {
  const rnd = prng(60_000);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  let clock = Date.now() - 3_600_000;
  const hub = createHub({ created: new Date(clock).toISOString(), hlc: { ms: clock, c: 0 } });
  const author = Author.fromNewHub(hub, () => ++clock);
  const signed: SignedRecord[] = [hub.inception];
  const day = 86_400_000;
  for (let i = 0; i < needs; i++) {
    const region = pick(COUNTIES);
    const body: BodyOf<'need.posted'> = {
      item: pick(ITEMS),
      quantity: (1 + Math.floor(rnd() * 500)) * 10,
      unit: { name: 'piece', base: 'piece', size: 1 },
      urgency: pick(URGENCY),
      neededBy: new Date(Date.now() + (1 + Math.floor(rnd() * 16)) * day).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      beneficiaries: { group: pick(GROUPS), count: 100 },
      requester: { name: `医院 ${i}`, kind: 'hospital', region },
    };
    signed.push(author.sign('need.posted', body).record);
  }
  for (let i = 0; i < offers; i++) {
    const intent: BodyOf<'offer.posted'>['intent'] = {};
    if (rnd() < 0.5) intent.regions = [pick(COUNTIES).slice(0, rnd() < 0.5 ? 4 : 2)];
    if (rnd() < 0.3) intent.groups = [pick(GROUPS)];
    const quantity = (1 + Math.floor(rnd() * 400)) * 50;
    signed.push(
      author.sign('offer.posted', {
        kind: 'goods',
        item: pick(ITEMS),
        quantity,
        unit: { name: 'piece', base: 'piece', size: 1 },
        valueFen: quantity * 100,
        donor: { name: `捐赠 ${i}`, kind: 'company' },
        intent,
        region: pick(COUNTIES),
      }).record,
    );
  }
  return { hub, signed };
}

export interface ProposalAttack {
  prepare: (t: ProposalTarget, log?: (m: string) => void) => Promise<void>;
  during: (t: ProposalTarget, signal: AbortSignal) => Promise<void>;
  after: () => Record<string, number>;
  close: () => Promise<void>;
}

/** `clients` subscribers asking for proposals in a loop over `needs` × `offers`. */
export function proposalRequests(clients = 8, needs = 60_000, offers = 2_000): ProposalAttack {
  const counts = { ok: 0, notModified: 0, busy: 0, other: 0, bytes: 0 };
  return {
    prepare: async (t, log = () => {}) => {
      await ready();
      const { hub, signed } = records(needs, offers);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${t.token}` };
      const admit = await fetch(`${t.url}/v1/admissions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ child: hub.id, level: 'county', region: '420902' }),
      });
      if (admit.status !== 201) throw new Error(`admission: ${admit.status} ${await admit.text()}`);
      for (let i = 0; i < signed.length; i += 2000) {
        const r = await fetch(`${t.url}/v1/records`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(signed.slice(i, i + 2000)),
        });
        if (r.status !== 200) throw new Error(`push: ${r.status} ${(await r.text()).slice(0, 200)}`);
        await r.arrayBuffer();
        if (i % 20_000 === 0) log(`  pushed ${i + 2000} of ${signed.length} records`);
      }
    },
    during: async (t, signal) => {
      const regions = ['', '42', '4201', '4211', '4205'];
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          const auth = { authorization: `Bearer ${t.subscriber ?? t.token}` };
          let etag: string | undefined;
          for (let k = 0; !signal.aborted; k++) {
            const region = regions[(c + k) % regions.length] as string;
            let offset = 0;
            for (let page = 0; page < 3 && !signal.aborted; page++) {
              try {
                const q = new URLSearchParams({ limit: '500', offset: String(offset) });
                if (region) q.set('region', region);
                // Each subscriber from its own loopback address: the node's rate limits are per client, and the operator's writes come from 127.0.0.1.
                const r = await getFrom(
                  `${t.url}/v1/match/proposals?${q}`,
                  `127.0.0.${70 + c}`,
                  { ...auth, ...(etag && page === 0 ? { 'if-none-match': etag } : {}) },
                  signal,
                );
                const buf = r.body;
                counts.bytes += buf.byteLength;
                if (r.status === 200) {
                  counts.ok++;
                  etag = r.etag;
                  const next = (JSON.parse(Buffer.from(buf).toString()) as { next: number | null }).next;
                  if (next === null) break;
                  offset = next;
                } else if (r.status === 304) {
                  counts.notModified++;
                  break;
                } else {
                  if (r.status === 503) counts.busy++;
                  else counts.other++;
                  await new Promise((res) => setTimeout(res, 1000));
                  break;
                }
              } catch {
                if (signal.aborted) return;
                counts.other++;
              }
            }
          }
        }),
      );
    },
    after: () => ({
      proposal_pages_ok: counts.ok,
      proposal_not_modified: counts.notModified,
      proposal_over_budget: counts.busy,
      proposal_other_status: counts.other,
      proposal_mb_read: Math.round(counts.bytes / 2 ** 20),
    }),
    close: async () => {},
  };
}
