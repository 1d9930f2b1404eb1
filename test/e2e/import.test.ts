import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKEN, ROWS, writeNeedsSheet } from '../../nodes/hub/test/fixtures/needs-sheet.js';
import { startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * The console's spreadsheet import (issue 18 point 4) in Chromium: the
 * operator uploads the 210-row sheet, sees every row's problem in the
 * preview before anything is signed, posts the good rows, and the needs are
 * in the node's state with their contacts sealed.
 */

requireChromium('test/e2e/import.test.ts');

describe.skipIf(!haveChromium)('console: import needs from a spreadsheet', () => {
  let browser: Browser | undefined;
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'shuniu-import-e2e-'));
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url)));
    node = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
  }, 240_000);
  afterAll(async () => {
    await browser?.close().catch(() => {});
    await node?.node.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('previews every row and its problem, then posts the good rows', async () => {
    const n = node as NonNullable<typeof node>;
    const file = join(dir, '需求汇总.xlsx');
    await writeNeedsSheet(file, Date.now());
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${n.url}/#token=${n.token}`);
    await page.locator('article.need, main h1').first().waitFor();
    await page.goto(`${n.url}/#/import`);
    await page.locator('#imp-file').setInputFiles(file);
    await page.locator('#imp-summary', { hasText: `${ROWS} rows: ${ROWS - 7} ok, 7 with errors` }).waitFor();
    // Nothing is posted yet: the preview shows every problem first.
    const state = async () =>
      ((await (await fetch(`${n.url}/v1/state/needs?limit=5000`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as { needs: unknown[] }).needs;
    expect(await state()).toHaveLength(0);
    expect(await page.locator('#imp-preview tr[data-status="error"]').count()).toBe(7);
    for (const [row, why] of Object.entries(BROKEN)) expect(await page.locator(`#imp-preview tr[data-row="${row}"]`).textContent()).toContain(why);
    // A good row: the catalogue's item, the pack in base units, the place by name and code.
    const row2 = await page.locator('#imp-preview tr[data-row="2"]').textContent();
    expect(row2).toContain('PPE.GLOVE');
    expect(row2).toContain('42 盒 = 4200 双');
    expect(row2).toContain('洪山区 420111');

    await page.locator('#imp-post').click();
    await page.locator('#imp-posted', { hasText: `已发布 ${ROWS - 7} / ${ROWS - 7} 条` }).waitFor();
    expect(await page.locator('#imp-preview tr[data-status="posted"]').count()).toBe(ROWS - 7);
    const needs = await state();
    expect(needs).toHaveLength(ROWS - 7);
    expect(JSON.stringify(needs)).not.toContain('13800000002');
    expect(errors).toEqual([]);
  }, 240_000);
});
