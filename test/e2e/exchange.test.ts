import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDataDir } from '../../nodes/hub/src/node.js';
import { eventually, needBody, post, reopen, startNode, tempDir } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * The console's 数据交换 page (issue 19 points 4, 1, 3): an operator downloads the bundle of what
 * another node lacks and uploads it there, downloads an HXL table, adds a webhook and reads its
 * delivery log. Real nodes on loopback (no link between them), Debian's Chromium.
 */

requireChromium('test/e2e/exchange.test.ts');

const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const WAIT = 30_000;
type Running = Awaited<ReturnType<typeof startNode>>;

describe.skipIf(!haveChromium)('数据交换 page: bundles, exports and webhooks from the console', () => {
  const running: Running[] = [];
  let browser: Browser | undefined;
  let receiver: Server | undefined;
  const received: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(shots);
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => {
        body += b.toString('utf8');
      });
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    for (const n of running) await n.node.close().catch(() => {});
    receiver?.close();
  });

  async function open(url: string): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 1000 }, locale: 'zh-CN', acceptDownloads: true });
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
    await page.goto(url);
    await page.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    return page;
  }

  it('carries a bundle from one console to another, downloads HXL, and logs a webhook delivery', async () => {
    const a = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
    running.push(a);
    const { dir } = tempDir();
    await initDataDir({ dir, name: '黄州区枢纽', level: 'county', region: '421102', port: 0, roots: [a.node.hubId] });
    const b = await reopen(dir);
    running.push(b);
    expect((await post(`${a.url}/v1/admissions`, { child: b.node.hubId, level: 'county', region: '421102' }, a.token)).status).toBe(201);
    const need = ((await (await post(`${a.url}/v1/needs`, needBody({ quantity: 9 }), a.token)).json()) as { id: string }).id;

    // A's console: the bundle of everything (B's heads are not needed for a first trip).
    const pa = await open(`${a.url}/#token=${a.token}`);
    await pa.goto(`${a.url}/#/exchange`);
    const [bundle] = await Promise.all([pa.waitForEvent('download'), pa.locator('[data-action="bundle"]').click()]);
    const file = await bundle.path();
    expect(bundle.suggestedFilename()).toMatch(/^shuniu-.*\.bundle\.gz$/);
    expect(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8').split('\n')[0] as string)).toMatchObject({ format: 'shuniu-bundle', hub: a.node.hubId });
    // An HXL table from the same page.
    const [hxl] = await Promise.all([pa.waitForEvent('download'), pa.locator('[data-export="hxl-needs"]').click()]);
    const csv = readFileSync(await hxl.path(), 'utf8').split('\r\n');
    expect(csv[1]).toMatch(/^#meta\+id,#org\+name/);
    expect(csv.join('\n')).toContain(need);

    // B's console: upload it; B then holds A's need.
    const pb = await open(`${b.url}/#token=${b.token}`);
    await pb.goto(`${b.url}/#/exchange`);
    await pb.locator('[data-input="bundle"]').setInputFiles(file);
    await pb.locator('[data-result="import"]').waitFor();
    expect(await pb.locator('[data-result="import"]').textContent()).toContain('拒绝 0');
    expect(b.node.store.hasRecord(need)).toBe(true);
    expect(a.node.store.peers()).toEqual([]);

    // A webhook added in A's console; a critical need in A's province reaches the receiver and the log.
    const port = ((receiver as Server).address() as AddressInfo).port;
    const form = pa.locator('form[data-form="webhook"]');
    await form.locator('input[type="url"]').fill(`http://127.0.0.1:${port}/robot?key=k`);
    await form.locator('button[type="submit"]').click();
    await pa.locator('[data-list="webhooks"] li').first().waitFor();
    expect((await post(`${a.url}/v1/needs`, needBody({ quantity: 5, urgency: 'critical' }), a.token)).status).toBe(201);
    await eventually(() => received.some((r) => r.includes('紧急需求')));
    await pa.locator('[data-table="webhook-log"] tr[data-state="delivered"]').first().waitFor();
    await pa.screenshot({ path: `${shots}exchange.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
