import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELIEF_ITEMS } from '@shuniu/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../../nodes/hub/src/node.js';
import { post, startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * The operator console end to end: real nodes on loopback, Debian's
 * Chromium driven by playwright-core, no mock of our own code. A county
 * operator posts a need; it reaches the province by federation; the
 * province accepts the engine's proposal and hands the goods off; the county
 * records the receipt and the final delivery and sees the need fulfilled.
 * Screenshots of each main page go to test-results/screenshots/ (ignored by
 * git); with SHUNIU_SCREENSHOTS=commit they refresh the committed set in
 * test/e2e/screenshots/ that the README shows.
 */

requireChromium('test/e2e/console.test.ts');

const shots =
  process.env.SHUNIU_SCREENSHOTS === 'commit'
    ? fileURLToPath(new URL('./screenshots/', import.meta.url))
    : fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const WAIT = 30_000;

// Short federation intervals so the two nodes converge within the test; real nodes pull every 30 s.
const fast: OpenOptions = { overrides: { federation: { pullIntervalMs: 250, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 } } };

type Running = Awaited<ReturnType<typeof startNode>>;

describe.skipIf(!haveChromium)('operator console against a county and a province node', () => {
  const running: Running[] = [];
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(shots);
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    for (const n of running) await n.node.close().catch(() => {});
  });

  async function open(url: string, width = 1280, height = 900): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width, height }, locale: 'zh-CN', deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
    await page.goto(url);
    return page;
  }

  async function shot(page: Page, name: string): Promise<void> {
    // Let the live feed's batched refresh settle so the picture shows the state just reached.
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }

  it('need posted on the county reaches the province, is allocated, handed off, received, delivered and shown fulfilled', async () => {
    const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, fast);
    running.push(province);
    const county = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902', parent: province.url }, fast);
    running.push(county);
    const admitted = await post(
      `${province.url}/v1/admissions`,
      { child: county.node.hubId, level: 'county', region: '420902', url: county.url },
      province.token,
    );
    expect(admitted.status).toBe(201);

    // The public page needs no sign-in.
    const pub = await open(`${county.url}/`);
    await pub.getByRole('heading', { level: 1, name: '公开地图：本地区的需求与资源' }).waitFor();
    await pub.close();

    // A sign-in link as `shuniu start` prints it: the token is taken and removed from the address.
    const c = await open(`${county.url}/#token=${county.token}`);
    await c.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    expect(c.url()).not.toContain('token');
    await c.getByRole('heading', { level: 1, name: '需求看板' }).waitFor();

    // The form runs the protocol's schema: an empty quantity is refused before anything is sent.
    await c.getByRole('button', { name: '发布新需求' }).click();
    await c.getByRole('button', { name: '签名并发布' }).click();
    const summary = c.locator('.error-summary');
    await summary.waitFor();
    expect(await summary.textContent()).toContain('数量');
    await shot(c, '02-need-form-errors');

    await c.fill('#f-item-name', '医用外科口罩');
    await c.fill('#f-item-code', 'PPE.MASK.SURGICAL');
    // Suggestions, the code's hint and its base unit come from the relief-item catalogue (spec/catalogue.md).
    expect(await c.locator('#item-codes option').count()).toBe(RELIEF_ITEMS.length);
    expect(await c.locator('#item-codes option[value="PPE.GOWN"]').textContent()).toContain('隔离衣');
    expect(await c.locator('#f-item-code-hint').textContent()).toContain('医用外科口罩');
    expect(await c.inputValue('#f-unit-base')).toBe('piece');
    await c.fill('#f-quantity', '200');
    await c.fill('#f-unit-name', '箱');
    await c.fill('#f-unit-base', '个');
    await c.fill('#f-unit-size', '50');
    await c.selectOption('#f-urgency', 'critical');
    await c.selectOption('#f-region', '420902');
    await c.selectOption('#f-beneficiaries-group', 'medical_staff');
    await c.fill('#f-beneficiaries-count', '300');
    await c.fill('#f-requester-name', '孝南区人民医院');
    await c.fill('#f-campaign', '2020 新冠应急');
    await c.getByRole('button', { name: '签名并发布' }).click();
    await c.getByText(/已签名发布/).waitFor();
    const countyNeed = c.locator('article.need', { hasText: '孝南区人民医院' });
    await countyNeed.waitFor();

    // A donor's offer at the province (through the API: the console's own offer form is covered by the screenshots run).
    const offer = await post(
      `${province.url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 2200,
        unit: { name: '箱', base: '个', size: 50 },
        valueFen: 11_000_000,
        donor: { name: '壹基金', kind: 'foundation' },
        intent: { regions: ['42'], groups: ['medical_staff'] },
        region: '420902',
        campaign: '2020 新冠应急',
      },
      province.token,
    );
    expect(offer.status).toBe(201);
    // A need in Wuhan, outside the county: the county's matching page hides it until the operator widens the region.
    const wuhan = await post(
      `${province.url}/v1/needs`,
      {
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 100,
        unit: { name: '箱', base: '个', size: 50 },
        urgency: 'high',
        neededBy: '2099-01-30T00:00:00Z',
        region: '420102',
        beneficiaries: { group: 'medical_staff', count: 200 },
        requester: { name: '武汉市第一医院', kind: 'hospital' },
      },
      province.token,
    );
    expect(wuhan.status).toBe(201);

    // Federation: the county's need appears on the province's console without a reload.
    const p = await open(`${province.url}/#token=${province.token}`);
    await p.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    await p.locator('article.need', { hasText: '孝南区人民医院' }).waitFor();
    await shot(p, '03-needs-board');

    // The county's matching page shows the province's proposal for its hospital, but only the province may sign it:
    // no sign button, "waiting for 湖北省枢纽" instead (issue 12 point 1). Its region filter starts at the county itself.
    await c.goto(`${county.url}/#/matching`);
    expect(await c.locator('#f-match-region').inputValue()).toBe('420902');
    const waiting = c.locator('article.proposal', { hasText: '孝南区人民医院' });
    await waiting.locator('[data-waiting]', { hasText: '等待湖北省枢纽签名' }).waitFor();
    expect(await waiting.getByRole('button', { name: '确认并签名分配' }).count()).toBe(0);
    expect(await c.locator('article.proposal', { hasText: '武汉市第一医院' }).count()).toBe(0);
    await c.selectOption('#f-match-region', '42');
    await c.locator('article.proposal', { hasText: '武汉市第一医院' }).locator('[data-waiting]').waitFor();
    await shot(c, '05-matching-county-waiting');

    // Matching: accept the engine's proposal; it is signed as an allocation.
    await p.goto(`${province.url}/#/matching`);
    const proposal = p.locator('article.proposal', { hasText: '孝南区人民医院' });
    await proposal.waitFor();
    expect(await proposal.locator('.reasons li').count()).toBeGreaterThan(0);
    // This hub's own offer: signable, no "waiting"; reasons in Chinese from their codes and parameters (issue 12 point 3).
    expect(await proposal.locator('[data-waiting]').count()).toBe(0);
    expect(await proposal.locator('[data-reason="priority"]').textContent()).toMatch(/特急需求，可在需要日期前送达：第 1\/8 轮/);
    expect(await proposal.locator('.reasons').textContent()).not.toMatch(/round|neededBy|donor/);
    // The province's operator starts at its own region (湖北省 = 42) (issue 12 point 2).
    expect(await p.locator('#f-match-region').inputValue()).toBe('42');
    await shot(p, '05-matching');
    await proposal.getByRole('button', { name: '确认并签名分配' }).click();
    await p
      .getByText(/已签名分配/)
      .first()
      .waitFor();
    await p.locator('tr[data-allocation]').first().waitFor();

    // Custody: the province hands the goods off to the county.
    await p.goto(`${province.url}/#/custody`);
    await p.getByRole('button', { name: '记录交接（发货）' }).click();
    const handoff = p.locator('#handoff-form');
    await handoff.locator('input[name="allocation"]:checked').waitFor();
    await p.selectOption('#f-carrier-kind', 'chartered_truck');
    await p.fill('#f-carrier-name', '孝感应急局包车');
    await handoff.getByRole('button', { name: '签名并发布' }).click();
    await handoff.getByText(/已签名发布/).waitFor();
    await p.locator('li[data-shipment]').waitFor();

    // The county receives the shipment and records the receipt, then the final delivery.
    await c.goto(`${county.url}/#/custody`);
    await c.locator('li[data-shipment]').waitFor();
    await c.getByRole('button', { name: '记录签收' }).click();
    const receipt = c.locator('#receipt-form');
    await receipt.getByRole('button', { name: '签名并发布' }).click();
    await receipt.getByText(/已签名发布/).waitFor();
    await c.locator('li[data-shipment] .timeline li.done', { hasText: '已签收' }).waitFor();
    // Two deliveries to the hospital of 300: the form offers its 300 people on the first only (issue 12 point 6).
    await c.getByRole('button', { name: '记录最终送达' }).click();
    const delivery = c.locator('#delivery-form');
    await delivery.locator('#f-need option', { hasText: '孝南区人民医院' }).waitFor({ state: 'attached' });
    expect(await delivery.locator('#f-peopleServed').inputValue()).toBe('300');
    await delivery.locator('#f-quantity').fill('120');
    // Delivered two days ago, so the reports' daily series spans three days.
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    const local = (d: Date) =>
      `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    await delivery.locator('#f-delivered').fill(local(twoDaysAgo));
    await delivery.getByRole('button', { name: '签名并发布' }).click();
    await delivery.getByText(/已签名发布/).waitFor();
    await c.goto(`${county.url}/#/needs`);
    await c.locator('article.need', { hasText: '孝南区人民医院' }).locator('[data-testid="need-status"]', { hasText: '部分送达' }).waitFor();
    await c.goto(`${county.url}/#/custody`);
    await c.locator('li[data-shipment] .timeline li.done', { hasText: '已签收' }).waitFor();
    await c.getByRole('button', { name: '记录最终送达' }).click();
    await delivery.locator('#f-need option', { hasText: '孝南区人民医院' }).waitFor({ state: 'attached' });
    expect(await delivery.locator('#f-quantity').inputValue()).toBe('80');
    expect(await delivery.locator('#f-peopleServed').inputValue()).toBe('0');
    // Even a deliverer who enters the head count again does not count the hospital's people twice in reports.
    await delivery.locator('#f-peopleServed').fill('300');
    await delivery.getByRole('button', { name: '签名并发布' }).click();
    await delivery.getByText(/已签名发布/).waitFor();
    await shot(c, '06-custody-county');

    // The county's board shows the need fulfilled.
    await c.goto(`${county.url}/#/needs`);
    await c.locator('article.need', { hasText: '孝南区人民医院' }).locator('[data-testid="need-status"]', { hasText: '已满足' }).waitFor();
    await shot(c, '07-needs-fulfilled-county');

    // A region filter named by its prefix, as the node's filters take it: the picker shows the prefecture, not a blank (issue 12 point 9).
    await c.goto(`${county.url}/#/needs?region=4209`);
    await c.locator('article.need', { hasText: '孝南区人民医院' }).waitFor();
    expect(await c.locator('#flt-region').inputValue()).toBe('420900');
    expect(await c.locator('#flt-region option:checked').textContent()).toContain('孝感市');

    // More of a region for the map and the reports: needs in other counties, and money.
    const soon = new Date(Date.now() + 5 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const [region, name, code, item, quantity, urgency, group] of [
      ['421102', '黄冈市中心医院', 'PPE.MASK.N95', 'N95 口罩', 5000, 'critical', 'medical_staff'],
      ['420106', '武昌区中南路街道', 'FOOD.VEGETABLES', '蔬菜（公斤）', 8000, 'high', 'elderly'],
      ['420602', '襄阳市第一人民医院', 'PPE.GOWN', '防护服', 600, 'high', 'medical_staff'],
      ['420921', '孝昌县社区卫生服务中心', 'MED.THERMOMETER', '体温计', 300, 'normal', 'community_workers'],
    ] as const) {
      const r = await post(
        `${province.url}/v1/needs`,
        {
          item: { code, name: item },
          quantity,
          unit: { name: '个', base: '个', size: 1 },
          urgency,
          neededBy: soon,
          region,
          beneficiaries: { group, count: 200 },
          requester: { name, kind: group === 'medical_staff' ? 'hospital' : 'community' },
          campaign: '2020 新冠应急',
        },
        province.token,
      );
      expect(r.status).toBe(201);
    }
    const funds = await post(
      `${province.url}/v1/offers`,
      {
        kind: 'funds',
        item: { code: 'FUNDS.CNY', name: '善款' },
        quantity: 500_000,
        unit: { name: '元', base: '元', size: 1 },
        valueFen: 50_000_000,
        donor: { name: '上海联劝公益基金会', kind: 'foundation' },
        intent: { purposes: ['medical_protection', 'daily_living'] },
        region: '420106',
        campaign: '2020 新冠应急',
      },
      province.token,
    );
    expect(funds.status).toBe(201);

    // The other main pages, on the province (which now holds every record).
    for (const [hash, name, heading] of [
      ['/public', '01-public', '公开地图：本地区的需求与资源'],
      ['/offers', '04-offers', '资源看板'],
      ['/custody', '08-custody-province', '交接与物流'],
      ['/map', '09-map', '地区地图'],
      ['/network', '10-network', '网络与同步'],
      ['/reports', '11-reports', '报告'],
    ] as const) {
      await p.goto(`${province.url}/#${hash}`);
      await p.getByRole('heading', { level: 1, name: heading }).waitFor();
      if (hash === '/network') await p.locator('tr[data-peer]').first().waitFor();
      if (hash === '/reports') {
        // People reached from the resolved state: the hospital's 300 once, not 600 for its two deliveries.
        await p.locator('[data-total="deliveries"]', { hasText: /^2$/ }).waitFor();
        expect(await p.locator('[data-total="people"]').textContent()).toBe('300');
        // Daily amounts over the three days from the first delivery to today, zero-filled: one bar, on the first day.
        const people = p.locator('figure.chart', { hasText: '受益人数' });
        expect(await people.getAttribute('data-days')).toBe('3');
        expect(await people.locator('rect.bar').count()).toBe(1);
        expect(await people.locator('rect.bar').getAttribute('data-day')).toBe(twoDaysAgo.toISOString().slice(0, 10));
        expect(await people.locator('figcaption').textContent()).toBe('受益人数: 300');
      }
      await shot(p, name);
    }

    // English, and a phone-sized screen.
    await p.getByRole('button', { name: '切换语言' }).click();
    await p.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    await shot(p, '12-reports-en');
    const phone = await open(`${county.url}/#/needs`, 360, 740);
    await phone.locator('article.need', { hasText: '孝南区人民医院' }).waitFor();
    await shot(phone, '13-phone-needs');
    await phone.goto(`${county.url}/#/public`);
    await phone.locator('.map svg').waitFor();
    await shot(phone, '14-phone-public');

    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('全部退出登录 (sign out everywhere) revokes every token, this one too, and returns to sign-in', async () => {
    const node = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, fast);
    running.push(node);
    const other = await node.node.auth.issue('operator', 600, 'another browser');
    const page = await open(`${node.url}/#token=${node.token}`);
    await page.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: '全部退出登录' }).click();
    await page.getByRole('heading', { level: 1, name: '运营人员登录' }).waitFor();
    await page.getByRole('link', { name: '登录' }).waitFor();
    for (const t of [node.token, other]) expect((await fetch(`${node.url}/v1/peers`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(401);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
