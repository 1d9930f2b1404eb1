import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordId } from '@shuniu/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needBody, post, startNode, TestHub } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * Bundles (issue 18 point 5), in Debian's Chromium against a real node: a
 * community liaison hub that runs no node bundles its chat groups' needs; the
 * foundation's operator opens the bundle in the console, funds it as a whole
 * with the "fund this bundle" form, and the progress moves as a need is
 * allocated; anyone sees the bundle without signing in, and nothing private.
 */

requireChromium('test/e2e/bundles.test.ts');

const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const WAIT = 30_000;

type Running = Awaited<ReturnType<typeof startNode>>;

describe.skipIf(!haveChromium)('bundles: a foundation funds many small needs as one project', () => {
  let browser: Browser | undefined;
  let node: Running | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(shots);
    node = await startNode({ name: '上海联合基金会', level: 'province', region: '310000' });
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

  it('shows the bundle’s progress, funds it from the console and follows its needs', async () => {
    const n = node as Running;
    const liaison = await TestHub.make();
    liaison.sign('hub.profile', { name: { zh: '徐汇区社区团购群联络组' }, level: 'org', region: '310104', endpoints: [] });
    const group = (name: string, quantity: number) =>
      needBody({ quantity, region: '310104', requester: { name, kind: 'community', region: '310104' }, neededBy: '2099-05-01T00:00:00Z' });
    const needA = recordId(liaison.sign('need.posted', group('康健街道第一团购群', 40)));
    const needB = recordId(liaison.sign('need.posted', group('康健街道第二团购群', 60)));
    const bundle = recordId(
      liaison.sign('bundle.posted', {
        title: '徐汇区社区团购群防护物资',
        region: '310104',
        needs: [needA, needB],
        description: '两个社区团购群的口罩需求，整体资助',
        targetFen: 2_000_000,
      }),
    );
    expect((await post(`${n.url}/v1/admissions`, { child: liaison.id, level: 'org', region: '310104' }, n.token)).status).toBe(201);
    expect((await post(`${n.url}/v1/records`, liaison.records)).status).toBe(200);

    const op = await open(`${n.url}/#token=${n.token}`);
    await op.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    await op.getByRole('link', { name: '打包项目', exact: true }).click();
    const card = op.locator(`article.bundle[data-bundle="${bundle}"]`);
    await card.getByRole('heading', { name: '徐汇区社区团购群防护物资' }).waitFor();
    expect(await card.getByTestId('bundle-status').textContent()).toBe('待资助');
    expect(await card.getByTestId('bundle-stages').textContent()).toBe('共 2 项 · 待分配 2');
    expect(await card.getByTestId('bundle-item').textContent()).toBe('PPE.MASK.SURGICAL：已送达 0 / 需求 5,000 piece（已分配 0，在途 0）');

    // The bundle's page: its needs, and the foundation's "fund this bundle" form.
    await card.getByRole('link', { name: '详情' }).click();
    await op.getByRole('heading', { level: 2, name: '资助这个项目' }).waitFor();
    expect(await op.locator('article.need').count()).toBe(2);
    await op.fill('#f-amountFen', '20000');
    await op.getByRole('button', { name: '签名认捐' }).click();
    await op.getByText(/已签名发布/).waitFor();
    const detail = op.locator(`article.bundle[data-bundle="${bundle}"]`);
    await detail.getByTestId('bundle-status').filter({ hasText: '已资助' }).waitFor();
    expect(await detail.getByTestId('bundle-funded').textContent()).toBe('¥20,000 / 目标 ¥20,000');
    await op.screenshot({ path: join(shots, '18-bundle-funded.png'), fullPage: true });

    // The foundation allocates to one need: the bundle's progress follows (live feed, no reload).
    const offer = await post(
      `${n.url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 100,
        unit: { name: 'box', base: 'piece', size: 50 },
        valueFen: 2_000_000,
        donor: { name: '上海联合基金会', kind: 'foundation' },
        intent: { regions: ['31'] },
        region: '310000',
      },
      n.token,
    );
    const offerId = ((await offer.json()) as { id: string }).id;
    expect((await post(`${n.url}/v1/allocations`, { offer: offerId, need: needA, quantity: 2000 }, n.token)).status).toBe(201);
    await detail.getByTestId('bundle-stages').filter({ hasText: '共 2 项 · 待分配 1 · 已分配 1' }).waitFor();
    expect(await detail.getByTestId('bundle-item').textContent()).toBe('PPE.MASK.SURGICAL：已送达 0 / 需求 5,000 piece（已分配 2,000，在途 0）');

    // A district operator bundles open needs from the console (here the same node: needs of another hub).
    await op.getByRole('link', { name: '打包项目', exact: true }).click();
    await op.getByRole('button', { name: '新建打包项目' }).click();
    await op.fill('#f-title', '康健街道两个团购群');
    await op.selectOption('#f-region', '310104');
    await op.fill('#f-targetFen', '5000');
    await op.getByRole('button', { name: '签名并发布' }).click();
    await op.getByText('请至少选择一项需求。').waitFor();
    const pick = op.locator('fieldset.bundle-needs');
    await pick.getByLabel(/康健街道第一团购群/).check();
    await pick.getByLabel(/康健街道第二团购群/).check();
    await op.getByRole('button', { name: '签名并发布' }).click();
    await op.getByText(/已签名发布/).waitFor();
    const mine = op.locator('article.bundle').filter({ hasText: '康健街道两个团购群' });
    await mine.getByTestId('bundle-stages').filter({ hasText: '共 2 项 · 待分配 1 · 已分配 1' }).waitFor();
    expect(await mine.getByTestId('bundle-status').textContent()).toBe('待资助');
    await op.screenshot({ path: join(shots, '18-bundle-new.png'), fullPage: true });

    // Anyone, without signing in: the bundle and its progress, no fund form, nothing private.
    const anon = await open(`${n.url}/#/bundles`);
    const pub = anon.locator(`article.bundle[data-bundle="${bundle}"]`);
    await pub.getByTestId('bundle-status').filter({ hasText: '已资助' }).waitFor();
    await anon.getByRole('button', { name: '切换语言' }).click();
    await anon.getByRole('heading', { level: 1, name: /Bundles/ }).waitFor();
    expect(await pub.getByTestId('bundle-status').textContent()).toBe('Funded');
    expect(await pub.getByTestId('bundle-stages').textContent()).toBe('2 in all · open 1 · allocated 1');
    await pub.getByRole('link', { name: 'Details' }).click();
    await anon.locator('article.need').nth(1).waitFor();
    expect(await anon.getByRole('heading', { name: 'Fund this bundle' }).count()).toBe(0);
    await anon.screenshot({ path: join(shots, '18-bundle-public.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
