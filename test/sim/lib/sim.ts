// The deterministic network simulator (issue 15): N real hub nodes (real SQLite stores, real
// libsodium, real signatures, the real Federation and ingest code) in one process, reaching each
// other through `app.request` over a simulated network driven by one seeded PRNG and a virtual
// clock. Same seed → same run → same trace hash.
import { createHash, createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Author,
  assumeVerified,
  type BodyOf,
  createHub,
  ed25519Verify,
  formatTimestamp,
  type HubLevel,
  type HubSeeds,
  type NewHub,
  parseRecord,
  ready,
  recordId,
  type SignedRecord,
  signingKeyPairFromSeed,
  type Verified,
} from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { readKeyFile } from '../../../nodes/hub/src/files.js';
import { HubNode, initDataDir, type OpenOptions } from '../../../nodes/hub/src/node.js';
import type { Runtime, Transport } from '../../../nodes/hub/src/runtime.js';
import { Prng } from './prng.js';
import { Scheduler, type SimEvent } from './sched.js';

export interface SimOptions {
  seed: number;
  nodes: number;
  steps: number;
  /** Keep every trace line (for --trace and failure reports); the hash is computed either way. */
  keepTrace?: boolean;
  /** Where data directories go (default: /dev/shm when present, else the OS temp dir). */
  baseDir?: string;
  /** Network faults (probabilities per message) and chaos mix; defaults below. */
  faults?: Partial<Faults>;
  /**
   * The foundation follows the root by pulling only, as `init --follow` sets it up and the root
   * admits it without a URL (so the root pushes nothing to it). Off by default: such a follower
   * never receives fork proofs (pull fetches chains only, spec/node.md §9.3), the open finding
   * of test/sim/seeds/pull-only-follower.json.
   */
  pullOnlyFollower?: boolean;
  /**
   * A national-shaped network instead of the small tree: a national root, its provinces, their
   * cities (full nodes) and a few foundations; county hubs are signing hubs hosted by their city's
   * process (they push to it), not nodes of their own.
   */
  national?: { provinces: number; citiesPerProvince: number; countiesPerCity: number; foundations: number };
  /** federation.pullIntervalMs of every node (default 4 s of virtual time). */
  pullIntervalMs?: number;
}

export interface Faults {
  loss: number;
  dup: number;
  minDelayMs: number;
  maxDelayMs: number;
  crash: number;
  /** Chance that a node dies while a push to it is read and waits for its commit (a separate stream of chance). */
  midRequestCrash: number;
  partition: number;
  adversaries: boolean;
}

const DEFAULT_FAULTS: Faults = {
  loss: 0.03,
  dup: 0.03,
  minDelayMs: 1,
  maxDelayMs: 200,
  crash: 0.05,
  midRequestCrash: 0.01,
  partition: 0.06,
  adversaries: true,
};

export interface SimResult {
  seed: number;
  nodes: number;
  steps: number;
  traceHash: string;
  trace: string[];
  failures: string[];
  stats: {
    events: number;
    messages: number;
    lost: number;
    duplicated: number;
    crashes: number;
    partitions: number;
    acked: number;
    records: number;
    forkedHubs: number;
    /** Virtual seconds from the final heal to every node agreeing. */
    convergeS: number;
    maxPendingEvents: number;
    maxInFlight: number;
    feedEvents: number;
  };
}

/** Virtual start: 2026-01-24T08:00:00Z. */
export const SIM_T0 = Date.parse('2026-01-24T08:00:00Z');
const MAX_SKEW_MS = 10 * 60 * 1000;
const PULL_MS = 4000;

const NODE_OPTIONS = (runtime: Partial<Runtime>, pullIntervalMs: number): OpenOptions => ({
  threads: 0,
  log: () => {},
  runtime,
  overrides: {
    checkpointEvery: 0,
    limits: { ratePerSecond: 0, unstoredBytesPerSecond: 0, unstoredBytesTotalPerSecond: 0, maxSkewMs: MAX_SKEW_MS },
    federation: {
      pullIntervalMs,
      backoffBaseMs: 200,
      backoffMaxMs: 8000,
      requestTimeoutMs: 3000,
      parkAfter: 1_000_000,
      pushBatch: 200,
      pullPage: 200,
    },
    privacy: { sealedRetentionDays: 0, retentionEveryMs: 0 },
  },
});

const CITY_REGIONS = ['420100', '420200', '420300', '420500', '420600', '420700', '420800', '420900', '421000', '421100', '421200', '421300'];

interface SimNode {
  i: number;
  name: string;
  host: string;
  url: string;
  dir: string;
  level: HubLevel;
  region: string;
  hubId: string;
  seeds: HubSeeds;
  parent?: SimNode;
  follow?: SimNode;
  node: HubNode | undefined;
  up: boolean;
  /** Bumped at every crash: timers and answers of an earlier life are dropped. */
  life: number;
  skew: number;
  token: string;
  rng: Prng;
  inFlight: number;
  subscriber?: Subscriber;
}

/** A live-feed reader on one node (LiveFeed in-process, the same object /v1/feed/live serves). */
interface Subscriber {
  node: SimNode;
  lastOrd: number;
  ids: Set<string>;
  faults: string[];
  events: number;
  buffer: string;
  open: boolean;
}

/**
 * libsodium's Ed25519 check of a record signature, remembered by the bytes checked (runtime.ts
 * `verify`): the nodes of one process check the same records again and again, and the same bytes
 * get the same answer.
 */
const verified = new Map<string, boolean>();
function memoKey(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): string {
  return createHash('sha256').update(`${signature.length} ${publicKey.length} `).update(signature).update(publicKey).update(message).digest('base64');
}
function memoVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  const key = memoKey(signature, message, publicKey);
  // A peer request signed in this process: good, checked once (a duplicate is checked for real).
  if (signedHere.delete(key)) return true;
  let ok = verified.get(key);
  if (ok === undefined) {
    ok = ed25519Verify(signature, message, publicKey);
    if (verified.size >= 1 << 18) verified.clear();
    verified.set(key, ok);
  }
  return ok;
}

/**
 * The Ed25519 signature of a peer request (runtime.ts `sign`): OpenSSL's, which is the same
 * deterministic RFC 8032 signature as libsodium's (the same bytes, so the same trace), about three
 * times faster here; the signature is entered as good for `memoVerify`'s next check of it, since a
 * signature made with the key verifies with its public key, so the receiving node does not check
 * it again.
 */
const signingKeys = new Map<string, KeyObject>();
/** Signatures of peer requests made here and not checked yet (each is checked once; lost requests' are dropped at the bound). */
const signedHere = new Map<string, true>();
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
function memoSign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const id = Buffer.from(secretKey).toString('base64');
  let key = signingKeys.get(id);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
    signingKeys.set(id, key);
  }
  const signature = new Uint8Array(cryptoSign(null, message, key));
  if (signedHere.size >= 1 << 12) signedHere.clear();
  signedHere.set(memoKey(signature, message, secretKey.subarray(32)), true);
  return signature;
}

/** A small tree set up once, its nodes closed: runs of that shape start from copies of its data directories. */
export interface Template {
  /** Each node's data directory (n00, n01, …): its files, held in memory (nothing is left on disk). */
  files: Map<string, { name: string; data: Buffer; mode: number }[]>;
  now: number;
  digest: string;
  trace: string[];
  nodes: {
    i: number;
    name: string;
    host: string;
    level: HubLevel;
    region: string;
    hubId: string;
    seeds: HubSeeds;
    token: string;
    parent?: number;
    follow?: number;
    sub?: { lastOrd: number; ids: string[]; events: number; faults: string[] };
  }[];
  acked: [string, string][];
  forkedOnPurpose: string[];
  counter: number;
  captured: { to: number; url: string; init: { method: string; headers: Record<string, string>; body?: string } }[];
  rogue?: { hub: NewHub; records: SignedRecord[]; t: number };
  stats: SimResult['stats'];
}

/** The seed every template is set up from. */
export const SETUP_SEED = 0x5e7;

const templates = new Map<string, Promise<Template>>();

/** The template of a run's shape (node count, follower mode, pull interval, faults), set up on first use in this process. */
function templateOf(o: SimOptions): Promise<Template> {
  const f = { ...DEFAULT_FAULTS, ...(o.faults ?? {}) };
  const key = JSON.stringify([o.nodes, o.pullOnlyFollower ?? false, o.pullIntervalMs ?? PULL_MS, o.baseDir ?? '', f]);
  let t = templates.get(key);
  if (!t) {
    t = (async () => {
      const sim = new Sim({ ...o, seed: SETUP_SEED, steps: 0, keepTrace: true });
      try {
        await sim.setupTree();
        await sim.settleSetup();
        return await sim.snapshot();
      } finally {
        await sim.close();
      }
    })();
    templates.set(key, t);
    t.catch(() => templates.delete(key));
  }
  return t;
}

function fmt(n: number): string {
  return String(n).padStart(2, '0');
}

export class Sim {
  readonly o: SimOptions;
  readonly f: Faults;
  readonly rng: Prng;
  private readonly net: Prng;
  private readonly kill: Prng;
  readonly sched = new Scheduler(SIM_T0);
  readonly nodes: SimNode[] = [];
  private readonly byHost = new Map<string, SimNode>();
  private readonly cut = new Set<string>();
  private readonly hash = createHash('sha256');
  readonly trace: string[] = [];
  readonly failures: string[] = [];
  private readonly base: string;
  /** Records acknowledged as stored (201 to an operator, "accepted" to an adversary's push): id → hub. */
  readonly acked = new Map<string, string>();
  /** Hubs the adversaries forked: their fork conflicts are justified. */
  readonly forkedOnPurpose = new Set<string>();
  /** Bodies of pushes seen on the wire, for replays. */
  private readonly captured: { to: SimNode; init: { method: string; headers: Record<string, string>; body?: string }; url: string }[] = [];
  private rogue: { hub: NewHub; author: Author; records: SignedRecord[]; t: number } | undefined;
  /** Record ids of the texts the feed readers saw (each text parsed and hashed once per run). */
  private readonly feedIds = new Map<string, string>();
  private counter = 0;
  readonly stats: SimResult['stats'] = {
    events: 0,
    messages: 0,
    lost: 0,
    duplicated: 0,
    crashes: 0,
    partitions: 0,
    acked: 0,
    records: 0,
    forkedHubs: 0,
    convergeS: Number.NaN,
    maxPendingEvents: 0,
    maxInFlight: 0,
    feedEvents: 0,
  };

  constructor(o: SimOptions) {
    this.o = o;
    this.f = { ...DEFAULT_FAULTS, ...(o.faults ?? {}) };
    this.rng = new Prng(o.seed);
    this.net = this.rng.fork('net');
    this.kill = this.rng.fork('kill');
    const root = o.baseDir ?? (isDir('/dev/shm') ? '/dev/shm' : undefined);
    this.base = mkdtempSync(join(root ?? tmpdir(), 'shuniu-sim-'));
  }

  log(line: string): void {
    const l = `${this.sched.now - SIM_T0} ${line}`;
    this.hash.update(l);
    this.hash.update('\n');
    if (this.o.keepTrace) this.trace.push(l);
  }

  fail(msg: string): void {
    this.failures.push(msg);
    this.log(`FAIL ${msg}`);
  }

  // ---- the network -------------------------------------------------------------------------

  private linkKey(a: SimNode, b: SimNode): string {
    return a.i < b.i ? `${a.i}|${b.i}` : `${b.i}|${a.i}`;
  }

  private isCut(a: SimNode, b: SimNode): boolean {
    return this.cut.has(this.linkKey(a, b));
  }

  private delay(): number {
    return this.net.int(this.f.minDelayMs, this.f.maxDelayMs);
  }

  /** The transport of node `n` in its current life: every request becomes events on the queue. */
  private transportOf(n: SimNode, life: number): Transport {
    return (url, init) =>
      new Promise<Response>((resolve, reject) => {
        let done = false;
        const finish = () => {
          if (done) return false;
          done = true;
          n.inFlight--;
          return true;
        };
        const ok = (r: Response) => {
          if (finish()) resolve(r);
        };
        const no = (e: unknown) => {
          if (finish()) reject(e);
        };
        n.inFlight++;
        if (n.inFlight > this.stats.maxInFlight) this.stats.maxInFlight = n.inFlight;
        if (init.signal.aborted) return no(init.signal.reason);
        init.signal.addEventListener('abort', () => no(init.signal.reason ?? new Error('aborted')), { once: true });
        const u = new URL(url);
        const to = this.byHost.get(u.host);
        const id = ++this.stats.messages;
        const what = `${init.method} ${u.pathname}${u.search}`;
        if (!to) {
          this.sched.after(1, () => no(new TypeError(`fetch failed: no host ${u.host}`)));
          return;
        }
        if (init.method === 'POST' && u.pathname === '/v1/records' && this.captured.length < 64) this.captured.push({ to, init: { ...init }, url });
        const send = (copy: boolean) => {
          this.sched.after(this.delay(), async () => {
            if (n.life !== life || (!n.up && !copy)) return;
            if (!to.up || !to.node) {
              this.log(`m${id} ${n.i}->${to.i} ${what} refused (down)`);
              if (!copy) this.sched.after(this.delay(), () => no(new TypeError('fetch failed: connection refused')));
              return;
            }
            if (this.isCut(n, to)) {
              this.log(`m${id} ${n.i}->${to.i} ${what} refused (partition)`);
              if (!copy) this.sched.after(this.delay(), () => no(new TypeError('fetch failed: network unreachable')));
              return;
            }
            const pending = Promise.resolve(
              to.node.app.request(url, { method: init.method, headers: init.headers, ...(init.body !== undefined ? { body: init.body } : {}) }),
            );
            if (init.method === 'POST' && to.i !== 0 && this.f.midRequestCrash > 0 && this.kill.chance(this.f.midRequestCrash)) {
              // Killed mid-batch: the push is read and waits for its group commit when the node dies.
              this.log(`m${id} ${n.i}->${to.i} ${what}: target crashes mid-request`);
              await this.crash(to);
              const outcome = await pending.then(
                (r) => `${r.status}`,
                (e: unknown) => (e as Error)?.message ?? String(e),
              );
              this.log(`m${id} mid-request crash left: ${outcome}`);
              if (!copy) this.sched.after(this.delay(), () => no(new TypeError('fetch failed: connection reset')));
              return;
            }
            const res = await pending;
            const text = await res.text();
            this.log(`m${id}${copy ? '+' : ''} ${n.i}->${to.i} ${what} ${res.status} ${digest(text)}`);
            if (copy) return;
            if (this.net.chance(this.f.loss)) {
              this.stats.lost++;
              this.log(`m${id} answer lost`);
              return;
            }
            const headers = new Headers(res.headers);
            this.sched.after(this.delay(), () => ok(new Response(text, { status: res.status, headers })));
          });
        };
        if (this.net.chance(this.f.loss)) {
          this.stats.lost++;
          this.log(`m${id} ${n.i}->${to.i} ${what} lost`);
          return;
        }
        send(false);
        if (this.net.chance(this.f.dup)) {
          this.stats.duplicated++;
          send(true);
        }
      });
  }

  private runtimeOf(n: SimNode): Partial<Runtime> {
    const life = n.life;
    return {
      transport: this.transportOf(n, life),
      now: () => this.sched.now + n.skew,
      timers: {
        setTimeout: (fn, ms) =>
          this.sched.after(ms, () => {
            if (n.life === life && n.up) fn();
          }),
        clearTimeout: (h) => this.sched.cancel(h as SimEvent | undefined),
      },
      random: () => n.rng.next(),
      verify: memoVerify,
      sign: memoSign,
    };
  }

  // ---- running ---------------------------------------------------------------------------------

  /** Lets the nodes' promise chains and setImmediate turns run out (nothing real is pending). */
  private async settle(): Promise<void> {
    let quiet = 0;
    for (let i = 0; i < 200 && quiet < 2; i++) {
      const before = this.sched.scheduled;
      await new Promise<void>((r) => setImmediate(r));
      quiet = this.sched.scheduled === before ? quiet + 1 : 0;
    }
  }

  /** Runs events until virtual time `until`. */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const ev = this.sched.pop(until);
      if (!ev) break;
      this.stats.events++;
      await ev.run();
      await this.settle();
    }
    if (this.sched.now < until) this.sched.now = until;
    if (this.sched.pending > this.stats.maxPendingEvents) this.stats.maxPendingEvents = this.sched.pending;
  }

  private async advance(ms: number): Promise<void> {
    await this.runUntil(this.sched.now + ms);
  }

  // ---- nodes -----------------------------------------------------------------------------------

  private async open(n: SimNode): Promise<void> {
    n.skew = Math.round((n.rng.next() * 2 - 1) * (MAX_SKEW_MS / 4));
    n.node = await HubNode.open(n.dir, NODE_OPTIONS(this.runtimeOf(n), this.o.pullIntervalMs ?? PULL_MS));
    n.up = true;
    // One operator token per node: it stays valid across restarts (the same token key, recorded in the store).
    if (!n.token) n.token = await n.node.auth.issue('operator', 7 * 24 * 3600);
    await n.node.start();
    this.log(`up ${n.i} skew ${n.skew}`);
    if (n.subscriber) this.subscribe(n.subscriber);
  }

  private async crash(n: SimNode): Promise<void> {
    if (!n.up || !n.node) return;
    this.stats.crashes++;
    this.log(`crash ${n.i}`);
    n.up = false;
    n.life++;
    const node = n.node;
    n.node = undefined;
    await node.close();
  }

  private async makeNode(i: number, name: string, level: HubLevel, region: string, parent?: SimNode, follow?: SimNode): Promise<SimNode> {
    const host = `n${fmt(i)}.sim`;
    const rng = this.rng.fork(`node${i}`);
    const seeds: HubSeeds = { signing: rng.bytes(32), encryption: rng.bytes(32), recovery: rng.bytes(32) };
    const dir = join(this.base, `n${fmt(i)}`);
    mkdirSync(dir, { recursive: true });
    const upstream = parent ?? follow;
    const { hubId } = await initDataDir({
      dir,
      name,
      level,
      region,
      publicUrl: `http://${host}`,
      now: this.sched.now,
      seeds,
      ...(parent ? { parent: parent.url } : {}),
      ...(follow ? { follow: [follow.url] } : {}),
      // Discovery at init goes straight to the upstream node (setup, not part of the faulty network).
      transport: async (url) => {
        if (!upstream?.node) throw new Error(`node ${i}: its upstream is not running`);
        return upstream.node.app.request(url);
      },
    });
    const n: SimNode = {
      i,
      name,
      host,
      url: `http://${host}`,
      dir,
      level,
      region,
      hubId,
      seeds,
      node: undefined,
      up: false,
      life: 0,
      skew: 0,
      token: '',
      rng,
      inFlight: 0,
      ...(parent ? { parent } : {}),
      ...(follow ? { follow } : {}),
    };
    this.nodes.push(n);
    this.byHost.set(host, n);
    await this.open(n);
    if (upstream) {
      const res = await this.operator(upstream, '/v1/admissions', {
        child: hubId,
        level,
        region,
        ...(parent || !this.o.pullOnlyFollower ? { url: n.url } : {}),
      });
      if (res.status !== 201) throw new Error(`admission of node ${i}: HTTP ${res.status}`);
    }
    return n;
  }

  /** An operator's write on node `n` (its own API, in-process: operators are not behind the simulated network). */
  private async operator(n: SimNode, path: string, body: unknown): Promise<{ status: number; id?: string }> {
    if (!n.node) return { status: 0 };
    const res = await n.node.app.request(`${n.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${n.token}` },
      body: JSON.stringify(body),
    });
    const out = (await res.json().catch(() => ({}))) as { id?: string; ack?: { status?: string }; code?: string };
    this.log(`op ${n.i} ${path} ${res.status} ${out.id ?? out.code ?? ''}`);
    if (res.status === 201 && out.id) {
      this.acked.set(out.id, n.hubId);
      this.stats.acked++;
    }
    return { status: res.status, ...(out.id ? { id: out.id } : {}) };
  }

  /** A push by a client that is not a node (an adversary): straight to the node's API. */
  private async push(n: SimNode, records: SignedRecord[], label: string): Promise<void> {
    if (!n.node) return;
    const res = await n.node.app.request(`${n.url}/v1/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(records),
    });
    const text = await res.text();
    this.log(`${label} → ${n.i} ${res.status} ${digest(text)}`);
    if (res.status !== 200) return;
    const acks = (JSON.parse(text) as { acks?: { status: string; id?: string }[] }).acks ?? [];
    for (const a of acks)
      if (a.status === 'accepted' && a.id) {
        const r = records.find((x) => recordId(x) === a.id);
        if (r) this.acked.set(a.id, r.hub);
      }
  }

  // ---- the subscribers -----------------------------------------------------------------------

  private subscribe(s: Subscriber): void {
    const n = s.node;
    const node = n.node;
    if (!node) return;
    s.open = true;
    const stream = node.liveFeed.admit('sim', {}, true, s.lastOrd, () => {
      s.open = false;
    });
    const sink = {
      aborted: false,
      write: async (text: string) => {
        s.buffer += text;
        let k = s.buffer.indexOf('\n\n');
        while (k >= 0) {
          const frame = s.buffer.slice(0, k);
          s.buffer = s.buffer.slice(k + 2);
          this.onFrame(s, frame);
          k = s.buffer.indexOf('\n\n');
        }
      },
    };
    void node.liveFeed.run(stream, sink, 60_000).finally(() => {
      s.open = false;
      s.buffer = '';
    });
  }

  private onFrame(s: Subscriber, frame: string): void {
    const lines = frame.split('\n');
    const ev = lines.find((l) => l.startsWith('event: '))?.slice(7);
    const idLine = lines.find((l) => l.startsWith('id: '));
    if (ev === 'cursor' && idLine) {
      s.lastOrd = Math.max(s.lastOrd, Number(idLine.slice(4)));
      return;
    }
    if (ev !== 'record' || !idLine) return;
    const ord = Number(idLine.slice(4));
    const data = lines
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    let id = this.feedIds.get(data);
    if (id === undefined) {
      id = recordId(parseRecord(JSON.parse(data)));
      this.feedIds.set(data, id);
    }
    s.events++;
    this.stats.feedEvents++;
    if (ord <= s.lastOrd) s.faults.push(`feed of node ${s.node.i}: ord ${ord} after ${s.lastOrd} (out of order or again)`);
    if (s.ids.has(id)) s.faults.push(`feed of node ${s.node.i}: record ${id} seen twice`);
    s.ids.add(id);
    s.lastOrd = Math.max(s.lastOrd, ord);
  }

  // ---- setup, workload, adversaries ----------------------------------------------------------------

  /** County hubs hosted by city nodes (national shape): each signs and pushes to its city's node. */
  readonly counties: { city: SimNode; author: Author; hub: NewHub; records: SignedRecord[] }[] = [];

  private async setupNational(shape: NonNullable<SimOptions['national']>): Promise<void> {
    let i = 0;
    const root = await this.makeNode(i++, '国家枢纽', 'national', '100000');
    const cities: SimNode[] = [];
    for (let p = 0; p < shape.provinces; p++) {
      const code = String(11 + p).padStart(2, '0');
      const prov = await this.makeNode(i++, `省 ${p}`, 'province', `${code}0000`, root);
      for (let c = 0; c < shape.citiesPerProvince; c++) cities.push(await this.makeNode(i++, `市 ${p}-${c}`, 'city', `${code}${fmt(c + 1)}00`, prov));
    }
    for (let f = 0; f < shape.foundations; f++) await this.makeNode(i++, `基金会 ${f}`, 'national', '440300', undefined, root);
    for (const city of cities)
      for (let k = 0; k < shape.countiesPerCity; k++) {
        const r = this.rng.fork(`county ${city.i} ${k}`);
        const t = this.sched.now;
        const hub = createHub({
          seeds: { signing: r.bytes(32), encryption: r.bytes(32), recovery: r.bytes(32) },
          created: formatTimestamp(Math.floor(t / 1000) * 1000),
          hlc: { ms: t, c: 0 },
        });
        const county = { city, hub, author: Author.fromNewHub(hub, () => this.sched.now), records: [hub.inception] };
        this.counties.push(county);
        await this.operator(city, '/v1/admissions', { child: hub.id, level: 'county', region: `${city.region.slice(0, 4)}${fmt(k + 1)}` });
        await this.push(city, county.records, `county ${city.i}/${k} inception`);
      }
    await this.advance(500);
  }

  /** National shape: a county posts a need through its city's node. */
  async countyStep(): Promise<void> {
    const c = this.rng.pick(this.counties);
    if (!c.city.up) return;
    const rec = c.author.sign('need.posted', this.needBody(c.city)).record;
    c.records.push(rec);
    await this.push(c.city, [rec], `county need`);
  }

  /** National shape: a partition between two random provinces' subtrees and the rest, or a heal. */
  async nationalFault(): Promise<void> {
    if (this.rng.chance(0.5)) {
      this.cut.clear();
      this.log('heal');
      return;
    }
    const a = this.rng.pick(this.nodes);
    for (const b of this.nodes) if (b !== a) this.cut.add(this.linkKey(a, b));
    this.stats.partitions++;
    this.log(`isolate ${a.i}`);
  }

  /**
   * The network before the workload. The small tree is set up once per shape in a process (from
   * SETUP_SEED: its keys, admissions and first exchanges, under the same network faults) and kept
   * as a template; each run copies the template's data directories and starts every node from
   * them with its own clock skew and randomness (a restart of the whole network), then the seed's
   * workload and faults begin. The national shape is set up by its one run.
   */
  async setup(): Promise<void> {
    await ready();
    if (this.o.national) return this.setupNational(this.o.national);
    await this.restore(await templateOf(this.o));
  }

  /** The small tree from nothing: the root, its cities, their counties, a foundation, the feed readers and the rogue hub. */
  async setupTree(): Promise<void> {
    await ready();
    const N = this.o.nodes;
    const root = await this.makeNode(0, '湖北省枢纽', 'province', '420000');
    const foundation = N >= 6;
    const rest = N - 1 - (foundation ? 1 : 0);
    const cityCount = Math.max(1, Math.min(CITY_REGIONS.length, Math.ceil(rest / 3)));
    const cities: SimNode[] = [];
    let i = 1;
    for (let c = 0; c < cityCount && i < N; c++, i++) cities.push(await this.makeNode(i, `市 ${c}`, 'city', CITY_REGIONS[c] as string, root));
    const perCity = new Map<SimNode, number>();
    for (let k = 0; i < N - (foundation ? 1 : 0); k++, i++) {
      const city = cities[k % cities.length] as SimNode;
      const m = (perCity.get(city) ?? 0) + 1;
      perCity.set(city, m);
      await this.makeNode(i, `县 ${k}`, 'county', `${city.region.slice(0, 4)}${fmt(m + 1)}`, city);
    }
    if (foundation) await this.makeNode(i, '壹基金', 'national', '440300', undefined, root);
    // Live-feed subscribers on the root and on the last node.
    for (const n of new Set([root, this.nodes[this.nodes.length - 1] as SimNode])) {
      const s: Subscriber = { node: n, lastOrd: 0, ids: new Set(), faults: [], events: 0, buffer: '', open: false };
      n.subscriber = s;
      this.subscribe(s);
    }
    if (this.f.adversaries) {
      // A hub that runs no node, admitted by the root: the adversary that forks and replays.
      const r = this.rng.fork('rogue');
      const t = this.sched.now - 1000;
      const hub = createHub({
        seeds: { signing: r.bytes(32), encryption: r.bytes(32), recovery: r.bytes(32) },
        created: formatTimestamp(Math.floor(t / 1000) * 1000),
        hlc: { ms: t, c: 0 },
      });
      const rogue = { hub, author: undefined as unknown as Author, records: [hub.inception], t };
      rogue.author = Author.fromNewHub(hub, () => this.sched.now);
      this.rogue = rogue;
      await this.operator(root, '/v1/admissions', { child: hub.id, level: 'org', region: '420902' });
      await this.push(root, rogue.records, 'rogue inception');
    }
    await this.advance(500);
  }

  private needBody(n: SimNode): BodyOf<'need.posted'> {
    const k = ++this.counter;
    return {
      item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
      quantity: 1 + (k % 400),
      unit: { name: 'box', base: 'piece', size: 50 },
      urgency: k % 3 === 0 ? 'critical' : 'high',
      neededBy: '2026-02-10T00:00:00Z',
      region: n.region === '440300' ? '420902' : n.region,
      beneficiaries: { group: 'medical_staff', count: 10 + k },
      requester: { name: `医院 ${k}`, kind: 'hospital', region: n.region === '440300' ? '420902' : n.region },
    };
  }

  private offerBody(n: SimNode): Record<string, unknown> {
    const k = ++this.counter;
    return {
      kind: 'goods',
      item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
      quantity: 100_000 + k,
      unit: { name: 'piece', base: 'piece', size: 1 },
      valueFen: 100 * k,
      donor: { name: `捐赠方 ${n.i}-${k}`, kind: 'company' },
      intent: {},
      region: n.region,
    };
  }

  private up(): SimNode[] {
    return this.nodes.filter((n) => n.up);
  }

  /** One step of the workload: an operator write, a fault, a heal, a crash or restart, or an adversary's move. */
  async step(): Promise<void> {
    const r = this.rng.next();
    const f = this.f;
    const live = this.up();
    if (r < f.partition) {
      // A partition: a random side against the rest.
      const side = new Set(this.nodes.filter(() => this.rng.chance(0.5)).map((n) => n.i));
      for (const a of this.nodes) for (const b of this.nodes) if (a.i < b.i && side.has(a.i) !== side.has(b.i)) this.cut.add(this.linkKey(a, b));
      this.stats.partitions++;
      this.log(`partition ${[...side].join(',')}`);
    } else if (r < 2 * f.partition) {
      this.cut.clear();
      this.log('heal');
    } else if (r < 2 * f.partition + 0.04) {
      const a = this.rng.pick(this.nodes);
      const b = this.rng.pick(this.nodes);
      if (a !== b) {
        this.cut.add(this.linkKey(a, b));
        this.log(`cut ${a.i}-${b.i}`);
      }
    } else if (r < 2 * f.partition + 0.04 + f.crash) {
      const down = this.nodes.length - live.length;
      if (down < Math.max(1, Math.floor(this.nodes.length / 3)) && live.length > 0) await this.crash(this.rng.pick(live));
    } else if (r < 2 * f.partition + 0.04 + 2.5 * f.crash) {
      const dead = this.nodes.filter((n) => !n.up);
      if (dead.length > 0) await this.open(this.rng.pick(dead));
    } else if (f.adversaries && r < 2 * f.partition + 0.04 + 2.5 * f.crash + 0.06) {
      await this.adversary();
    } else {
      if (live.length === 0) return;
      const n = this.rng.pick(live);
      const w = this.rng.next();
      if (w < 0.6) await this.operator(n, '/v1/needs', this.needBody(n));
      else if (w < 0.75) await this.operator(n, '/v1/offers', this.offerBody(n));
      else await this.allocate(n);
    }
  }

  /** An allocation of one of this hub's offers to a need the node knows (any hub's), one piece. */
  private async allocate(n: SimNode): Promise<void> {
    const node = n.node;
    if (!node) return;
    const offers: string[] = [];
    for (const [id, o] of node.ingestor.engine.entries('offers')) if ((o as { hub?: string }).hub === n.hubId) offers.push(id);
    const needs: string[] = [];
    for (const [id] of node.ingestor.engine.entries('needs')) needs.push(id);
    if (offers.length === 0 || needs.length === 0) {
      await this.operator(n, '/v1/offers', this.offerBody(n));
      return;
    }
    offers.sort();
    needs.sort();
    await this.operator(n, '/v1/allocations', { offer: this.rng.pick(offers), need: this.rng.pick(needs), quantity: 1 });
  }

  private async adversary(): Promise<void> {
    const live = this.up();
    if (live.length === 0) return;
    const w = this.rng.next();
    const rogue = this.rogue;
    if (w < 0.4 && rogue) {
      // The rogue hub signs its next record, and now and then a second one at the same seq (a fork), pushed to two nodes.
      const a = this.rng.pick(live);
      const head = { ...rogue.author.head };
      const first = rogue.author.sign('need.posted', this.needBody(a)).record;
      rogue.records.push(first);
      await this.push(a, rogue.records, `rogue seq ${first.seq}`);
      if (this.rng.chance(0.3)) {
        const thief = new Author({ hub: rogue.hub.id, secretKey: rogue.hub.keys.signing.secretKey, head, wall: () => this.sched.now + 7 });
        const other = thief.sign('need.posted', this.needBody(a)).record;
        const b = this.rng.pick(live);
        this.forkedOnPurpose.add(rogue.hub.id);
        await this.push(b, [...rogue.records.slice(0, -1), other], `fork seq ${other.seq}`);
      }
    } else if (w < 0.75) {
      // A replay: a push seen on the wire, sent again (to its node or another) later.
      if (this.captured.length === 0) return;
      const c = this.rng.pick(this.captured);
      const to = this.rng.chance(0.5) ? c.to : this.rng.pick(live);
      if (!to.node) return;
      const res = await to.node.app.request(`${to.url}/v1/records`, {
        method: 'POST',
        headers: c.init.headers,
        ...(c.init.body !== undefined ? { body: c.init.body } : {}),
      });
      this.log(`replay → ${to.i} ${res.status} ${digest(await res.text())}`);
    } else {
      // A hub posting from two nodes: a copy of one node's key signs from that node's head, pushed elsewhere.
      const victim = this.rng.pick(live);
      const others = live.filter((x) => x !== victim);
      if (!victim.node || others.length === 0 || victim.i === 0) return;
      const view = victim.node.store.chainView(victim.hubId);
      if (!view) return;
      const key = signingKeyPairFromSeed(readKeyFile(victim.dir).signing);
      const twin = new Author({
        hub: victim.hubId,
        secretKey: key.secretKey,
        head: { seq: view.head.seq, id: view.head.id, hlc: view.head.hlc },
        wall: () => this.sched.now + 3,
      });
      const rec = twin.sign('need.posted', this.needBody(victim)).record;
      this.forkedOnPurpose.add(victim.hubId);
      await this.push(this.rng.pick(others), [rec], `twin of ${victim.i} seq ${rec.seq}`);
    }
  }

  // ---- templates -----------------------------------------------------------------------------------

  /** Closes every node and returns what a run needs to start from their data directories (read into memory). */
  async snapshot(): Promise<Template> {
    for (const n of this.nodes)
      if (n.node) {
        const node = n.node;
        n.node = undefined;
        n.up = false;
        await node.close();
      }
    const rogue = this.rogue;
    const files: Template['files'] = new Map();
    for (const n of this.nodes) {
      const d = `n${fmt(n.i)}`;
      files.set(
        d,
        readdirSync(join(this.base, d))
          .sort()
          .map((name) => {
            const path = join(this.base, d, name);
            return { name, data: readFileSync(path), mode: statSync(path).mode & 0o777 };
          }),
      );
    }
    return {
      files,
      now: this.sched.now,
      digest: this.digest(),
      trace: [...this.trace],
      nodes: this.nodes.map((n) => ({
        i: n.i,
        name: n.name,
        host: n.host,
        level: n.level,
        region: n.region,
        hubId: n.hubId,
        seeds: n.seeds,
        token: n.token,
        ...(n.parent ? { parent: n.parent.i } : {}),
        ...(n.follow ? { follow: n.follow.i } : {}),
        ...(n.subscriber
          ? { sub: { lastOrd: n.subscriber.lastOrd, ids: [...n.subscriber.ids], events: n.subscriber.events, faults: [...n.subscriber.faults] } }
          : {}),
      })),
      acked: [...this.acked],
      forkedOnPurpose: [...this.forkedOnPurpose],
      counter: this.counter,
      captured: this.captured.map((c) => ({
        to: c.to.i,
        url: c.url,
        init: { method: c.init.method, headers: c.init.headers, ...(c.init.body !== undefined ? { body: c.init.body } : {}) },
      })),
      ...(rogue ? { rogue: { hub: rogue.hub, records: [...rogue.records], t: rogue.t } } : {}),
      stats: { ...this.stats },
    };
  }

  /** This run's network from a template: its data directories copied, every node started with this seed's skew and randomness. */
  private async restore(t: Template): Promise<void> {
    this.sched.now = t.now;
    if (this.o.keepTrace) this.trace.push(...t.trace);
    this.log(`setup ${t.digest}`);
    for (const k of ['events', 'messages', 'lost', 'duplicated', 'crashes', 'acked', 'maxPendingEvents', 'maxInFlight', 'feedEvents'] as const)
      this.stats[k] = t.stats[k];
    for (const m of t.nodes) {
      const dir = join(this.base, `n${fmt(m.i)}`);
      mkdirSync(dir, { mode: 0o700 });
      for (const f of t.files.get(`n${fmt(m.i)}`) ?? []) writeFileSync(join(dir, f.name), f.data, { mode: f.mode });
      const parent = m.parent === undefined ? undefined : this.nodes[m.parent];
      const follow = m.follow === undefined ? undefined : this.nodes[m.follow];
      const n: SimNode = {
        i: m.i,
        name: m.name,
        host: m.host,
        url: `http://${m.host}`,
        dir,
        level: m.level,
        region: m.region,
        hubId: m.hubId,
        seeds: m.seeds,
        node: undefined,
        up: false,
        life: 0,
        skew: 0,
        token: m.token,
        rng: this.rng.fork(`node${m.i}`),
        inFlight: 0,
        ...(parent ? { parent } : {}),
        ...(follow ? { follow } : {}),
      };
      if (m.sub)
        n.subscriber = { node: n, lastOrd: m.sub.lastOrd, ids: new Set(m.sub.ids), faults: [...m.sub.faults], events: m.sub.events, buffer: '', open: false };
      this.nodes.push(n);
      this.byHost.set(n.host, n);
    }
    for (const [id, hub] of t.acked) this.acked.set(id, hub);
    for (const h of t.forkedOnPurpose) this.forkedOnPurpose.add(h);
    this.counter = t.counter;
    for (const c of t.captured) this.captured.push({ to: this.nodes[c.to] as SimNode, url: c.url, init: { ...c.init } });
    if (t.rogue) {
      const author = Author.fromNewHub(t.rogue.hub, () => this.sched.now);
      // The template's rogue signed its inception only.
      if (t.rogue.records.length !== 1) throw new Error('a template whose rogue hub signed more than its inception');
      this.rogue = { hub: t.rogue.hub, author, records: [...t.rogue.records], t: t.rogue.t };
    }
    for (const n of this.nodes) await this.open(n);
    await this.advance(500);
  }

  // ---- the end -----------------------------------------------------------------------------------

  /** Every link back, every node up, no more loss; runs until the nodes agree (or gives up). */
  async healAndDrain(): Promise<void> {
    this.cut.clear();
    this.f.loss = 0;
    this.f.dup = 0;
    this.f.crash = 0;
    this.f.midRequestCrash = 0;
    this.log('final heal');
    for (const n of this.nodes) if (!n.up) await this.open(n);
    const t0 = this.sched.now;
    const limit = t0 + 10 * 60_000;
    // Checked every quarter of a virtual second: the pulls that come due after the nodes agree
    // and their queues are at their ends are not run (a run's last second was mostly those).
    while (this.sched.now < limit) {
      await this.advance(250);
      if (this.agree()) {
        this.stats.convergeS = (this.sched.now - t0) / 1000;
        break;
      }
    }
    // Time for the push queues to reach their ends and the feeds to be read: until they have,
    // at most three pull intervals.
    const tail = this.sched.now + 3 * (this.o.pullIntervalMs ?? PULL_MS);
    while (this.sched.now < tail && !this.drained()) await this.advance(250);
  }

  /** A template's network runs on until its nodes agree and their queues are at their ends (at most a virtual minute), once for every run of its shape. */
  async settleSetup(): Promise<void> {
    const limit = this.sched.now + 60_000;
    while (this.sched.now < limit) {
      // A node the setup's faults killed (a crash mid-request) comes back at once: else the others
      // push to it in vain for the whole minute (the 12-node template did), and every run of the
      // shape restarts it anyway.
      for (const n of this.nodes) if (!n.up) await this.open(n);
      await this.advance(1000);
      if (this.agree() && this.drained()) break;
    }
  }

  /** Every push queue at its end and every live-feed reader at its node's last record. */
  private drained(): boolean {
    for (const n of this.nodes) {
      const node = n.node;
      if (!node) return false;
      const max = node.store.maxOrd();
      if (n.subscriber && (!n.subscriber.open || n.subscriber.lastOrd < max)) return false;
      for (const p of node.store.peers())
        if (p.push && p.cursor < max && node.store.outbound(p.cursor, p.hub ? [p.url, `hub:${p.hub}`] : p.url, 1).rows.length > 0) return false;
    }
    return true;
  }

  private agree(): boolean {
    const hashes = new Set(this.nodes.map((n) => n.node?.ingestor.engine.stateHash()));
    if (hashes.size !== 1) return false;
    const forked = this.forkedHubs();
    const heads = new Set(this.nodes.map((n) => headsKey(n.node as HubNode, forked)));
    return heads.size === 1;
  }

  private forkedHubs(): Set<string> {
    const s = new Set<string>();
    for (const n of this.nodes) for (const f of n.node?.store.forks() ?? []) s.add(f.hub);
    return s;
  }

  /** The invariants of issue 15, checked after the final heal and drain. */
  check(): void {
    const nodes = this.nodes.map((n) => n.node as HubNode);
    // 1. One state hash, one set of heads (hubs that forked: each node follows the branch it saw first).
    const hashes = new Set(nodes.map((n) => n.ingestor.engine.stateHash()));
    if (hashes.size !== 1)
      this.fail(`${hashes.size} distinct state hashes: ${this.nodes.map((n) => `${n.i}:${n.node?.ingestor.engine.stateHash().slice(0, 8)}`).join(' ')}`);
    const forked = this.forkedHubs();
    this.stats.forkedHubs = forked.size;
    const heads = new Set(nodes.map((n) => headsKey(n, forked)));
    if (heads.size !== 1) this.fail(`${heads.size} distinct sets of heads`);
    // 2. Every acknowledged record on every node.
    for (const [id] of this.acked) for (const n of this.nodes) if (!n.node?.store.hasRecord(id)) this.fail(`acknowledged record ${id} missing on node ${n.i}`);
    // 3. The live feeds: each record once, in order, and every stored record seen.
    for (const n of this.nodes) {
      const s = n.subscriber;
      if (!s) continue;
      for (const f of s.faults) this.fail(f);
      const stored = (n.node as HubNode).store.since(0, Number.MAX_SAFE_INTEGER);
      const missing = stored.filter((r) => !s.ids.has(r.id)).length;
      if (missing > 0) this.fail(`feed of node ${n.i}: ${missing} of ${stored.length} stored records never seen`);
    }
    // 4. Queues bounded: the holding area within its bound, requests in flight within the node's parallelism, push queues at their ends.
    for (const n of this.nodes) {
      const node = n.node as HubNode;
      if (node.store.heldCount() > node.config.limits.maxHeld) this.fail(`node ${n.i} holds ${node.store.heldCount()} records`);
      for (const p of node.store.peers())
        if (p.push && p.cursor < node.store.maxOrd()) {
          const { rows } = node.store.outbound(p.cursor, p.hub ? [p.url, `hub:${p.hub}`] : p.url, 1);
          if (rows.length > 0) this.fail(`node ${n.i}: push queue to ${p.url} not drained (cursor ${p.cursor} of ${node.store.maxOrd()})`);
        }
    }
    const bound = this.nodes.length * 8;
    if (this.stats.maxInFlight > bound) this.fail(`${this.stats.maxInFlight} requests in flight from one node (bound ${bound})`);
    // 5. No conflict the records do not justify: a fresh resolver over each node's records agrees with its state,
    // and the only forks are the ones the adversaries made.
    // Each stored text is parsed once for all the nodes that hold it (the resolver does not change what it applies).
    const parsed = new Map<string, Verified>();
    for (const n of this.nodes) {
      const node = n.node as HubNode;
      const fresh = new Resolver({ roots: node.config.roots });
      for (const row of node.store.since(0, Number.MAX_SAFE_INTEGER)) {
        const key = `${row.id} ${row.json}`;
        let v = parsed.get(key);
        if (!v) {
          v = assumeVerified(parseRecord(JSON.parse(row.json)), row.id) as Verified;
          parsed.set(key, v);
        }
        fresh.apply(v);
      }
      if (fresh.stateHash() !== node.ingestor.engine.stateHash()) this.fail(`node ${n.i}: state differs from a fresh resolver over its own records`);
      for (const [, c] of node.ingestor.engine.entries('conflicts')) {
        const conflict = c as { rule: string; hubs: string[]; records: string[] };
        if (conflict.rule === 'fork' && conflict.hubs.every((h) => this.forkedOnPurpose.has(h))) continue;
        this.fail(`node ${n.i}: conflict ${conflict.rule} on hubs ${conflict.hubs.join(',')} that the workload never made`);
      }
    }
    for (const h of forked) if (!this.forkedOnPurpose.has(h)) this.fail(`hub ${h} forked without an adversary`);
    this.stats.records = nodes[0]?.store.maxOrd() ?? 0;
  }

  async close(): Promise<void> {
    for (const n of this.nodes) if (n.node) await n.node.close().catch(() => {});
    rmSync(this.base, { recursive: true, force: true });
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

function headsKey(n: HubNode, forked: Set<string>): string {
  return JSON.stringify(
    Object.entries(n.store.heads())
      .filter(([h]) => !forked.has(h))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function isDir(p: string): boolean {
  try {
    mkdirSync(p, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/** One whole run: setup, `steps` steps of workload and faults, final heal and drain, invariants. */
export async function runSim(o: SimOptions): Promise<SimResult> {
  const sim = new Sim(o);
  try {
    await sim.setup();
    for (let k = 0; k < o.steps; k++) {
      await sim.step();
      await sim.runUntil(sim.sched.now + sim.rng.int(0, 400));
    }
    await sim.healAndDrain();
    sim.check();
    sim.log(`end records ${sim.stats.records} acked ${sim.stats.acked} failures ${sim.failures.length}`);
  } catch (e) {
    sim.fail(`run threw: ${(e as Error)?.stack ?? String(e)}`);
  } finally {
    await sim.close();
  }
  return { seed: o.seed, nodes: o.nodes, steps: o.steps, traceHash: sim.digest(), trace: sim.trace, failures: sim.failures, stats: sim.stats };
}

export interface NationalResult {
  nodes: number;
  hubs: number;
  records: number;
  messages: number;
  /** Virtual seconds from the final heal until every node agreed. */
  convergeS: number;
  /** Real seconds the whole run took. */
  wallS: number;
  rssMb: number;
  failures: string[];
  traceHash: string;
}

/**
 * A national-shaped run (bench/sim.ts, the long tier): setup, `steps` county needs with nodes cut
 * off and healed now and then (no loss, no crash: the figure is convergence and traffic), then the
 * final heal and drain and the invariants.
 */
export async function runNational(o: {
  seed: number;
  steps: number;
  shape: NonNullable<SimOptions['national']>;
  log?: (msg: string) => void;
}): Promise<NationalResult> {
  const t0 = performance.now();
  const sim = new Sim({
    seed: o.seed,
    nodes: 0,
    steps: o.steps,
    national: o.shape,
    pullIntervalMs: 30_000,
    faults: { loss: 0, dup: 0, crash: 0, adversaries: false },
  });
  let rssMb = 0;
  try {
    await sim.setup();
    o.log?.(`national: ${sim.nodes.length} nodes, ${sim.counties.length} county hubs set up in ${Math.round(performance.now() - t0)} ms`);
    for (let k = 0; k < o.steps; k++) {
      if (sim.rng.chance(0.05)) await sim.nationalFault();
      else await sim.countyStep();
      await sim.runUntil(sim.sched.now + sim.rng.int(0, 200));
    }
    o.log?.(`national: ${o.steps} steps in ${Math.round(performance.now() - t0)} ms`);
    await sim.healAndDrain();
    rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
    sim.check();
  } catch (e) {
    sim.fail(`run threw: ${(e as Error)?.stack ?? String(e)}`);
  } finally {
    await sim.close();
  }
  return {
    nodes: sim.nodes.length,
    hubs: sim.nodes.length + sim.counties.length,
    records: sim.stats.records,
    messages: sim.stats.messages,
    convergeS: sim.stats.convergeS,
    wallS: (performance.now() - t0) / 1000,
    rssMb,
    failures: sim.failures,
    traceHash: sim.digest(),
  };
}
