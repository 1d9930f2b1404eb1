import type { NodeConfig } from './config.js';
import { signRequest } from './http/peer-auth.js';
import type { Ingestor } from './ingest.js';
import { memberArraySpans } from './json-spans.js';
import type { PeerRow, Store } from './store/types.js';

export interface FederationEvents {
  /** Human-readable progress (push results, pulled pages); the CLI prints it. */
  log?: (msg: string) => void;
  /** Backfill progress for one hub's log pulled from a peer. */
  progress?: (p: { peer: string; hub: string; have: number; head: number }) => void;
}

/** Counts-only semaphore bounding concurrent outbound requests. */
class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiters.push(r));
    return () => {
      const w = this.waiters.shift();
      if (w) w();
      else this.free++;
    };
  }
}

/**
 * Federation (spec/node.md §Federation): one persistent outbound queue per
 * peer (a cursor over the ingest order, so after an outage everything
 * missing is sent, oldest first), and a scheduled pull that exchanges heads
 * and fetches only the missing ranges.
 */
export class Federation {
  private readonly sem: Semaphore;
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private pullTimer: NodeJS.Timeout | undefined;
  private pulling: Promise<void> | undefined;
  private stopped = false;
  private readonly inflight = new Set<AbortController>();
  /** Hub ids of peers whose row names none, learned from their discovery document (for echo suppression only). */
  private readonly learned = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly ingestor: Ingestor,
    private readonly cfg: NodeConfig['federation'],
    /**
     * This node: its hub id, the URL peers reach it at (sent as the
     * `shuniu-peer` hint), and the secret key its requests are signed with
     * (spec/node.md §9.4; without it they go unsigned, as an anonymous client).
     */
    private readonly self: { hubId: string; url: () => string; secretKey?: Uint8Array },
    private readonly events: FederationEvents = {},
    private readonly trusted: (hub: string) => boolean = () => true,
  ) {
    this.sem = new Semaphore(cfg.pushParallel);
  }

  start(): void {
    this.ingestor.onCommit(() => this.kickAll());
    this.kickAll();
    if (this.cfg.pullIntervalMs > 0) {
      const tick = () => {
        if (this.stopped) return;
        void this.pullAll().finally(() => {
          if (!this.stopped) this.pullTimer = setTimeout(tick, this.cfg.pullIntervalMs);
        });
      };
      this.pullTimer = setTimeout(tick, 0);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pullTimer) clearTimeout(this.pullTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    for (const a of this.inflight) a.abort();
    await Promise.allSettled([...this.running.values(), this.pulling ?? Promise.resolve()]);
  }

  /** Wakes every push queue (after a commit, or when peers changed). */
  kickAll(): void {
    for (const p of this.store.peers()) if (p.push) this.kick(p.url);
  }

  kick(url: string): void {
    if (this.stopped) return;
    if (this.running.has(url)) {
      this.again.add(url);
      return;
    }
    const run = this.drain(url).finally(() => {
      this.running.delete(url);
      if (this.again.delete(url)) this.kick(url);
    });
    this.running.set(url, run);
  }

  /**
   * Every request to a peer is signed with this hub's key (spec/node.md
   * §9.4). A signed request the peer refuses with 401 is sent once more
   * unsigned: the peer may not hold our latest key rotation yet, and the
   * push that carries it must still get through (as an anonymous client).
   */
  private async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
    const ctl = new AbortController();
    this.inflight.add(ctl);
    const t = setTimeout(() => ctl.abort(), this.cfg.requestTimeoutMs);
    const send = (signed: boolean) => {
      const method = init.method ?? 'GET';
      const headers: Record<string, string> = {
        // A hint for logs and test harnesses only: never trusted for anything (§9.2).
        'shuniu-peer': this.self.url(),
        ...(init.headers ?? {}),
        ...(signed && this.self.secretKey ? signRequest({ hub: this.self.hubId, secretKey: this.self.secretKey }, { method, url, body: init.body }) : {}),
      };
      return fetch(url, { method, headers, signal: ctl.signal, ...(init.body !== undefined ? { body: init.body } : {}) });
    };
    try {
      const res = await send(true);
      if (res.status !== 401 || !this.self.secretKey) return res;
      await res.body?.cancel().catch(() => {});
      return await send(false);
    } finally {
      clearTimeout(t);
      this.inflight.delete(ctl);
    }
  }

  /**
   * The hub id a peer runs: its row's, else the one its discovery document
   * names (asked once). Used only to skip echoes; a wrong answer costs the
   * peer records it then pulls, never trust.
   */
  private async peerHub(peer: PeerRow): Promise<string | undefined> {
    if (peer.hub) return peer.hub;
    // '' once the peer answered without naming a hub: not asked again.
    const known = this.learned.get(peer.url);
    if (known !== undefined) return known || undefined;
    try {
      const res = await this.request(`${peer.url}/.well-known/shuniu`);
      const hub = res.ok ? ((await res.json().catch(() => ({}))) as { hub?: unknown }).hub : undefined;
      this.learned.set(peer.url, typeof hub === 'string' ? hub : '');
      return typeof hub === 'string' ? hub : undefined;
    } catch {
      return undefined;
    }
  }

  private peer(url: string): PeerRow | undefined {
    return this.store.peers().find((p) => p.url === url);
  }

  private async drain(url: string): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const peer = this.peer(url);
      if (!peer?.push) return;
      const wait = peer.nextAttemptMs - Date.now();
      if (wait > 0) {
        // Parked or backing off: retry later by itself, costing nobody else anything.
        if (!this.timers.has(url)) {
          const t = setTimeout(() => {
            this.timers.delete(url);
            this.kick(url);
          }, wait);
          t.unref();
          this.timers.set(url, t);
        }
        return;
      }
      // Records that came from this peer are skipped in the query, without reading them: those
      // pulled from its URL and those it pushed with a signature of its hub (spec/node.md §9.2).
      const hub = await this.peerHub(peer);
      if (this.stopped) return;
      const { rows, through: last } = this.store.outbound(peer.cursor, hub ? [url, `hub:${hub}`] : url, this.cfg.pushBatch);
      if (rows.length === 0) {
        if (last > peer.cursor) this.store.updatePeer(url, { cursor: last });
        return;
      }
      const release = await this.sem.acquire();
      try {
        const res = await this.request(`${url}/v1/records`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `[${rows.map((r) => r.json).join(',')}]`,
        });
        if (res.status === 429 || res.status >= 500) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { summary?: Record<string, number> };
        // A 4xx other than 429 would fail again identically: move past it
        // and let the peer's scheduled pull fetch whatever it still lacks.
        this.store.updatePeer(url, { cursor: last, failures: 0, nextAttemptMs: 0, parked: false, lastError: res.ok ? null : `HTTP ${res.status}` });
        this.events.log?.(`push → ${url}: ${rows.length} records ${JSON.stringify(body.summary ?? {})}`);
      } catch (e) {
        if (this.stopped) return;
        const failures = peer.failures + 1;
        const parked = failures >= this.cfg.parkAfter;
        const delay = parked ? this.cfg.parkMs : Math.min(this.cfg.backoffMaxMs, this.cfg.backoffBaseMs * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
        this.store.updatePeer(url, { failures, parked, nextAttemptMs: Date.now() + Math.round(delay), lastError: (e as Error).message });
        this.events.log?.(`push → ${url} failed (${(e as Error).message}); ${parked ? 'parked' : 'retry'} in ${Math.round(delay)} ms`);
      } finally {
        release();
      }
    }
  }

  /** One pull round over every peer that allows it. */
  pullAll(): Promise<void> {
    if (this.pulling) return this.pulling;
    this.pulling = (async () => {
      for (const p of this.store.peers()) {
        if (this.stopped) break;
        if (!p.pull) continue;
        try {
          await this.pullFrom(p.url);
        } catch (e) {
          if (!this.stopped) this.events.log?.(`pull ← ${p.url} failed: ${(e as Error).message}`);
        }
      }
    })().finally(() => {
      this.pulling = undefined;
    });
    return this.pulling;
  }

  /**
   * Catches up from one peer: exchange heads, fetch the missing range of each
   * hub in pages, repeat while something new was accepted (an admission met
   * in one round can open a hub's log in the next).
   */
  async pullFrom(url: string): Promise<{ accepted: number }> {
    let accepted = 0;
    for (let round = 0; round < 6 && !this.stopped; round++) {
      const res = await this.request(`${url}/v1/heads`);
      if (!res.ok) throw new Error(`heads: HTTP ${res.status}`);
      const theirs = ((await res.json()) as { heads: Record<string, number> }).heads;
      let progress = 0;
      // Hubs already trusted first: their admissions open the others' logs,
      // which then need no holding and releasing.
      const order = Object.entries(theirs).sort(([a], [b]) => Number(this.trusted(b)) - Number(this.trusted(a)));
      for (const [hub, head] of order) {
        if (this.stopped) break;
        if (this.store.isBlocked(hub)) continue;
        let have = this.store.heads()[hub] ?? -1;
        // Each page's records go to the worker pool as soon as the page
        // arrives, so the workers read page N+1 while page N commits.
        const fetchPage = async (after: number) => {
          const page = await this.request(`${url}/v1/hubs/${hub}/log?after=${after}&limit=${this.cfg.pullPage}`);
          if (!page.ok) throw new Error(`log: HTTP ${page.status}`);
          const text = await page.text();
          const offs = memberArraySpans(text, 'records');
          if (!offs) throw new Error('log: not a page of records');
          const n = offs.length / 2;
          let lastSeq = Number.NaN;
          try {
            lastSeq = (JSON.parse(text.slice(offs[2 * n - 2], offs[2 * n - 1])) as { seq: number }).seq;
          } catch {
            // The workers name what is wrong with it; no page after this one.
          }
          const batch = n === 0 ? undefined : this.ingestor.prepareText(text, offs, 'pull');
          batch?.catch(() => {});
          return { n, lastSeq, batch };
        };
        let next: ReturnType<typeof fetchPage> | undefined = have < head ? fetchPage(have) : undefined;
        while (next && !this.stopped) {
          const page = await next;
          if (!page.batch) break;
          // Fetch the following page while this one is verified and stored.
          next = page.lastSeq < head ? fetchPage(page.lastSeq) : undefined;
          next?.catch(() => {});
          const acks = this.ingestor.commit(await page.batch, url);
          progress += acks.filter((a) => a.status === 'accepted').length;
          const now = this.store.heads()[hub] ?? -1;
          this.events.progress?.({ peer: url, hub, have: now, head });
          if (now <= have) break;
          have = now;
        }
      }
      accepted += progress;
      if (progress === 0) break;
    }
    if (accepted > 0) this.events.log?.(`pull ← ${url}: ${accepted} records`);
    return { accepted };
  }
}
