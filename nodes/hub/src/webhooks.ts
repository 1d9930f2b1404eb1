import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { regionCode, ShuniuError } from '@shuniu/protocol';
import type { HubState, NeedState, OfferState, ShipmentState } from '@shuniu/resolve';
import { z } from 'zod';
import { writePrivateFile } from './files.js';
import type { Ingestor } from './ingest.js';
import type { MatchService } from './match-service.js';
import { regionName } from './regions.js';
import type { Store } from './store/types.js';

/**
 * Outbound webhooks for operator events (spec/node.md §15): a critical need
 * in the hub's region, a matching proposal for one of its offers, a shipment
 * of its overdue, a receipt with rejections for a shipment of its. Payloads in
 * the shapes of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) group robots,
 * or plain JSON signed with HMAC-SHA256 (Standard Webhooks headers). Built
 * from the resolved state and public record members only: never a sealed
 * part, note or unnamed donor. Retried with exponential backoff; the last
 * deliveries are kept in a log for the console.
 */

export const WEBHOOK_EVENTS = ['need.critical', 'proposal', 'shipment.overdue', 'receipt.rejections'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export const WEBHOOK_FORMATS = ['wecom', 'dingtalk', 'feishu', 'json'] as const;

/** Limits (spec/node.md §15). */
export const WEBHOOK_LIMITS = {
  hooks: 20,
  queue: 1000,
  log: 500,
  timeoutMs: 5000,
  maxAttempts: 10,
  minBackoffMs: 100,
  maxBackoffMs: 3_600_000,
  responseBytes: 4096,
};

export const WEBHOOKS_FILE = 'webhooks.json';

export const webhookInput = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  format: z.enum(WEBHOOK_FORMATS),
  /** HMAC key: required for `json`; DingTalk's and Feishu's signing secret when the robot has one. */
  secret: z.string().min(16).max(200).optional(),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
  /** need.critical: the region the needs must be in (default: the hub's own, at its level). */
  region: regionCode.optional(),
  name: z.string().min(1).max(100).optional(),
  /** Attempts per delivery (default 5) and the first retry's delay, doubled each time (default 1 s, capped at 1 h). */
  attempts: z.int().min(1).max(WEBHOOK_LIMITS.maxAttempts).optional(),
  backoffMs: z.int().min(WEBHOOK_LIMITS.minBackoffMs).max(WEBHOOK_LIMITS.maxBackoffMs).optional(),
});
export type WebhookInput = z.infer<typeof webhookInput>;
export type Webhook = WebhookInput & { id: string; created: string };

/** One message to send: an event and what it says (public members only). */
export interface WebhookMessage {
  event: WebhookEvent;
  /** Stable per occurrence: the same occurrence is never queued twice. */
  key: string;
  title: string;
  lines: string[];
  data: Record<string, unknown>;
}

export interface DeliveryLog {
  id: string;
  hook: string;
  event: WebhookEvent;
  title: string;
  attempts: number;
  state: 'pending' | 'delivered' | 'failed';
  status?: number;
  error?: string;
  at: string;
  nextAt?: string;
}

export interface WebhooksDeps {
  dir: string;
  hubId: string;
  level: string;
  region: string;
  store: Store;
  ingestor: Ingestor;
  match?: () => MatchService | undefined;
  log?: (m: string) => void;
  now?: () => number;
  fetch?: typeof fetch;
}

/** The GB/T 2260 prefix of a hub's area at its level: province 2 digits, city 4, county 6 (national: all). */
export function areaPrefix(level: string, region: string): string {
  if (level === 'national') return '';
  if (level === 'province') return region.slice(0, 2);
  if (level === 'city') return region.slice(0, 4);
  return region;
}

const TEXT_MAX = 3500;

/** The request for one message in one format (URL, headers, body). */
export function webhookRequest(
  hook: Webhook,
  m: WebhookMessage,
  delivery: string,
  nowMs: number,
): { url: string; headers: Record<string, string>; body: string } {
  const text = `${m.title}\n${m.lines.join('\n')}`.slice(0, TEXT_MAX);
  const markdown = `### ${m.title}\n${m.lines.map((l) => `> ${l}`).join('\n')}`.slice(0, TEXT_MAX);
  const json = { 'content-type': 'application/json' };
  switch (hook.format) {
    case 'wecom':
      return { url: hook.url, headers: json, body: JSON.stringify({ msgtype: 'markdown', markdown: { content: markdown } }) };
    case 'dingtalk': {
      let url = hook.url;
      if (hook.secret) {
        // DingTalk: sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), timestamp in ms, both as query parameters.
        const sign = createHmac('sha256', hook.secret).update(`${nowMs}\n${hook.secret}`).digest('base64');
        url += `${url.includes('?') ? '&' : '?'}timestamp=${nowMs}&sign=${encodeURIComponent(sign)}`;
      }
      return { url, headers: json, body: JSON.stringify({ msgtype: 'markdown', markdown: { title: m.title, text: markdown } }) };
    }
    case 'feishu': {
      const ts = String(Math.floor(nowMs / 1000));
      // Feishu: sign = base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = "")), timestamp in seconds, in the body.
      const signed = hook.secret ? { timestamp: ts, sign: createHmac('sha256', `${ts}\n${hook.secret}`).update('').digest('base64') } : {};
      return { url: hook.url, headers: json, body: JSON.stringify({ ...signed, msg_type: 'text', content: { text } }) };
    }
    case 'json': {
      const ts = String(Math.floor(nowMs / 1000));
      const body = JSON.stringify({ id: delivery, event: m.event, title: m.title, text, data: m.data, at: new Date(nowMs).toISOString() });
      // Standard Webhooks: v1,base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body)).
      const sig = createHmac('sha256', hook.secret ?? '')
        .update(`${delivery}.${ts}.${body}`)
        .digest('base64');
      return {
        url: hook.url,
        headers: { ...json, 'webhook-id': delivery, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}`, 'shuniu-event': m.event },
        body,
      };
    }
  }
}

/** Whether a robot's answer says it took the message (HTTP 2xx and, for the group robots, errcode/code 0). */
function accepted(format: Webhook['format'], status: number, text: string): boolean {
  if (status < 200 || status >= 300) return false;
  if (format === 'json') return true;
  try {
    const r = JSON.parse(text) as { errcode?: number; code?: number; StatusCode?: number };
    const code = r.errcode ?? r.code ?? r.StatusCode;
    return code === undefined || code === 0;
  } catch {
    return true;
  }
}

interface Pending {
  delivery: string;
  hook: Webhook;
  message: WebhookMessage;
  attempt: number;
  log: DeliveryLog;
}

export class Webhooks {
  private hooks: Webhook[] = [];
  private readonly logRows: DeliveryLog[] = [];
  private readonly queue: Pending[] = [];
  private readonly seen = new Set<string>();
  private lastOrd: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retryTimers = new Set<ReturnType<typeof setTimeout>>();
  private evaluating: Promise<void> | undefined;
  private again = false;
  private sending = 0;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly deps: WebhooksDeps) {
    this.now = deps.now ?? (() => Date.now());
    this.fetch = deps.fetch ?? ((...a) => fetch(...a));
    this.lastOrd = deps.store.maxOrd();
    const file = join(deps.dir, WEBHOOKS_FILE);
    if (existsSync(file)) {
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as { hooks?: Webhook[] };
        this.hooks = (raw.hooks ?? []).filter((h) => webhookInput.safeParse(strip(h)).success);
      } catch (e) {
        deps.log?.(`webhooks: ${file} unreadable, no webhooks: ${(e as Error).message}`);
      }
    }
  }

  /** Watches commits: each one schedules an evaluation (at most one running, one more queued). */
  start(): void {
    this.unsubscribe ??= this.deps.ingestor.onCommit(() => this.schedule());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.retryTimers) clearTimeout(t);
    await this.evaluating;
  }

  /** The webhooks, secrets left out. */
  list(): (Omit<Webhook, 'secret'> & { signed: boolean })[] {
    return this.hooks.map(({ secret, ...h }) => ({ ...h, signed: secret !== undefined }));
  }

  log(): DeliveryLog[] {
    return [...this.logRows].reverse();
  }

  add(input: unknown): Omit<Webhook, 'secret'> & { signed: boolean } {
    const r = webhookInput.safeParse(input);
    if (!r.success) {
      const issues = r.error.issues.map((i) => ({ code: i.code, path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
      throw new ShuniuError('E_SCHEMA', `${issues[0]?.path.join('.') ?? ''}: ${issues[0]?.message ?? 'invalid webhook'}`, { issues });
    }
    if (r.data.format === 'json' && !r.data.secret) throw new ShuniuError('E_SCHEMA', 'secret: a json webhook is signed: give a secret of 16+ characters');
    if (this.hooks.length >= WEBHOOK_LIMITS.hooks) throw new ShuniuError('E_TOO_LARGE', `at most ${WEBHOOK_LIMITS.hooks} webhooks`);
    const hook: Webhook = { ...r.data, id: randomUUID(), created: new Date(this.now()).toISOString() };
    this.hooks.push(hook);
    this.save();
    const { secret: _s, ...shown } = hook;
    return { ...shown, signed: hook.secret !== undefined };
  }

  remove(id: string): void {
    const before = this.hooks.length;
    this.hooks = this.hooks.filter((h) => h.id !== id);
    if (this.hooks.length === before) throw new ShuniuError('E_NOT_FOUND', `no webhook ${id}`);
    this.save();
  }

  /** Sends a test message to one webhook now (through the queue, with its retries). */
  test(id: string): DeliveryLog {
    const hook = this.hooks.find((h) => h.id === id);
    if (!hook) throw new ShuniuError('E_NOT_FOUND', `no webhook ${id}`);
    const m: WebhookMessage = {
      event: hook.events[0] as WebhookEvent,
      key: `test:${randomUUID()}`,
      title: '【枢纽】测试消息 Test message',
      lines: [`来自枢纽 ${this.hubName(this.deps.hubId)}`],
      data: { test: true, hub: this.deps.hubId },
    };
    return this.enqueue(hook, m);
  }

  private save(): void {
    // The secrets are in it: a private file (0600) like every file of the data directory.
    writePrivateFile(join(this.deps.dir, WEBHOOKS_FILE), `${JSON.stringify({ hooks: this.hooks }, null, 2)}\n`);
  }

  private schedule(): void {
    if (this.stopped || this.hooks.length === 0) {
      if (this.hooks.length === 0) this.lastOrd = this.deps.store.maxOrd();
      return;
    }
    if (this.evaluating) {
      this.again = true;
      return;
    }
    this.evaluating = this.evaluate()
      .catch((e: unknown) => this.deps.log?.(`webhooks: ${(e as Error)?.message ?? String(e)}`))
      .finally(() => {
        this.evaluating = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.schedule();
        }
      });
  }

  /** Looks at what the commits since the last look brought, and at the state, for the events the webhooks want. */
  async evaluate(): Promise<void> {
    const want = new Set(this.hooks.flatMap((h) => h.events));
    const messages: WebhookMessage[] = [];
    const engine = this.deps.ingestor.engine;
    const me = this.deps.hubId;
    let needs: Map<string, NeedState> | undefined;
    let shipments: Map<string, ShipmentState> | undefined;
    const needOf = (id: string) => {
      needs ??= new Map(((engine.collection('needs') ?? []) as NeedState[]).map((n) => [n.id, n]));
      return needs.get(id);
    };
    const shipmentOf = (handoff: string) => {
      shipments ??= new Map(((engine.collection('shipments') ?? []) as ShipmentState[]).flatMap((x) => x.versions.map((v) => [v, x] as const)));
      return shipments.get(handoff);
    };
    // New records, in ingest order, bounded per pass (the rest on the next).
    for (let pass = 0; pass < 20; pass++) {
      const rows = this.deps.store.since(this.lastOrd, 500);
      if (rows.length === 0) break;
      this.lastOrd = (rows[rows.length - 1] as { ord: number }).ord;
      for (const r of rows) {
        if (r.type === 'need.posted' && want.has('need.critical')) {
          const body = (JSON.parse(r.json) as { body: { urgency: string } }).body;
          if (body.urgency !== 'critical') continue;
          const n = needOf(r.id);
          if (n) messages.push(this.criticalNeed(n));
        } else if (r.type === 'custody.receipt' && want.has('receipt.rejections')) {
          const rec = JSON.parse(r.json) as { body: { handoff: string; lines: { line: number; rejected: number; rejectReason?: string }[] } };
          if (!rec.body.lines.some((l) => l.rejected > 0)) continue;
          const sh = shipmentOf(rec.body.handoff);
          if (sh && (sh.from === me || sh.to === me)) messages.push(this.rejections(r.id, sh, rec.body.lines));
        }
      }
    }
    if (want.has('shipment.overdue'))
      for (const sh of (engine.collection('shipments') ?? []) as ShipmentState[])
        if (sh.status === 'overdue' && (sh.from === me || sh.to === me)) messages.push(this.overdue(sh));
    if (want.has('proposal')) messages.push(...(await this.proposals()));
    for (const m of messages) {
      if (this.seen.has(m.key)) continue;
      this.seen.add(m.key);
      for (const h of this.hooks) if (h.events.includes(m.event) && this.inRegion(h, m)) this.enqueue(h, m);
    }
    if (this.seen.size > 100_000) this.seen.clear();
  }

  private inRegion(h: Webhook, m: WebhookMessage): boolean {
    if (m.event !== 'need.critical') return true;
    const prefix = h.region
      ? areaPrefix(h.region.endsWith('0000') ? 'province' : h.region.endsWith('00') ? 'city' : 'county', h.region)
      : areaPrefix(this.deps.level, this.deps.region);
    return String(m.data.region ?? '').startsWith(prefix);
  }

  private hubName(id: string): string {
    const h = (this.deps.ingestor.engine.collection('hubs') as HubState[] | undefined)?.find((x) => x.id === id);
    return h?.profile?.name.zh ?? id.slice(0, 8);
  }

  private criticalNeed(n: NeedState): WebhookMessage {
    return {
      event: 'need.critical',
      key: `need.critical:${n.id}`,
      title: `【紧急需求】${regionName(n.region)} ${n.item.name}`,
      lines: [
        `${n.requester.name} 需要 ${n.item.name} ${n.quantity} ${n.unit.base}（${n.beneficiaries.count} 人）`,
        `需要日期 ${n.neededBy.slice(0, 10)} · 发布枢纽 ${this.hubName(n.hub)}`,
        `需求编号 ${n.id}`,
      ],
      data: {
        need: n.id,
        hub: n.hub,
        region: n.region,
        item: n.item,
        quantity: n.quantity,
        unit: n.unit.base,
        urgency: n.urgency,
        neededBy: n.neededBy,
        requester: { name: n.requester.name, kind: n.requester.kind },
        beneficiaries: n.beneficiaries,
      },
    };
  }

  private rejections(receipt: string, sh: ShipmentState, lines: { line: number; rejected: number; rejectReason?: string }[]): WebhookMessage {
    const bad = lines.filter((l) => l.rejected > 0);
    return {
      event: 'receipt.rejections',
      key: `receipt.rejections:${receipt}`,
      title: `【签收有拒收】运单 ${sh.shipment}`,
      lines: [
        `${this.hubName(sh.to)} 签收 ${this.hubName(sh.from)} 的运单 ${sh.shipment}`,
        ...bad.map((l) => `第 ${l.line + 1} 行 ${sh.lines[l.line]?.item.name ?? ''}：拒收 ${l.rejected}（${l.rejectReason ?? 'other'}）`),
        `签收记录 ${receipt}`,
      ],
      data: {
        receipt,
        shipment: sh.id,
        reference: sh.shipment,
        from: sh.from,
        to: sh.to,
        rejected: bad.map((l) => ({ line: l.line, item: sh.lines[l.line]?.item, rejected: l.rejected, reason: l.rejectReason ?? 'other' })),
      },
    };
  }

  private overdue(sh: ShipmentState): WebhookMessage {
    return {
      event: 'shipment.overdue',
      key: `shipment.overdue:${sh.id}`,
      title: `【运单超时】${sh.shipment}`,
      lines: [
        `${this.hubName(sh.from)} → ${this.hubName(sh.to)}，预计 ${sh.expectedArrival.slice(0, 16).replace('T', ' ')} 到达，尚未签收`,
        `运单记录 ${sh.id}`,
      ],
      data: { shipment: sh.id, reference: sh.shipment, from: sh.from, to: sh.to, expectedArrival: sh.expectedArrival },
    };
  }

  /** Proposals of the matching engine for this hub's available offers (the plan of the current state version). */
  private async proposals(): Promise<WebhookMessage[]> {
    const svc = this.deps.match?.();
    if (!svc) return [];
    const offers = ((this.deps.ingestor.engine.collection('offers') ?? []) as OfferState[]).filter(
      (o) => o.hub === this.deps.hubId && o.status === 'available',
    );
    if (offers.length === 0) return [];
    let body: string;
    try {
      body = (await svc.page({ filters: { offers: offers.slice(0, 500).map((o) => o.id) }, fresh: true, offset: 0, limit: 100, maxBytes: 1 << 20 })).body;
    } catch (e) {
      this.deps.log?.(`webhooks: proposals: ${(e as Error)?.message ?? String(e)}`);
      return [];
    }
    const list = JSON.parse(body) as {
      offer: string;
      need: string;
      signer: string;
      requester: string;
      itemName: string;
      quantity: number;
      unit: string;
      urgency: string;
      region: string;
    }[];
    return list
      .filter((p) => p.signer === this.deps.hubId)
      .map((p) => ({
        event: 'proposal' as const,
        key: `proposal:${p.offer}:${p.need}`,
        title: `【对接建议】${p.itemName} → ${p.requester}`,
        lines: [
          `建议把资源 ${p.offer.slice(0, 8)} 的 ${p.quantity} ${p.unit} 分配给 ${regionName(p.region)} ${p.requester}（${p.urgency}）`,
          `在控制台“对接”页确认并签名`,
        ],
        data: {
          offer: p.offer,
          need: p.need,
          quantity: p.quantity,
          unit: p.unit,
          urgency: p.urgency,
          region: p.region,
          requester: p.requester,
          item: p.itemName,
        },
      }));
  }

  private enqueue(hook: Webhook, message: WebhookMessage): DeliveryLog {
    const delivery = `msg_${randomUUID()}`;
    const log: DeliveryLog = {
      id: delivery,
      hook: hook.id,
      event: message.event,
      title: message.title,
      attempts: 0,
      state: 'pending',
      at: new Date(this.now()).toISOString(),
    };
    this.logRows.push(log);
    if (this.logRows.length > WEBHOOK_LIMITS.log) this.logRows.splice(0, this.logRows.length - WEBHOOK_LIMITS.log);
    if (this.queue.length + this.sending >= WEBHOOK_LIMITS.queue) {
      log.state = 'failed';
      log.error = `queue full (${WEBHOOK_LIMITS.queue} deliveries waiting)`;
      return log;
    }
    const p: Pending = { delivery, hook, message, attempt: 0, log };
    void this.send(p);
    return log;
  }

  private async send(p: Pending): Promise<void> {
    if (this.stopped) return;
    this.sending++;
    p.attempt++;
    p.log.attempts = p.attempt;
    const req = webhookRequest(p.hook, p.message, p.delivery, this.now());
    let retry = true;
    try {
      const res = await this.fetch(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(WEBHOOK_LIMITS.timeoutMs),
      });
      const text = (await res.text()).slice(0, WEBHOOK_LIMITS.responseBytes);
      p.log.status = res.status;
      if (accepted(p.hook.format, res.status, text)) {
        p.log.state = 'delivered';
        delete p.log.error;
        delete p.log.nextAt;
        return;
      }
      p.log.error = `HTTP ${res.status} ${text.slice(0, 200)}`;
      // A refusal that a retry will not change (4xx other than 408 and 429) is not retried.
      retry = !(res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429);
    } catch (e) {
      p.log.error = (e as Error)?.message ?? String(e);
    } finally {
      this.sending--;
    }
    const attempts = p.hook.attempts ?? 5;
    if (!retry || p.attempt >= attempts || this.stopped) {
      p.log.state = 'failed';
      delete p.log.nextAt;
      return;
    }
    const wait = Math.min((p.hook.backoffMs ?? 1000) * 2 ** (p.attempt - 1), WEBHOOK_LIMITS.maxBackoffMs);
    p.log.nextAt = new Date(this.now() + wait).toISOString();
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      void this.send(p);
    }, wait);
    t.unref?.();
    this.retryTimers.add(t);
  }
}

/** A stored webhook without the members the input schema does not know (for re-validation on load). */
function strip(h: Webhook): WebhookInput {
  const { id: _i, created: _c, ...rest } = h;
  return rest;
}
