import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signingKeyPairFromSeed } from '@shuniu/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeyFile } from '../../nodes/hub/src/files.js';
import { signJoinRequest } from '../../nodes/hub/src/join.js';
import type { OpenOptions } from '../../nodes/hub/src/node.js';
import { eventually, needBody, post, startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * Admission in the console (issue 12 point 8, spec/node.md §7.1): the
 * province's operator makes a join code on the network page, the Wuhan city
 * hub sends its signed request with it, and the operator approves it in the
 * console; the province then counts the city's need. Real nodes on loopback,
 * Debian's Chromium.
 */

requireChromium('test/e2e/admission.test.ts');

const shots = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const fast: OpenOptions = { overrides: { federation: { pullIntervalMs: 250, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 } } };
type Running = Awaited<ReturnType<typeof startNode>>;

describe.skipIf(!haveChromium)('admission requests in the console', () => {
  const running: Running[] = [];
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await launchBrowser(shots);
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    for (const n of running) await n.node.close().catch(() => {});
  });

  it("the province makes a join code, the city requests with it, the operator approves in the console and the city's need counts", async () => {
    const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, fast);
    running.push(province);
    const city = await startNode({ name: '武汉市枢纽', level: 'city', region: '420100', parent: province.url }, fast);
    running.push(city);
    const need = await post(
      `${city.url}/v1/needs`,
      needBody({ region: '420102', requester: { name: '武汉市金银潭医院', kind: 'hospital', region: '420102' } }),
      city.token,
    );
    expect(need.status).toBe(201);
    const needId = ((await need.json()) as { id: string }).id;

    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${province.url}/#token=${province.token}`);
    await page.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    await page.goto(`${province.url}/#/network`);
    await page.getByRole('heading', { level: 2, name: '接纳申请' }).waitFor();
    await page.getByText('没有待处理的申请。').waitFor();

    // A code bound to level city, made in the console and shown once.
    await page.selectOption('#join-level', 'city');
    await page.fill('#join-note', '武汉市');
    await page.getByRole('button', { name: '生成接纳码' }).click();
    const codeText = page.locator('.join-code-text');
    await codeText.waitFor();
    const code = ((await codeText.textContent()) ?? '').trim();
    expect(code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await page.locator('.join-code pre').textContent()).toContain(`--parent ${province.url} --code ${code}`);

    // The city's operator sends the request (what `shuniu join` sends), signed with the city's key.
    const keys = readKeyFile(city.dir);
    const inception = JSON.parse(city.node.store.log(city.node.hubId, -1, 1)[0]?.json ?? 'null');
    const sent = await post(
      `${province.url}/v1/join-requests`,
      signJoinRequest(
        code,
        { parent: province.node.hubId, child: city.node.hubId, level: 'city', region: '420100', name: '武汉市枢纽', url: city.url },
        inception,
        signingKeyPairFromSeed(keys.signing).secretKey,
      ),
    );
    expect(sent.status).toBe(201);
    const { id } = (await sent.json()) as { id: string };

    // The operator sees it (the list is read again as the page is opened) and approves it.
    await page.reload();
    const row = page.locator(`tr[data-join-request="${id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('武汉市枢纽');
    expect(await row.textContent()).toContain('市级');
    await page.screenshot({ path: join(shots, 'network-join-request.png'), fullPage: true });
    await row.getByRole('button', { name: '批准并签名接纳' }).click();
    await page.getByText(/已接纳 武汉市枢纽/).waitFor();
    await page.getByText('没有待处理的申请。').waitFor();

    // The province signed hub.admitted; the city's held need is released and counts. Read as the
    // province's operator: anonymous readers may get a snapshot up to limits.stateSnapshotMs old (spec/node.md §6).
    const asOperator = { headers: { authorization: `Bearer ${province.token}` } };
    const hubs = ((await (await fetch(`${province.url}/v1/state/hubs`, asOperator)).json()) as { hubs: { id: string; admitted: boolean; level?: string }[] })
      .hubs;
    expect(hubs.find((h) => h.id === city.node.hubId)).toMatchObject({ admitted: true, level: 'city' });
    await eventually(async () => (await fetch(`${province.url}/v1/records/${needId}`)).status === 200, 200);
    const needs = ((await (await fetch(`${province.url}/v1/state/needs`, asOperator)).json()) as { needs: { id: string }[] }).needs;
    expect(needs.map((n) => n.id)).toContain(needId);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 120_000);
});
