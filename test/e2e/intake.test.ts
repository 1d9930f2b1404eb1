import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, post, startNode } from '../../nodes/hub/test/helpers.js';
import { haveChromium, launchBrowser, requireChromium } from './browser.js';

/**
 * Intake from groups that run no node (issue 18 point 3), end to end in
 * Debian's Chromium against a real node on loopback: a hospital submits a
 * need with its contact through the public form (no sign-in) and gets a
 * tracking link; the operator sees it in the verification queue with the
 * contact, verifies it, fills in the item code and publishes it (signed,
 * contact sealed); the tracking page follows it to "allocated". The public
 * map, the tracking page and every public route never show the contact's
 * name, phone or address. Screenshots go to test/e2e/screenshots/.
 */

requireChromium('test/e2e/intake.test.ts');

const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const WAIT = 30_000;

const CONTACT = '周护士长';
const PHONE = '13971234567';
const ADDRESS = '孝南区城站路 66 号住院部';
const HOSPITAL = '孝感市第一人民医院';
const PRIVATE = [CONTACT, PHONE, ADDRESS];

type Running = Awaited<ReturnType<typeof startNode>>;

describe.skipIf(!haveChromium)('intake: a group without a node submits, the operator verifies and publishes, the submitter tracks', () => {
  let browser: Browser | undefined;
  let node: Running | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser(shots);
    node = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await node?.node.close().catch(() => {});
  });

  async function open(url: string): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
    await page.goto(url);
    return page;
  }

  const showsNothingPrivate = (text: string, where: string) => {
    for (const s of PRIVATE) expect(text, where).not.toContain(s);
  };

  it('submit, verify, publish, track; nothing private on the public map, the tracking page or any public route', async () => {
    const n = node as Running;

    // 1. The hospital, not signed in, fills in the public form.
    const form = await open(`${n.url}/#/intake`);
    await form.getByRole('heading', { level: 1, name: '提交需求（无需登录）' }).waitFor();
    expect(await form.getByRole('button', { name: '退出登录' }).count()).toBe(0);
    await form.fill('#f-item-name', '医用防护服');
    await form.fill('#f-quantity', '500');
    await form.fill('#f-unit-name', '件');
    await form.selectOption('#f-urgency', 'critical');
    await form.selectOption('#f-region', '420902');
    await form.selectOption('#f-beneficiaries-group', 'medical_staff');
    await form.fill('#f-beneficiaries-count', '260');
    await form.fill('#f-requester-name', HOSPITAL);
    // The contact is required: submitting without it names the field.
    await form.getByRole('button', { name: '提交', exact: true }).click();
    await form.locator('#f-private-contact-phone[aria-invalid="true"]').waitFor();
    await form.fill('#f-private-contact-name', CONTACT);
    await form.fill('#f-private-contact-phone', PHONE);
    await form.fill('#f-private-address', ADDRESS);
    await form.getByRole('button', { name: '提交', exact: true }).click();
    const link = form.locator('a.track-link');
    await link.waitFor();
    const track = (await link.getAttribute('href')) as string;
    expect(track).toMatch(new RegExp(`^${n.url}/#/track\\?t=[A-Za-z0-9_-]{22}$`));
    const token = track.split('t=')[1] as string;
    await form.screenshot({ path: join(shots, '18-intake-submitted.png') });

    // 2. The submitter's tracking page: submitted, and nothing private.
    const tp = await open(track);
    await tp.locator('li[data-stage="submitted"][aria-current="step"]').waitFor();
    showsNothingPrivate(await tp.content(), 'tracking page (submitted)');

    // 3. The operator's queue: the contact to call back; verify, fill in the item code, publish.
    const op = await open(`${n.url}/#token=${n.token}`);
    await op.getByRole('button', { name: '退出登录', exact: true }).waitFor();
    await op.getByRole('link', { name: '待核实' }).click();
    await op.getByRole('heading', { level: 1, name: '待核实的需求' }).waitFor();
    const card = op.locator('article.intake', { hasText: HOSPITAL });
    await card.waitFor();
    expect(await card.textContent()).toContain(PHONE);
    await card.getByRole('button', { name: '已回电核实' }).click();
    await card.getByText('已核实').first().waitFor();
    await tp.reload();
    await tp.locator('li[data-stage="verified"][aria-current="step"]').waitFor();
    await card.getByLabel('物资编码').fill('PPE.COVERALL');
    await op.screenshot({ path: join(shots, '18-intake-queue.png') });
    await card.getByRole('button', { name: '签名并发布' }).click();
    await card.getByText(/已发布为需求/).waitFor();

    // The need is signed by this hub with its contact sealed; the queue's row no longer holds the contact.
    const row = n.node.store.intakeList([], 10)[0];
    expect(row?.state).toBe('published');
    expect(row?.private).toBeNull();
    const needId = row?.record as string;
    const opened = (await (await fetch(`${n.url}/v1/records/${needId}/private`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as {
      private: unknown;
    };
    expect(opened.private).toEqual({ contact: { name: CONTACT, phone: PHONE }, address: ADDRESS });

    // 4. The tracking page shows it published, then allocated once an offer is allocated to it.
    await tp.reload();
    await tp.locator('li[data-stage="open"][aria-current="step"]').waitFor();
    const offer = await post(
      `${n.url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'PPE.COVERALL', name: '医用防护服' },
        quantity: 500,
        unit: { name: '件', base: '件', size: 1 },
        valueFen: 0,
        donor: { name: '湖北省慈善总会', kind: 'foundation' },
        intent: {},
        region: '420100',
      },
      n.token,
    );
    expect(offer.status).toBe(201);
    const offerId = ((await offer.json()) as { id: string }).id;
    expect((await post(`${n.url}/v1/allocations`, { offer: offerId, need: needId, quantity: 500 }, n.token)).status).toBe(201);
    // The live feed moves the open tracking page on by itself.
    await tp.locator('li[data-stage="allocated"][aria-current="step"]').waitFor();
    await tp.getByText(/已分配 500/).waitFor();
    await tp.screenshot({ path: join(shots, '18-intake-track.png') });
    showsNothingPrivate(await tp.content(), 'tracking page (allocated)');
    // In English too.
    await tp.getByRole('button', { name: '切换语言' }).click();
    await tp.getByRole('heading', { level: 1, name: 'Need progress' }).waitFor();
    expect(await tp.locator('li[aria-current="step"]').textContent()).toBe('Offer allocated');
    showsNothingPrivate(await tp.content(), 'tracking page (en)');

    // 5. The public map (no sign-in) shows the need and nothing private.
    const pub = await open(`${n.url}/#/public`);
    await pub.locator('article.need', { hasText: HOSPITAL }).waitFor();
    showsNothingPrivate(await pub.content(), 'public map');

    // 6. Every public route: the need is there, its contact is not.
    for (const path of [
      `/v1/intake/track/${token}`,
      '/v1/feed?limit=5000',
      `/v1/records/${needId}`,
      `/v1/hubs/${n.node.hubId}/log`,
      '/v1/state/needs',
      '/v1/state/allocations',
      '/v1/status',
    ]) {
      const res = await fetch(`${n.url}${path}`);
      expect(res.status, path).toBe(200);
      showsNothingPrivate(await res.text(), path);
    }
    await eventually(async () => (await (await fetch(`${n.url}/v1/state/needs`)).text()).includes(HOSPITAL));
    expect((await fetch(`${n.url}/v1/intake`)).status).toBe(401);
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
