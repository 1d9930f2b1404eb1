import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needBody, post, startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * Volunteers and skills (issue 18 point 6), in Debian's Chromium against a
 * real node: offers of kind `volunteers` carry skills and availability
 * (spec/records.md §5.8), and the public map (no sign-in) lists them near the
 * open needs: the team in a county with open needs first, then one whose
 * prefecture has them, then the rest, each with its skills and hours.
 */

requireChromium('test/e2e/volunteers.test.ts');

const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const WAIT = 30_000;

type Running = Awaited<ReturnType<typeof startNode>>;

const team = (o: { donor: string; region: string; quantity: number; volunteers?: unknown; kind?: string }) => ({
  kind: o.kind ?? 'volunteers',
  item: { code: 'SERVICE.VOLUNTEER', name: '志愿服务' },
  quantity: o.quantity,
  unit: { name: '人', base: '人', size: 1 },
  valueFen: 0,
  donor: { name: o.donor, kind: 'volunteer_group' },
  intent: {},
  region: o.region,
  ...(o.volunteers ? { volunteers: o.volunteers } : {}),
});

describe.skipIf(!haveChromium)('volunteers: skills and availability on the public map, near the needs', () => {
  let browser: Browser | undefined;
  let node: Running | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(shots);
    node = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await node?.node.close().catch(() => {});
  });

  async function open(url: string): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 1000 }, locale: 'zh-CN', deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
    await page.goto(url);
    return page;
  }

  it('lists volunteer teams with their skills and hours, nearest to the open needs first; skills on any other kind are refused', async () => {
    const n = node as Running;
    // Open needs in Xiaonan (420902) and in Yunmeng (420923), both in Xiaogan prefecture.
    for (const region of ['420902', '420923'])
      expect((await post(`${n.url}/v1/needs`, needBody({ region, neededBy: '2030-02-10T00:00:00Z' }), n.token)).status).toBe(201);
    const posted = async (body: unknown) => {
      const res = await post(`${n.url}/v1/offers`, body, n.token);
      expect(res.status, await res.clone().text()).toBe(201);
    };
    // In Wuhan: far from both needs. In Xiaochang (420921): the prefecture has needs. In Xiaonan: the county has one.
    await posted(team({ donor: '武汉高校志愿者', region: '420111', quantity: 30, volunteers: { skills: ['teaching'], availability: { remote: true } } }));
    await posted(
      team({
        donor: '孝昌县蓝天救援队',
        region: '420921',
        quantity: 8,
        volunteers: { skills: ['logistics', 'repair'], availability: { days: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
      }),
    );
    // The Xiaonan team through the console's offer form: skills and hours appear for kind volunteers.
    const op = await open(`${n.url}/#token=${n.token}`);
    await op.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    await op.getByRole('link', { name: '资源', exact: true }).click();
    await op.getByRole('button', { name: '登记新资源' }).click();
    await op.selectOption('#f-kind', 'volunteers');
    await op.fill('#f-item-name', '志愿服务');
    await op.fill('#f-item-code', 'SERVICE.VOLUNTEER');
    await op.fill('#f-quantity', '12');
    await op.fill('#f-unit-name', '人');
    await op.fill('#f-unit-base', '人');
    await op.fill('#f-valueFen', '0');
    await op.fill('#f-donor-name', '孝南区青年志愿者协会');
    await op.selectOption('#f-donor-kind', 'volunteer_group');
    await op.selectOption('#f-region', '420902');
    const form = op.locator('fieldset.volunteer-fields');
    for (const label of ['驾驶', '照顾老人', '周六', '周日']) await form.getByLabel(label, { exact: true }).check();
    await op.fill('#f-volunteers-availability-hours-start', '08:00');
    await op.fill('#f-volunteers-availability-hours-end', '18:00');
    await op.fill('#f-volunteers-availability-until', '2030-03-31T12:00');
    await op.screenshot({ path: join(shots, '18-volunteers-form.png'), fullPage: true });
    await op.getByRole('button', { name: '签名并发布' }).click();
    await op.getByText(/已签名发布/).waitFor();

    // Skills on an offer of another kind: a typed error, nothing signed.
    const bad = await post(
      `${n.url}/v1/offers`,
      team({ kind: 'goods', donor: '某公司', region: '420902', quantity: 1, volunteers: { skills: ['driving'], availability: {} } }),
      n.token,
    );
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { code: string; issues: { path: (string | number)[] }[] };
    expect(problem.code).toBe('E_SCHEMA');
    expect(problem.issues[0]?.path).toEqual(['body', 'volunteers']);

    const page = await open(`${n.url}/#/public`);
    const section = page.locator('section.volunteers');
    await section.getByRole('heading', { level: 2, name: /附近的志愿者/ }).waitFor();
    const cards = section.locator('article.volunteer');
    await cards.nth(2).waitFor();
    expect(await cards.count()).toBe(3);
    // Nearest first: the county's team, then the prefecture's, then Wuhan's.
    const first = cards.nth(0);
    expect(await first.locator('h3').textContent()).toBe('孝南区青年志愿者协会 · 12 人');
    await first.locator('li[data-skill="driving"]').waitFor();
    expect(await first.locator('li[data-skill]').allTextContents()).toEqual(['驾驶', '照顾老人']);
    expect(await first.locator('.availability').textContent()).toBe('可服务时间：周六、周日 · 08:00–18:00 · 至 2030-03-31');
    expect(await first.textContent()).toContain('同县区开放需求 1 条，同地市 1 条');
    expect(await cards.nth(1).locator('h3').textContent()).toBe('孝昌县蓝天救援队 · 8 人');
    expect(await cards.nth(1).locator('li[data-skill]').allTextContents()).toEqual(['物流', '维修']);
    expect(await cards.nth(2).locator('h3').textContent()).toBe('武汉高校志愿者 · 30 人');
    expect(await cards.nth(2).locator('.availability').textContent()).toBe('可服务时间：可远程');
    await page.screenshot({ path: join(shots, '18-volunteers-public.png'), fullPage: true });

    // In English.
    await page.getByRole('button', { name: '切换语言' }).click();
    await section.getByRole('heading', { level: 2, name: /Volunteers nearby/ }).waitFor();
    expect(await cards.nth(0).locator('li[data-skill]').allTextContents()).toEqual(['Driving', 'Elderly care']);
    expect(await cards.nth(0).locator('.availability').textContent()).toBe('Available: Sat, Sun · 08:00–18:00 · until 2030-03-31');
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
