import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { NodeConfig } from './config.js';
import { signRequest } from './http/peer-auth.js';
import type { Ingestor } from './ingest.js';
import { memberArraySpans } from './json-spans.js';
import { type Runtime, runtimeOf, type TimerHandle, unrefTimer } from './runtime.js';
import type { PeerRow, Store } from './store/types.js';

/** How long a process's hold on a peer's push queue lasts unrenewed (several processes on one database). */
export const PUSH_LEASE_MS = 15_000;

export interface FederationEvents {
  /** Human-readable progress (push results, pulled pages); the CLI prints it. */
  log?: (msg: string) => void;
  /** Backfill progress for one hub's log pulled from a peer. */
  progress?: (p: { peer: string; hub: string; have: number; head: number }) => void;
}

/** A peer's answer, read whole within the exchange's deadline and size cap. */
interface Answer {
  status: number;
  ok: boolean;
  text: string;
}

/** What the federation read from peers (for tests and benchmarks: the cap holds while reading). */
export interface FederationStats {
  /** Exchanges that ended with an answer read whole. */
  answers: number;
  /** Exchanges cut at the deadline (`requestTimeoutMs`, headers and body). */
  timeouts: number;
  /** Answers cut because they grew past their cap (`maxAnswerBytes`, or 2 MiB for push acks and discovery). */
  oversized: number;
  /** Most bytes read off the wire for one answer (never more than maxAnswerBytes plus one chunk). */
  maxBytesRead: number;
}

/**
 * Cap of the answers that are never large — a push's acks (~200 bytes a
 * record), a discovery document — below maxAnswerBytes, which log pages need.
 */
const SMALL_ANSWER_BYTES = 2 * 1024 * 1024;
/** Pages of a peer's records beside the chains fetched in one pull (spec/node.md §9.3); the rest in the next. */
const OFFCHAIN_PAGES = 20;

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
  private readonly timers = new Map<string, TimerHandle>();
  /** One pull loop per peer (spec/node.md §9.3): its timer while it waits, its pull while it runs. */
  private readonly pullTimers = new Map<string, TimerHandle>();
  private readonly pullLoops = new Set<string>();
  private readonly pulls = new Map<string, Promise<void>>();
  /** Consecutive failed pulls per peer: its loop waits longer after each (spec/node.md §9.3). */
  private readonly pullFailures = new Map<string, number>();
  private stopped = false;
  /** Aborted by stop(): every exchange in flight ends with it (one listener per exchange, as many as there are peers and pages in flight: no listener cap). */
  private readonly life = unboundedController();
  readonly stats: FederationStats = { answers: 0, timeouts: 0, oversized: 0, maxBytesRead: 0 };
  /** Hub ids of peers whose row names none, learned from their discovery document (for echo suppression only). */
  private readonly learned = new Map<string, string>();
  private readonly rt: Runtime;
  /** Who this process is when it holds a push queue's lease. */
  private readonly holder = `${process.pid}-${randomUUID()}`;

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
    /** Transport, clock, timers and randomness (runtime.ts): the real ones unless a simulator passes its own. */
    runtime: Partial<Runtime> = {},
  ) {
    this.sem = new Semaphore(cfg.pushParallel);
    this.rt = runtimeOf(runtime);
  }

  start(): void {
    this.ingestor.onCommit(() => this.kickAll());
    this.kickAll();
  }

  /**
   * Aborts every exchange in flight and waits for the queues and pulls to
   * end: each one ends with its aborted exchange, so this takes no longer
   * than a page's commit; a bound of 3 s covers anything else.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.life.abort(new Error('federation stopped'));
    const timers = this.rt.timers;
    for (const t of this.pullTimers.values()) timers.clearTimeout(t);
    for (const t of this.timers.values()) timers.clearTimeout(t);
    let bound: TimerHandle | undefined;
    await Promise.race([
      Promise.allSettled([...this.running.values(), ...this.pulls.values()]),
      new Promise<void>((r) => {
        bound = timers.setTimeout(r, 3000);
        unrefTimer(bound);
      }),
    ]);
    timers.clearTimeout(bound);
  }

  /** Wakes every push queue (after a commit, or when peers changed) and starts the pull loop of a new peer. */
  kickAll(): void {
    const peers = this.store.peers();
    for (const p of peers) if (p.push) this.kick(p.url);
    if (this.cfg.pullIntervalMs > 0 && !this.stopped) for (const p of peers) if (p.pull && !this.pullLoops.has(p.url)) this.pullLoop(p.url, 0);
  }

  /**
   * A peer's own pull loop: a pull, then the next one `pullIntervalMs` after
   * it ended, or longer after failures (`pullIntervalMs · 2^(failures−1)`,
   * at most max(pullIntervalMs, backoffMaxMs)). A peer that stalls or
   * answers too much delays only its own loop (until its exchange's deadline
   * or cap); the others go on (issue 11 point 1).
   */
  private pullLoop(url: string, delay: number): void {
    this.pullLoops.add(url);
    const t = this.rt.timers.setTimeout(() => {
      this.pullTimers.delete(url);
      if (this.stopped || !this.peer(url)?.pull) {
        this.pullLoops.delete(url);
        return;
      }
      void this.pullPeer(url).finally(() => {
        if (this.stopped) {
          this.pullLoops.delete(url);
          return;
        }
        const failures = this.pullFailures.get(url) ?? 0;
        const every = this.cfg.pullIntervalMs;
        this.pullLoop(url, failures === 0 ? every : Math.min(Math.max(every, this.cfg.backoffMaxMs), every * 2 ** (failures - 1)));
      });
    }, delay);
    this.pullTimers.set(url, t);
  }

  /** Pulls from one peer, or joins its pull in progress; never rejects. */
  private pullPeer(url: string): Promise<void> {
    const running = this.pulls.get(url);
    if (running) return running;
    const p = this.pullFrom(url)
      .then(
        () => {
          this.pullFailures.delete(url);
        },
        (e) => {
          this.pullFailures.set(url, (this.pullFailures.get(url) ?? 0) + 1);
          if (!this.stopped) this.events.log?.(`pull ← ${url} failed: ${(e as Error).message}`);
        },
      )
      .finally(() => this.pulls.delete(url));
    this.pulls.set(url, p);
    return p;
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
   * One exchange with a peer (spec/node.md §9): the request and its whole
   * answer, under one deadline (`requestTimeoutMs`, headers and body) and a
   * size cap (`maxAnswerBytes`; 2 MiB at most for push acks and discovery
   * documents, which are never large) checked while the body is read; beyond either
   * the request is aborted, and so is every one in flight when the
   * federation stops. Every request is signed with this hub's key
   * (spec/node.md §9.4). A signed request the peer refuses with 401 is sent
   * once more unsigned, within the same deadline: the peer may not hold our
   * latest key rotation yet, and the push that carries it must still get
   * through (as an anonymous client).
   */
  private async exchange(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
    cap = this.cfg.maxAnswerBytes,
  ): Promise<Answer> {
    if (this.stopped) throw new Error('federation stopped');
    const ctl = new AbortController();
    let why = '';
    const abort = (reason: string) => {
      if (!why) why = reason;
      ctl.abort(new Error(reason));
    };
    const onStop = () => abort('federation stopped');
    this.life.signal.addEventListener('abort', onStop, { once: true });
    const t = this.rt.timers.setTimeout(() => abort(`no whole answer within ${this.cfg.requestTimeoutMs} ms`), this.cfg.requestTimeoutMs);
    const send = (signed: boolean) => {
      const method = init.method ?? 'GET';
      const headers: Record<string, string> = {
        // A hint for logs and test harnesses only: never trusted for anything (§9.2).
        'shuniu-peer': this.self.url(),
        ...(init.headers ?? {}),
        ...(signed && this.self.secretKey
          ? signRequest({ hub: this.self.hubId, secretKey: this.self.secretKey }, { method, url, body: init.body }, this.rt.now(), this.rt.sign)
          : {}),
      };
      return this.rt.transport(url, { method, headers, signal: ctl.signal, ...(init.body !== undefined ? { body: init.body } : {}) });
    };
    const read = async (res: Response): Promise<Answer> => {
      const declared = Number(res.headers.get('content-length') ?? Number.NaN);
      if (declared > cap) abort(`answer of ${declared} bytes, over its cap of ${cap} bytes`);
      const chunks: Uint8Array[] = [];
      let n = 0;
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          n += value.byteLength;
          if (n > this.stats.maxBytesRead) this.stats.maxBytesRead = n;
          if (n > cap) {
            abort(`answer longer than its cap of ${cap} bytes`);
            await reader.cancel().catch(() => {});
            break;
          }
          chunks.push(value);
        }
      }
      if (why) throw new Error(why);
      return { status: res.status, ok: res.ok, text: Buffer.concat(chunks, n).toString('utf8') };
    };
    try {
      let res = await send(true);
      if (res.status === 401 && this.self.secretKey) {
        await res.body?.cancel().catch(() => {});
        res = await send(false);
      }
      const answer = await read(res);
      this.stats.answers++;
      return answer;
    } catch (e) {
      if (why.startsWith('no whole answer')) this.stats.timeouts++;
      else if (why.includes('its cap of')) this.stats.oversized++;
      throw why ? new Error(why) : e;
    } finally {
      this.rt.timers.clearTimeout(t);
      this.life.signal.removeEventListener('abort', onStop);
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
      const res = await this.exchange(`${peer.url}/.well-known/shuniu`, {}, Math.min(this.cfg.maxAnswerBytes, SMALL_ANSWER_BYTES));
      let hub: unknown;
      try {
        hub = res.ok ? (JSON.parse(res.text) as { hub?: unknown }).hub : undefined;
      } catch {
        hub = undefined;
      }
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
      // The next attempt's time was stored by this node's clock: after that clock went back (a
      // restart on another machine, a correction) it is still never further off than the longest
      // wait of the rule (spec/node.md §9.2; found by test/sim, seeds/clock-back-push-wait.json).
      const now = this.rt.now();
      const longest = peer.parked ? this.cfg.parkMs : Math.ceil(1.25 * this.cfg.backoffMaxMs);
      let wait = peer.nextAttemptMs - now;
      if (wait > longest) {
        wait = longest;
        this.store.updatePeer(url, { nextAttemptMs: now + longest });
      }
      if (wait > 0) {
        // Parked or backing off: retry later by itself, costing nobody else anything.
        if (!this.timers.has(url)) {
          const t = this.rt.timers.setTimeout(() => {
            this.timers.delete(url);
            this.kick(url);
          }, wait);
          unrefTimer(t);
          this.timers.set(url, t);
        }
        return;
      }
      // Records that came from this peer are skipped in the query, without reading them: those
      // pulled from its URL and those it pushed with a signature of its hub (spec/node.md §9.2).
      const hub = await this.peerHub(peer);
      if (this.stopped) return;
      // Several processes on one database (PostgreSQL): one works this queue at a time, under a
      // lease renewed at each batch; when its holder dies it passes on after PUSH_LEASE_MS.
      let cursor = peer.cursor;
      if (this.store.lease) {
        if (!this.store.lease(`push ${url}`, this.holder, PUSH_LEASE_MS)) {
          if (!this.timers.has(url)) {
            const t = this.rt.timers.setTimeout(() => {
              this.timers.delete(url);
              this.kick(url);
            }, PUSH_LEASE_MS);
            unrefTimer(t);
            this.timers.set(url, t);
          }
          return;
        }
        cursor = this.peer(url)?.cursor ?? cursor;
      }
      const { rows, through: last } = this.store.outbound(cursor, hub ? [url, `hub:${hub}`] : url, this.cfg.pushBatch);
      if (rows.length === 0) {
        if (last > cursor) this.store.updatePeer(url, { cursor: last });
        return;
      }
      const release = await this.sem.acquire();
      try {
        const res = await this.exchange(
          `${url}/v1/records`,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${rows.map((r) => r.json).join(',')}]` },
          Math.min(this.cfg.maxAnswerBytes, SMALL_ANSWER_BYTES),
        );
        if (res.status === 429 || res.status >= 500) throw new Error(`HTTP ${res.status}`);
        const body = JSON.parse(res.text) as { summary?: Record<string, number> };
        // A 4xx other than 429 would fail again identically: move past it
        // and let the peer's scheduled pull fetch whatever it still lacks.
        this.store.updatePeer(url, { cursor: last, failures: 0, nextAttemptMs: 0, parked: false, lastError: res.ok ? null : `HTTP ${res.status}` });
        this.events.log?.(`push → ${url}: ${rows.length} records ${JSON.stringify(body.summary ?? {})}`);
      } catch (e) {
        if (this.stopped) return;
        const failures = peer.failures + 1;
        const parked = failures >= this.cfg.parkAfter;
        const delay = parked ? this.cfg.parkMs : Math.min(this.cfg.backoffMaxMs, this.cfg.backoffBaseMs * 2 ** (failures - 1)) * (0.75 + this.rt.random() / 2);
        this.store.updatePeer(url, { failures, parked, nextAttemptMs: this.rt.now() + Math.round(delay), lastError: (e as Error).message });
        this.events.log?.(`push → ${url} failed (${(e as Error).message}); ${parked ? 'parked' : 'retry'} in ${Math.round(delay)} ms`);
      } finally {
        release();
      }
    }
  }

  /** One pull from every peer that allows it, each on its own (a pull already running for a peer is joined). */
  async pullAll(): Promise<void> {
    await Promise.all(
      this.store
        .peers()
        .filter((p) => p.pull)
        .map((p) => this.pullPeer(p.url)),
    );
  }

  /**
   * Catches up from one peer: exchange heads, fetch the missing range of each
   * hub in pages, repeat while something new was accepted (an admission met
   * in one round can open a hub's log in the next).
   */
  async pullFrom(url: string): Promise<{ accepted: number }> {
    let accepted = 0;
    let offChain: { count: number; last: number } | undefined;
    for (let round = 0; round < 6 && !this.stopped; round++) {
      const res = await this.exchange(`${url}/v1/heads`);
      if (!res.ok) throw new Error(`heads: HTTP ${res.status}`);
      const answer = JSON.parse(res.text) as { heads: Record<string, number>; offChain?: { count: number; last: number } };
      const theirs = answer.heads;
      offChain = answer.offChain;
      let progress = 0;
      // Hubs already trusted first: their admissions open the others' logs,
      // which then need no holding and releasing.
      const order = Object.entries(theirs).sort(([a], [b]) => Number(this.trusted(b)) - Number(this.trusted(a)));
      // This store's heads, read once for the hubs met without waiting for anything, and again
      // after a page was awaited (this pull's commits and others' may have moved them).
      let mine: Record<string, number> | undefined;
      for (const [hub, head] of order) {
        if (this.stopped) break;
        if (this.store.isBlocked(hub)) continue;
        mine ??= this.store.heads();
        let have = mine[hub] ?? -1;
        // Each page's records go to the worker pool as soon as the page
        // arrives, so the workers read page N+1 while page N commits.
        const fetchPage = async (after: number) => {
          const page = await this.exchange(`${url}/v1/hubs/${hub}/log?after=${after}&limit=${this.cfg.pullPage}`);
          if (!page.ok) throw new Error(`log: HTTP ${page.status}`);
          const text = page.text;
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
        if (next) mine = undefined;
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
    if (!this.stopped) accepted += await this.pullOffChain(url, offChain);
    if (accepted > 0) this.events.log?.(`pull ← ${url}: ${accepted} records`);
    return { accepted };
  }

  /** Per peer, the peer's ingest order up to which its records beside the chains were fetched (in memory: after a restart they are fetched once more; they are few). */
  private readonly offChainSeen = new Map<string, number>();

  /**
   * After the chain logs, the records the peer stores beside the chains (fork proofs, a forked
   * hub's other branch, what a recovery cut off), which no log has: without them a node that
   * only pulls would never hold the same set as its peers (spec/node.md §9.3). Fetched when the
   * peer's heads name some past what was fetched from it, at most OFFCHAIN_PAGES pages a pull.
   */
  private async pullOffChain(url: string, theirs: { count: number; last: number } | undefined): Promise<number> {
    if (!theirs || !(theirs.count > 0)) return 0;
    let after = this.offChainSeen.get(url) ?? 0;
    if (!(theirs.last > after)) return 0;
    let accepted = 0;
    for (let page = 0; page < OFFCHAIN_PAGES && !this.stopped; page++) {
      const res = await this.exchange(`${url}/v1/offchain?after=${after}&limit=${this.cfg.pullPage}`);
      if (!res.ok) throw new Error(`offchain: HTTP ${res.status}`);
      const text = res.text;
      const offs = memberArraySpans(text, 'records');
      if (!offs) throw new Error('offchain: not a page of records');
      const next = (JSON.parse(text) as { next?: unknown }).next;
      if (offs.length > 0) {
        const acks = this.ingestor.commit(await this.ingestor.prepareText(text, offs, 'pull'), url);
        accepted += acks.filter((a) => a.status === 'accepted').length;
      }
      if (typeof next !== 'number' || !(next > after)) {
        after = Math.max(after, theirs.last);
        break;
      }
      after = next;
    }
    this.offChainSeen.set(url, after);
    return accepted;
  }
}

/** An AbortController whose signal takes any number of listeners (Node warns past 10). */
function unboundedController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
