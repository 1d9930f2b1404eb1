import { fileURLToPath } from 'node:url';
import { formatTimestamp } from '@shuniu/protocol';
import jsQRModule from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../../nodes/hub/src/node.js';
import { eventually, post, startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * 送货单 (issue 19 point 5): the sending hub's console prints a delivery note for a handoff with a QR
 * code; decoded (jsQR, from the canvas's pixels) it is the receiving hub's receipt page for that
 * shipment, which opens there on the receipt form for it. Real nodes on loopback, Debian's Chromium.
 */

requireChromium('test/e2e/delivery-note.test.ts');

/** jsqr's default export, however the CommonJS module is imported. */
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;
const CANVAS = 'article.delivery-note canvas';

const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const WAIT = 30_000;
const fast: OpenOptions = { overrides: { federation: { pullIntervalMs: 250, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 } } };

type Running = Awaited<ReturnType<typeof startNode>>;

describe.skipIf(!haveChromium)('delivery note: printable, its QR code leads to the receiving hub’s receipt form', () => {
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

  async function open(url: string): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1100, height: 1400 }, locale: 'zh-CN', deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
    await page.goto(url);
    return page;
  }

  it('renders the note and a QR code that decodes to the receiver’s receipt page for the shipment', async () => {
    const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, fast);
    running.push(province);
    const county = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902', parent: province.url }, fast);
    running.push(county);
    expect(
      (await post(`${province.url}/v1/admissions`, { child: county.node.hubId, level: 'county', region: '420902', url: county.url }, province.token)).status,
    ).toBe(201);
    const res = await post(
      `${province.url}/v1/handoffs`,
      {
        shipment: 'HB-2020-0042',
        from: province.node.hubId,
        to: county.node.hubId,
        lines: [{ item: { code: 'PPE.MASK.N95', name: 'N95 口罩' }, quantity: 40, unit: { name: 'carton', base: 'piece', size: 500 }, lot: 'L-7' }],
        carrier: { name: '顺丰速运', kind: 'third_party' },
        waybill: 'SF1234567890',
        expectedArrival: formatTimestamp(Math.floor(Date.now() / 1000) * 1000 + 86_400_000),
        allocations: [],
      },
      province.token,
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const shipment = ((await res.json()) as { id: string }).id;

    const p = await open(`${province.url}/#token=${province.token}`);
    await p.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    await p.goto(`${province.url}/#/delivery-note?shipment=${shipment}`);
    const note = p.locator(`article.delivery-note[data-shipment="${shipment}"]`);
    await note.waitFor();
    await expect.poll(() => note.locator('[data-field="shipment"]').textContent()).toBe('HB-2020-0042');
    await note.getByText('顺丰速运').waitFor();
    await note.getByText('SF1234567890').waitFor();
    await note.getByRole('cell', { name: 'L-7' }).waitFor();
    const expected = `${county.url}/#/custody?receive=${shipment}`;
    await expect.poll(() => note.locator('canvas').getAttribute('data-qr')).toBe(expected);
    // The QR code's pixels, read back from the canvas and decoded in Node.
    await expect.poll(() => p.evaluate<number>(`document.querySelector(${JSON.stringify(CANVAS)}).width`)).toBeGreaterThan(50);
    // Evaluated as text: this file is compiled without the DOM's types.
    const img = await p.evaluate<{ w: number; h: number; data: number[] }>(`(() => {
      const c = document.querySelector(${JSON.stringify(CANVAS)});
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      return { w: d.width, h: d.height, data: Array.from(d.data) };
    })()`);
    const decoded = jsQR(Uint8ClampedArray.from(img.data), img.w, img.h);
    expect(decoded?.data).toBe(expected);
    // Printed, only the note is on the paper: the console's header and navigation are hidden.
    await p.emulateMedia({ media: 'print' });
    expect(await p.locator('nav.nav').isVisible()).toBe(false);
    expect(await note.locator('canvas').isVisible()).toBe(true);
    await p.screenshot({ path: `${shots}delivery-note.png`, fullPage: true });
    const pdf = await p.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

    // Scanned at the county: its console opens on the receipt form for this shipment.
    await eventually(() => county.node.store.hasRecord(shipment), 200, 100);
    const c = await open(`${decoded?.data}&token=${county.token}`);
    const form = c.locator('#receipt-form');
    await form.waitFor();
    await expect.poll(() => form.locator('#f-handoff').inputValue()).toBe(shipment);
    await form.locator('button[type="submit"]').click();
    await form.getByText(/已签名发布/).waitFor();
    await eventually(async () => {
      const sh = (await (await fetch(`${province.url}/v1/state/shipments`, { headers: { authorization: `Bearer ${province.token}` } })).json()) as {
        shipments: { id: string; status: string }[];
      };
      return sh.shipments.find((x) => x.id === shipment)?.status === 'received';
    });
    expect(pageErrors).toEqual([]);
  });
});
