import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTimestamp } from '@shuniu/protocol';
import type { AllocationState, Conflict, NeedState, OfferState } from '@shuniu/resolve';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubKey, type ScenarioNeed, wuhanScenario } from '../../examples/wuhan-scenario.js';
import type { OpenOptions } from '../../nodes/hub/src/node.js';
import { eventually, post, startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * Issue 12, "Must show": operators run a Wuhan-sized network of our own
 * making (examples/wuhan-scenario.ts: 30 hospitals, 9 district hubs under
 * the Wuhan city hub, the Hubei province hub, a national foundation admitted
 * by the province; 200 needs, scarce offers with donor intent). Twelve real
 * nodes on loopback federate; Debian's Chromium drives their consoles.
 *
 * District operators post needs (three through the console's form, the rest
 * through the operator API); the foundation, the province and the city post
 * scarce offers with intent; every node reaches the same state hash. On the
 * matching page each operator can sign only its own hub's proposals (the
 * rest wait for the hub named) and signs them; the API refuses another hub's
 * offer. Custody runs to delivery for three hospitals (one need delivered in
 * two parts, one delivery corrected). The foundation's reports page shows
 * the figures of spec/resolution.md §10 computed here from /v1/state: people
 * reached counted once per beneficiary group, never per delivery.
 *
 * WUHAN_TRACE=1 prints the time each step took.
 *
 * Screenshots (matching page of the city and of the foundation, the
 * foundation's reports page) go to test-results/screenshots/wuhan/; with
 * SHUNIU_SCREENSHOTS=commit they refresh docs/screenshots/, which the README
 * links.
 */

requireChromium('test/e2e/wuhan.test.ts');

const shots =
  process.env.SHUNIU_SCREENSHOTS === 'commit'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : fileURLToPath(new URL('../../test-results/screenshots/wuhan/', import.meta.url));
const WAIT = 30_000;

// Short federation intervals so twelve nodes converge within the test (real nodes pull every 30 s); every plan fresh.
const fast: OpenOptions = {
  overrides: {
    federation: { pullIntervalMs: 1000, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 },
    limits: { matchStaleMs: 0 },
  },
};

type Running = Awaited<ReturnType<typeof startNode>>;
interface Proposal {
  offer: string;
  need: string;
  signer: string;
  quantity: number;
  requester: string;
}

const now = () => formatTimestamp(Math.floor(Date.now() / 1000) * 1000);

async function getJson<T>(url: string, token?: string): Promise<T> {
  const r = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Every item of a state collection, page after page. */
async function collection<T>(n: Running, name: string): Promise<T[]> {
  const out: T[] = [];
  let after: string | null = null;
  do {
    const page: Record<string, unknown> & { next: string | null } = await getJson(
      `${n.url}/v1/state/${name}?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      n.token,
    );
    out.push(...(page[name] as T[]));
    after = page.next;
  } while (after);
  return out;
}

async function created(n: Running, path: string, body: unknown): Promise<string> {
  const r = await post(`${n.url}${path}`, body, n.token);
  const json = (await r.json()) as { id: string; detail?: string };
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
  return json.id;
}

/** Runs `f` over `xs`, a few at a time (a node signs its writes one by one; this keeps its queue short). */
async function inChunks<T>(xs: readonly T[], f: (x: T) => Promise<unknown>, size = 4): Promise<void> {
  for (let i = 0; i < xs.length; i += size) await Promise.all(xs.slice(i, i + size).map(f));
}

describe.skipIf(!haveChromium)('January 2020 in Wuhan, on a scenario of our own making', () => {
  const nodes = new Map<HubKey, Running>();
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(shots);
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    for (const n of nodes.values()) await n.node.close().catch(() => {});
  });

  async function console_(n: Running, hash: string): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN', timezoneId: 'UTC', deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(`${n.url}: ${e.message}`));
    await page.goto(`${n.url}/#token=${n.token}`);
    await page.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    await page.goto(`${n.url}/#${hash}`);
    return page;
  }

  /**
   * The page from its top, down to the bottom of `until` when given (else one
   * screen): the pages of 150 proposals are long, and the pictures stay small.
   */
  async function shot(page: Page, name: string, until?: Locator): Promise<void> {
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.evaluate('window.scrollTo(0, 0)');
    const box = until ? await until.boundingBox() : null;
    const height = box ? Math.min(1800, Math.ceil(box.y + box.height + 16)) : undefined;
    await page.screenshot({ path: join(shots, `${name}.png`), ...(height ? { fullPage: true, clip: { x: 0, y: 0, width: 1280, height } } : {}) });
  }

  /** Every node holds the same records and state (the resolver's hash), checked on all twelve at once. */
  async function converged(): Promise<string> {
    let hash = '';
    await eventually(
      async () => {
        const hs = await Promise.all([...nodes.values()].map((n) => getJson<{ stateHash: string; records: number }>(`${n.url}/v1/state/hash`, n.token)));
        hash = hs[0]?.stateHash ?? '';
        return new Set(hs.map((h) => `${h.stateHash}/${h.records}`)).size === 1;
      },
      300,
      200,
    );
    return hash;
  }

  it('districts post needs, donors offer with intent, each hub signs its own proposals, custody to three hospitals, the foundation reports what the resolver says', async () => {
    const t0 = Date.now();
    const step = (m: string) => process.env.WUHAN_TRACE && console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s ${m}`);
    const scenario = wuhanScenario(Date.now());
    expect(scenario.hospitals).toHaveLength(30);
    expect(scenario.needs).toHaveLength(200);
    const hubName = new Map(scenario.hubs.map((h) => [h.key, h.name]));

    // Twelve nodes: the province, the city (its child), nine districts (the city's), the foundation (follows the province, admitted at level national).
    const byKey = (k: HubKey) => nodes.get(k) as Running;
    const start = async (h: (typeof scenario.hubs)[number]) => {
      const parent = h.follows ? undefined : h.admittedBy;
      const n = await startNode(
        {
          name: h.name,
          level: h.level,
          region: h.region,
          ...(parent ? { parent: byKey(parent).url } : {}),
          ...(h.follows ? { follow: [byKey(h.follows).url] } : {}),
        },
        fast,
      );
      nodes.set(h.key, n);
      if (h.admittedBy) await created(byKey(h.admittedBy), '/v1/admissions', { child: n.node.hubId, level: h.level, region: h.region, url: n.url });
    };
    // The province first, then its two children, then the city's nine districts.
    for (const wave of [['province'], ['city', 'foundation'], scenario.hubs.filter((h) => h.key.startsWith('d')).map((h) => h.key)])
      await Promise.all(scenario.hubs.filter((h) => wave.includes(h.key)).map(start));
    step('nodes up');
    const province = byKey('province');
    const foundation = byKey('foundation');
    const city = byKey('city');
    const hubIdOf = (k: HubKey) => byKey(k).node.hubId;

    // Three needs through the console's form: two by 江岸区 (420102), one by 武昌区 (420106); the other 197 through the operator API.
    const viaForm: ScenarioNeed[] = [
      ...scenario.needs.filter((n) => n.by === 'd420102').slice(0, 2),
      ...scenario.needs.filter((n) => n.by === 'd420106').slice(0, 1),
    ];
    for (const k of new Set(viaForm.map((n) => n.by))) {
      const p = await console_(byKey(k), '/needs');
      for (const need of viaForm.filter((n) => n.by === k)) {
        const b = need.body;
        await p.reload();
        await p.getByRole('heading', { level: 1, name: '需求看板' }).waitFor();
        await p.getByRole('button', { name: '发布新需求' }).click();
        await p.fill('#f-item-name', b.item.name);
        await p.fill('#f-item-code', b.item.code);
        await p.fill('#f-quantity', String(b.quantity));
        await p.fill('#f-unit-name', b.unit.name);
        await p.fill('#f-unit-base', b.unit.base);
        await p.fill('#f-unit-size', String(b.unit.size));
        await p.selectOption('#f-urgency', b.urgency);
        await p.fill('#f-neededBy', b.neededBy.slice(0, 16));
        await p.selectOption('#f-region', b.region);
        await p.selectOption('#f-beneficiaries-group', b.beneficiaries.group);
        await p.fill('#f-beneficiaries-count', String(b.beneficiaries.count));
        await p.fill('#f-requester-name', b.requester.name);
        await p.selectOption('#f-requester-kind', b.requester.kind);
        await p.fill('#f-campaign', b.campaign ?? '');
        await p.selectOption('#f-purpose', b.purpose ?? '');
        await p.getByRole('button', { name: '签名并发布' }).click();
        await p.getByText(/已签名发布/).waitFor();
      }
      // Closed before the bulk: an open console reloads its state on every change the live feed announces.
      await p.context().close();
    }
    step('form needs posted');
    await Promise.all(
      [...new Set(scenario.needs.map((n) => n.by))].map(async (k) => {
        await inChunks(
          scenario.needs.filter((n) => n.by === k && !viaForm.includes(n)),
          (need) => created(byKey(k), '/v1/needs', need.body),
        );
      }),
    );
    // The form's needs are the scenario's, as posted through the API (the requester's region included).
    const jiangan = await collection<NeedState>(byKey('d420102'), 'needs');
    for (const need of viaForm.filter((n) => n.by === 'd420102')) {
      const got = jiangan.find((n) => n.requester.name === need.body.requester.name && n.item.code === need.body.item.code);
      expect(got && { q: got.quantity, u: got.unit, nb: got.neededBy, b: got.beneficiaries, p: got.purpose }).toEqual({
        q: need.body.quantity * need.body.unit.size,
        u: need.body.unit,
        nb: need.body.neededBy,
        b: need.body.beneficiaries,
        p: need.body.purpose,
      });
    }

    step('api needs posted');
    // Scarce offers with intent, by the foundation, the province and the city.
    const offerIds = new Map<string, string>();
    for (const o of scenario.offers) offerIds.set(`${o.by}/${o.itemKey}`, await created(byKey(o.by), '/v1/offers', o.body));
    await converged();
    step('converged 1');
    const needs0 = await collection<NeedState>(foundation, 'needs');
    expect(needs0).toHaveLength(200);

    // The engine's plan as the city sees it for Wuhan: who must sign each proposal.
    const plan = async (n: Running, region = '') =>
      (await getJson<{ proposals: Proposal[]; total: number }>(`${n.url}/v1/match/proposals?limit=5000${region ? `&region=${region}` : ''}`, n.token))
        .proposals;
    const cityPlan = await plan(city, '4201');
    const signers = (ps: Proposal[]) => Object.fromEntries([...new Set(ps.map((p) => p.signer))].map((s) => [s, ps.filter((p) => p.signer === s).length]));
    const counts = signers(cityPlan);
    expect(Object.keys(counts).sort()).toEqual([hubIdOf('foundation'), hubIdOf('province'), hubIdOf('city')].sort());
    // Intent holds in the plan: the foundation's N95 only to Wuhan medical staff, its coveralls only to its four districts.
    const needById = new Map(needs0.map((n) => [n.id, n]));
    for (const p of cityPlan.filter((p) => p.offer === offerIds.get('foundation/coverall'))) {
      expect(['420102', '420105', '420106', '420111']).toContain(needById.get(p.need)?.region);
    }

    step('plan fetched');
    // The city's matching page: starts at Wuhan (4201); only the city's own proposals have a sign button, the others wait for their hub, by name.
    const cp = await console_(city, '/matching');
    expect(await cp.locator('#f-match-region').inputValue()).toBe('4201');
    await cp.locator('article.proposal').first().waitFor();
    await expect.poll(() => cp.locator('article.proposal').count(), { timeout: WAIT }).toBe(cityPlan.length);
    expect(
      await cp
        .locator('article.proposal')
        .filter({ has: cp.getByRole('button', { name: '确认并签名分配' }) })
        .count(),
    ).toBe(counts[hubIdOf('city')]);
    expect(await cp.locator('[data-waiting]', { hasText: '等待长江公益基金会签名' }).count()).toBe(counts[hubIdOf('foundation')]);
    expect(await cp.locator('[data-waiting]', { hasText: '等待湖北省枢纽签名' }).count()).toBe(counts[hubIdOf('province')]);
    expect(await cp.locator('[data-counts]').textContent()).toContain(`本枢纽可签名 ${counts[hubIdOf('city')]} 条`);
    // Down to the first proposal the city signs itself, past the foundation's and the province's that wait for them.
    await shot(
      cp,
      'wuhan-matching-city',
      cp
        .locator('article.proposal')
        .filter({ has: cp.getByRole('button', { name: '确认并签名分配' }) })
        .first(),
    );

    step('city page checked');
    // A district signs nothing: every proposal for its hospitals waits for the donor's hub.
    const dp = await console_(byKey('d420111'), '/matching');
    expect(await dp.locator('#f-match-region').inputValue()).toBe('420111');
    await dp.locator('article.proposal [data-waiting]').first().waitFor();
    expect(await dp.locator('article.proposal').count()).toBe(cityPlan.filter((p) => needById.get(p.need)?.region === '420111').length);
    expect(await dp.getByRole('button', { name: '确认并签名分配' }).count()).toBe(0);

    // The operator API refuses the city's allocation of the foundation's offer: nothing signed.
    const theirs = cityPlan.find((p) => p.signer === hubIdOf('foundation')) as Proposal;
    const refused = await post(`${city.url}/v1/allocations`, { offer: theirs.offer, need: theirs.need, quantity: theirs.quantity }, city.token);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('E_NOT_AUTHOR');

    step('district + refusal');
    // Each of the three signing hubs signs one proposal on its matching page, then the rest of its own through the API.
    const fp = await console_(foundation, '/matching');
    expect(await fp.locator('#f-match-region').inputValue()).toBe('');
    await fp.locator('article.proposal').first().waitFor();
    await shot(fp, 'wuhan-matching-foundation');
    const pp = await console_(province, '/matching');
    await pp.locator('article.proposal').first().waitFor();
    for (const [key, page] of [
      ['foundation', fp],
      ['province', pp],
      ['city', cp],
    ] as const) {
      const own = page.locator('article.proposal').filter({ has: page.getByRole('button', { name: '确认并签名分配' }) });
      const others = await page.locator('article.proposal [data-waiting]').allTextContents();
      expect(others.length).toBeGreaterThan(0);
      for (const w of others) expect(w).not.toContain(hubName.get(key));
      await own.first().getByRole('button', { name: '确认并签名分配' }).click();
      await page
        .getByText(/已签名分配/)
        .first()
        .waitFor();
    }
    step('ui signed');
    for (const page of [cp, dp, fp, pp]) await page.context().close();
    await Promise.all(
      (['foundation', 'province', 'city'] as const).map(async (key) => {
        const n = byKey(key);
        const mine = (await plan(n)).filter((p) => p.signer === n.node.hubId);
        expect(mine.length).toBeGreaterThan(0);
        await inChunks(mine, (p) => created(n, '/v1/allocations', { offer: p.offer, need: p.need, quantity: p.quantity }));
      }),
    );
    await converged();
    step('converged 2');
    const allocations = await collection<AllocationState>(foundation, 'allocations');
    const offers = await collection<OfferState>(foundation, 'offers');
    const offerById = new Map(offers.map((o) => [o.id, o]));
    // Every allocation stands, signed by its offer's author; no conflict of any kind (no over-allocation, no unauthorised record).
    expect(allocations.length).toBeGreaterThan(100);
    for (const a of allocations) {
      expect(a.status).toBe('proposed');
      expect(a.hub).toBe(offerById.get(a.offer)?.hub);
    }
    expect(await collection<Conflict>(foundation, 'conflicts')).toEqual([]);
    // No allocation breaks its donor's intent (spec/matching.md §2 H1).
    for (const a of allocations) {
      const { intent } = offerById.get(a.offer) as OfferState;
      const need = needById.get(a.need) as NeedState;
      if (intent.regions) expect(intent.regions.some((r) => need.region.startsWith(r))).toBe(true);
      if (intent.groups) expect(intent.groups).toContain(need.beneficiaries.group);
      if (intent.purposes) expect(intent.purposes).toContain(need.purpose);
    }
    // Scarce: the foundation's N95 respirators are all given, spread over Wuhan's designated hospitals rather than to the first asking.
    const n95 = offerById.get(offerIds.get('foundation/n95') as string) as OfferState;
    const n95Allocs = allocations.filter((a) => a.offer === n95.id);
    expect(n95Allocs.reduce((s, a) => s + a.quantity, 0)).toBeGreaterThan(n95.quantity * 0.95);
    expect(new Set(n95Allocs.map((a) => a.need)).size).toBe(scenario.hospitals.filter((h) => h.designated).length);

    step('allocs checked');
    // Custody for three hospitals: the donors' hubs hand the goods to the district, which receives and delivers them.
    const needsNow = await collection<NeedState>(foundation, 'needs');
    const hospitals = ['江岸区人民医院', '武昌区中心医院', '洪山区人民医院'].map((name) => scenario.hospitals.find((h) => h.name === name));
    const peopleServedNotes: number[] = [];
    for (const [i, h] of hospitals.entries()) {
      if (!h) throw new Error('hospital not in the scenario');
      const district = byKey(h.hub);
      const theirNeeds = needsNow.filter((n) => n.requester.name === h.name);
      const allocs = allocations.filter((a) => theirNeeds.some((n) => n.id === a.need));
      // The foundation's respirators and coveralls, and the province's gowns.
      for (const sender of ['foundation', 'province'] as const) {
        const mine = allocs.filter((a) => a.hub === hubIdOf(sender) && (sender === 'foundation' || needById.get(a.need)?.item.code === 'PPE.GOWN'));
        if (!mine.length) continue;
        for (const a of mine) await created(district, `/v1/allocations/${a.id}/accept`, {});
        const lines = mine.map((a) => {
          const need = needById.get(a.need) as NeedState;
          return { item: need.item, quantity: a.quantity, unit: { name: need.unit.base, base: need.unit.base, size: 1 } };
        });
        const handoff = await created(byKey(sender), '/v1/handoffs', {
          shipment: `WH-${i}-${sender}`,
          from: hubIdOf(sender),
          to: district.node.hubId,
          lines,
          carrier: { name: sender === 'foundation' ? '基金会包车' : '湖北省应急物资车队', kind: 'chartered_truck' },
          expectedArrival: formatTimestamp(Math.floor((Date.now() + 86_400_000) / 1000) * 1000),
          allocations: mine.map((a) => a.id),
        });
        await eventually(async () => (await fetch(`${district.url}/v1/records/${handoff}`)).status === 200, 300, 100);
        await created(district, '/v1/receipts', {
          handoff,
          lines: lines.map((l, line) => ({ line, accepted: l.quantity, rejected: 0, missing: 0 })),
          received: now(),
        });
        for (const l of lines) {
          const need = theirNeeds.find((n) => n.item.code === l.item.code) as NeedState;
          const delivery = (quantity: number, corrects?: string) =>
            created(district, '/v1/deliveries', {
              need: need.id,
              handoffs: [handoff],
              lines: [{ ...l, quantity }],
              recipient: { name: h.name, kind: 'hospital', region: h.region },
              // As a deliverer might write it: the whole staff on every delivery. Reports never add these up.
              peopleServed: h.staff,
              delivered: now(),
              ...(corrects ? { corrects } : {}),
            });
          if (i === 0 && l.item.code === 'PPE.MASK.N95') {
            // Two deliveries of one need.
            const half = Math.floor(l.quantity / 2);
            await delivery(half);
            await delivery(l.quantity - half);
            peopleServedNotes.push(h.staff, h.staff);
          } else if (i === 1 && l.item.code === 'PPE.MASK.N95') {
            // A delivery recorded short, then corrected: only the correction counts.
            const first = await delivery(Math.max(1, l.quantity - 100));
            await delivery(l.quantity, first);
            peopleServedNotes.push(h.staff, h.staff);
          } else {
            await delivery(l.quantity);
            peopleServedNotes.push(h.staff);
          }
        }
      }
    }
    step('custody posted');
    const hash = await converged();
    expect(await collection<Conflict>(foundation, 'conflicts')).toEqual([]);

    step('converged 3');
    // The resolver's figures (spec/resolution.md §10), computed here from the foundation's /v1/state.
    const needs = await collection<NeedState>(foundation, 'needs');
    const offersEnd = (await collection<OfferState>(foundation, 'offers')).filter((o) => o.status !== 'withdrawn');
    const reached = needs.filter((n) => n.delivered > 0);
    const figures = (rs: NeedState[], os: OfferState[]) => {
      const groups = new Map<string, number>();
      for (const n of rs) {
        const g = `${n.requester.region ?? n.region}|${n.requester.name}|${n.beneficiaries.group}`;
        groups.set(g, Math.max(groups.get(g) ?? 0, n.beneficiaries.count));
      }
      return {
        people: [...groups.values()].reduce((s, c) => s + c, 0),
        needs: rs.length,
        deliveries: new Set(rs.flatMap((n) => n.deliveries)).size,
        units: new Set(rs.map((n) => `${n.requester.region ?? n.region}|${n.requester.name}`)).size,
        moneyFen: os.filter((o) => o.kind === 'funds').reduce((s, o) => s + o.valueFen, 0),
        goodsFen: os.filter((o) => o.kind !== 'funds').reduce((s, o) => s + o.valueFen, 0),
      };
    };
    const totals = figures(reached, offersEnd);
    const foundationOffers = offersEnd.filter((o) => o.hub === hubIdOf('foundation'));
    const foundationAllocs = new Set(allocations.filter((a) => a.hub === hubIdOf('foundation')).map((a) => a.id));
    const foundationRow = figures(
      reached.filter((n) => n.allocations.some((a) => foundationAllocs.has(a))),
      foundationOffers,
    );
    // The three hospitals' medical staff, each counted once although they got up to three items in up to five deliveries.
    expect(totals.people).toBe(hospitals.reduce((s, h) => s + (h?.staff ?? 0), 0));
    expect(totals.units).toBe(3);
    expect(totals.needs).toBeGreaterThanOrEqual(6);
    // One need's two deliveries both count; the corrected one does not.
    expect(totals.deliveries).toBe(peopleServedNotes.length - 1);
    // Adding up the deliverers' notes would count people several times over.
    expect(peopleServedNotes.reduce((s, c) => s + c, 0)).toBeGreaterThan(totals.people * 2);
    expect(foundationRow.people).toBe(totals.people);

    step('figures');
    // The foundation's reports page shows exactly these figures.
    const rp = await console_(foundation, '/reports');
    await rp.getByRole('heading', { level: 1, name: '报告' }).waitFor();
    const digits = async (sel: string) => Number(((await rp.locator(sel).first().textContent()) ?? '').replace(/[^\d]/g, ''));
    await expect.poll(() => digits('dd[data-total="people"]'), { timeout: WAIT }).toBe(totals.people);
    expect(await digits('dd[data-total="needs"]')).toBe(totals.needs);
    expect(await digits('dd[data-total="deliveries"]')).toBe(totals.deliveries);
    expect(await digits('dd[data-total="units"]')).toBe(totals.units);
    expect(await digits('dd[data-total="money"]')).toBe(totals.moneyFen / 100);
    expect(await digits('dd[data-total="goods"]')).toBe(Math.round(totals.goodsFen / 100));
    const row = rp.locator(`tr[data-row="${hubIdOf('foundation')}"]`);
    expect(Number(await row.locator('td[data-people]').getAttribute('data-people'))).toBe(foundationRow.people);
    // Down to the foundation's own row in the table by hub.
    await shot(rp, 'wuhan-reports-foundation', row);

    // Nothing moved while the page was read: the figures are those of the converged state.
    expect(await converged()).toBe(hash);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
