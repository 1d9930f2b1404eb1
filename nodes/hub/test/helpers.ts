import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Author, type BodyOf, createHub, type HubLevel, type NewHub, ready, type SignedRecord } from '@shuniu/protocol';
import { HubNode, initDataDir, type OpenOptions } from '../src/node.js';

export const T0 = Date.parse('2020-01-24T08:00:00Z');

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'shuniu-hub-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Inits a data dir and starts a node on a free loopback port. */
export async function startNode(
  o: { name: string; level: HubLevel; region: string; parent?: string; follow?: string[]; dir?: string },
  opts: OpenOptions = {},
): Promise<{ node: HubNode; url: string; dir: string; token: string }> {
  const dir = o.dir ?? tempDir().dir;
  await initDataDir({
    dir,
    name: o.name,
    level: o.level,
    region: o.region,
    port: 0,
    ...(o.parent ? { parent: o.parent } : {}),
    ...(o.follow ? { follow: o.follow } : {}),
  });
  return reopen(dir, opts);
}

export async function reopen(dir: string, opts: OpenOptions = {}, port = 0): Promise<{ node: HubNode; url: string; dir: string; token: string }> {
  const node = await HubNode.open(dir, { log: () => {}, threads: 1, ...opts, overrides: { port: 0, federation: { pullIntervalMs: 0 }, ...opts.overrides } });
  const url = await node.listen(port);
  const token = await node.auth.issue('operator', 3600);
  return { node, url, dir, token };
}

/** A hub that is not a node: signs records for tests. */
export class TestHub {
  readonly hub: NewHub;
  readonly author: Author;
  readonly records: SignedRecord[] = [];
  private t: number;
  constructor(start = Date.now() - 60_000) {
    this.t = start;
    this.hub = createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: this.t, c: 0 } });
    this.author = Author.fromNewHub(this.hub, () => ++this.t);
    this.records.push(this.hub.inception);
  }
  static async make(): Promise<TestHub> {
    await ready();
    return new TestHub();
  }
  get id(): string {
    return this.hub.id;
  }
  sign<T extends Parameters<Author['sign']>[0]>(type: T, body: BodyOf<T>): SignedRecord {
    const { record } = this.author.sign(type, body);
    this.records.push(record);
    return record;
  }
}

export function needBody(over: Partial<BodyOf<'need.posted'>> = {}): BodyOf<'need.posted'> {
  return {
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    quantity: 200,
    unit: { name: 'box', base: 'piece', size: 50 },
    urgency: 'critical',
    neededBy: '2020-01-30T00:00:00Z',
    region: '420902',
    beneficiaries: { group: 'medical_staff', count: 300 },
    requester: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
    ...over,
  };
}

export async function post(url: string, body: unknown, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Polls `check` until it returns true, at most `tries` times. */
export async function eventually(check: () => Promise<boolean> | boolean, tries = 100, everyMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error('condition not reached');
}
