import { Worker } from 'node:worker_threads';
import type { Catalogue, MatchFilters, TransitTable } from '@shuniu/match';
import { ShuniuError } from '@shuniu/protocol';
import type { Conflict, NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import type { MatchCollection, MatchReply, MatchRequest } from './match-worker.js';
import { compiledWorker } from './worker-file.js';

/**
 * What the engine reads of the node's resolved state, without copying it: the
 * record clock and the entries of three maps. A value is replaced, never
 * mutated, when it changes (the resolver's views are), so the service sends
 * the worker only the entries whose object changed since the last plan.
 */
export interface MatchSource {
  clock(): number;
  entries(name: 'needs'): Iterable<[string, NeedState]>;
  entries(name: 'offers'): Iterable<[string, OfferState]>;
  entries(name: 'conflicts'): Iterable<[string, Conflict]>;
}

/** A MatchSource over a plain resolved state (tests, benches, `shuniu match --state`). */
export function stateSource(state: ResolvedState | (() => ResolvedState)): MatchSource {
  const get = typeof state === 'function' ? state : () => state;
  return {
    clock: () => get().clock,
    entries: ((name: MatchCollection) => Object.entries(get()[name])) as MatchSource['entries'],
  };
}

export interface MatchServiceOptions {
  /** The node's current resolved state, read on the main thread when a plan is made (only the entries changed since the last plan are sent). */
  source: MatchSource;
  /** The state's version: equal versions give equal plans (the resolver's state hash). */
  version(): string;
  /** Longest a plan (or a page of it) may take in the worker before it is terminated (config limits.matchBudgetMs). */
  budgetMs: number;
  catalogue?: Catalogue;
  transit?: Partial<TransitTable>;
  /** Entries per message to the worker, and entries compared between two yields of the main thread. */
  slice?: number;
  /** Answer from the plan held, of an earlier version, if made less than this many ms ago (default 0: always the current version). */
  staleMs?: number;
  /** Most old-generation heap the worker may use, in MiB (its isolate's resourceLimits); a plan that needs more ends as one over budget. Unset: V8's default. */
  heapMb?: number;
  /** Pages kept per version (least recently used go first). */
  cachePages?: number;
  workerFile?: string;
}

export interface PageQuery {
  filters: MatchFilters;
  /** The current version, never a held plan of an earlier one (operators, who sign what they read). */
  fresh?: boolean;
  /** The version to serve when the caller already asked versionToServe() (its ETag check), so it is not looked up twice. */
  version?: string;
  offset: number;
  limit: number;
  maxBytes: number;
}

export interface Page {
  version: string;
  clock: number;
  total: number;
  offset: number;
  count: number;
  next: number | null;
  /** The proposals as a JSON array text. */
  body: string;
}

/** Why no page: the plan took longer than the time budget, or more memory than the worker may use (the node answers 503 with Retry-After). */
export class MatchBudgetError extends Error {
  constructor(
    readonly version: string,
    readonly budgetMs: number,
    readonly heapMb?: number,
  ) {
    super(
      heapMb === undefined
        ? `matching proposals took longer than limits.matchBudgetMs (${budgetMs} ms) at state version ${version}; they will be tried again once the state changes`
        : `matching proposals needed more memory than limits.matchHeapMb (${heapMb} MiB) at state version ${version}; they will be tried again once the state changes`,
    );
  }
}

interface PlanJob {
  version: string;
  job: number;
  clock: number;
  /** performance.now() when the plan was made. */
  madeAt: number;
  done: Promise<void>;
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Matching proposals off the main thread (spec/node.md §Matching
 * proposals): one worker thread holds the plan of one state version; one
 * plan is made at a time and every request for that version shares it;
 * pages are cached per version; a plan or page that takes longer than the
 * budget terminates the worker, and the version is marked over budget until
 * the state changes.
 *
 * @example
 * const m = new MatchService({ source: stateSource(() => engine.resolved()), version: () => engine.stateHash(), budgetMs: 10_000 });
 * const page = await m.page({ filters: { region: '4201' }, offset: 0, limit: 500, maxBytes: 8 << 20 });
 */
export class MatchService {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: MatchReply) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private nextJob = 1;
  private current: PlanJob | undefined;
  private held: PlanJob | undefined;
  /** The version last found over budget, and why. */
  private overBudget: MatchBudgetError | undefined;
  private readonly pages = new Map<string, Page>();
  /** What the worker's replica holds: each entry's object as last sent (compared by identity), and the sync in which it was last seen. */
  private readonly sent: { [K in MatchCollection]: Map<string, { value: unknown; seen: number }> } = {
    needs: new Map(),
    offers: new Map(),
    conflicts: new Map(),
  };
  private syncs = 0;
  private closed = false;
  /** Counters, for tests and benches: plans made, pages computed and served from cache, budget overruns, the last plan's time in the worker, its size and the worker's heap after it (MiB). */
  readonly stats = {
    plans: 0,
    pagesComputed: 0,
    pagesCached: 0,
    overBudget: 0,
    lastPlanMs: 0,
    lastProposals: 0,
    lastSent: 0,
    lastRemoved: 0,
    lastPlanHeapMb: 0,
  };

  constructor(private readonly opts: MatchServiceOptions) {}

  /** Whether a plan is being made now. */
  get planning(): boolean {
    return this.current !== undefined;
  }

  /** One page of the plan of the version to serve (versionToServe()). */
  async page(q: PageQuery): Promise<Page> {
    const version = q.version ?? this.versionToServe(q.fresh);
    // Pages are keyed by what they hold: `fresh` only chose the version.
    const what = JSON.stringify([q.filters, q.offset, q.limit, q.maxBytes]);
    const key = `${version}\u0000${what}`;
    const hit = this.pages.get(key);
    if (hit !== undefined) {
      this.pages.delete(key);
      this.pages.set(key, hit);
      this.stats.pagesCached++;
      return hit;
    }
    // The plan of the version asked for, even if the state moves on meanwhile: its answer names that version.
    let job = await this.planFor(version, q.fresh);
    let reply = await this.call({ t: 'page', id: 0, job: job.job, filters: q.filters, offset: q.offset, limit: q.limit, maxBytes: q.maxBytes }, job.version);
    // The worker holds one plan: one begun since this was asked replaced it. The page is of the plan held now (its answer names its version).
    for (let tries = 0; reply.t === 'gone' && tries < 3; tries++) {
      if (this.held?.job === reply.job) this.held = undefined;
      job = await this.planFor(this.versionToServe(q.fresh), q.fresh);
      reply = await this.call({ t: 'page', id: 0, job: job.job, filters: q.filters, offset: q.offset, limit: q.limit, maxBytes: q.maxBytes }, job.version);
    }
    if (reply.t === 'gone')
      // Plans replaced faster than a page could be asked of one: the node declines now, the caller asks again.
      throw new ShuniuError('E_BUSY', 'matching plans were replaced while this page was asked; ask again', { detail: { retryAfter: 1 } });
    if (reply.t !== 'page') throw new Error(`match worker answered ${reply.t} to a page`);
    const page: Page = {
      version: job.version,
      clock: job.clock,
      total: reply.total,
      offset: q.offset,
      count: reply.count,
      next: reply.next,
      body: reply.body,
    };
    this.stats.pagesComputed++;
    const keep = this.opts.cachePages ?? 64;
    for (const k of this.pages.keys()) if (!k.startsWith(`${job.version}\u0000`) || this.pages.size >= keep) this.pages.delete(k);
    this.pages.set(`${job.version}\u0000${what}`, page);
    return page;
  }

  /**
   * The version a request is answered at: the current one, or, with
   * `staleMs`, the version of the plan held if it was made less than
   * `staleMs` ago or while the next plan is being made (a node under a
   * stream of writes then plans at most once per `staleMs`, and readers never
   * wait for a plan when one is held).
   */
  versionToServe(fresh = false): string {
    const version = this.opts.version();
    const held = this.held;
    const stale = fresh ? 0 : (this.opts.staleMs ?? 0);
    if (held === undefined || held.version === version || stale <= 0) return version;
    // Recent enough, or the next plan is being made: the held plan, labelled with its own version.
    if (performance.now() - held.madeAt < stale || this.current !== undefined) return held.version;
    return version;
  }

  /** The plan of `version`, made (once, whoever asks) if the worker does not hold it. */
  private async planFor(version: string, fresh = false): Promise<PlanJob> {
    let want = version;
    for (;;) {
      if (this.held?.version === want) return this.held;
      if (this.overBudget?.version === want) throw this.overBudget;
      const p = this.current;
      if (p === undefined) break;
      // One plan at a time: wait for the one under way, then look again.
      await p.done.catch(() => undefined);
      if (this.held === p && (p.version === want || !fresh)) {
        // A reader that may get a held plan takes the one just made (made after it asked); an operator only the version it asked for.
        return p;
      }
      want = this.versionToServe(fresh);
    }
    // The plan is of the state as it is now, which may be newer than the version asked for after a wait: it is labelled so.
    const now = this.opts.version();
    if (now !== version && this.overBudget?.version === now) throw this.overBudget;
    const job: PlanJob = { version: now, job: this.nextJob++, clock: 0, madeAt: 0, done: Promise.resolve() };
    job.done = this.makePlan(job);
    this.current = job;
    try {
      await job.done;
      job.madeAt = performance.now();
      this.held = job;
      return job;
    } finally {
      if (this.current === job) this.current = undefined;
    }
  }

  private async makePlan(job: PlanJob): Promise<void> {
    const started = performance.now();
    const deadline = started + this.opts.budgetMs;
    const over = () => {
      if (performance.now() <= deadline) return;
      const e = new MatchBudgetError(job.version, this.opts.budgetMs);
      this.overBudget = e;
      this.stats.overBudget++;
      this.kill(e);
      throw e;
    };
    // The plan held stays served (with staleMs) until this one is made: the worker keeps both.
    this.ensureWorker();
    // A pass that yields (the whole state, the first time); if the state moved meanwhile, one that
    // does not, after which the replica is exactly the state of the version the plan is labelled with.
    const before = this.opts.version();
    await this.sync(over, true);
    job.version = this.opts.version();
    if (job.version !== before) {
      await this.sync(over, false);
      job.version = this.opts.version();
    }
    job.clock = this.opts.source.clock();
    over();
    const req: MatchRequest & { id: number } = { t: 'plan', id: 0, job: job.job, clock: job.clock };
    if (this.opts.catalogue !== undefined) req.catalogue = this.opts.catalogue;
    if (this.opts.transit !== undefined) req.transit = this.opts.transit;
    const reply = await this.call(req, job.version, deadline - performance.now());
    if (reply.t !== 'planned') throw new Error(`match worker answered ${reply.t} to a plan`);
    this.stats.plans++;
    this.stats.lastPlanMs = reply.ms;
    this.stats.lastProposals = reply.size;
    this.stats.lastPlanHeapMb = reply.heapMb;
  }

  /**
   * Brings the worker's replica up to the current state: the entries whose
   * object is not the one last sent (needs without their lists of
   * allocations, deliveries and updates, which the engine does not read; only
   * duplicate_need conflicts), and the ids gone. The main thread yields every
   * `slice` entries.
   */
  private async sync(over: () => void, yielding: boolean): Promise<void> {
    const slice = this.opts.slice ?? 1000;
    const w = this.worker;
    const pause = async () => {
      if (!yielding) return;
      await yieldToLoop();
      over();
      // The worker died meanwhile: its successor starts empty and what was marked sent is forgotten.
      if (this.worker !== w) throw new Error('match worker restarted during a plan');
    };
    const sync = ++this.syncs;
    let sentCount = 0;
    let removedCount = 0;
    const lean = {
      needs: (n: unknown) => ({ ...(n as NeedState), allocations: [], deliveries: [], updates: [] }),
      offers: (o: unknown) => ({ ...(o as OfferState), allocations: [], updates: [] }),
      conflicts: (c: unknown) => c,
    };
    for (const coll of ['needs', 'offers', 'conflicts'] as const) {
      const sent = this.sent[coll];
      let out: [string, unknown][] = [];
      let seen = 0;
      let looked = 0;
      const flush = async () => {
        if (out.length > 0) w?.postMessage({ t: 'upsert', coll, json: JSON.stringify(out) } satisfies MatchRequest);
        sentCount += out.length;
        out = [];
        await pause();
      };
      for (const [id, value] of this.opts.source.entries(coll as 'needs') as Iterable<[string, unknown]>) {
        if (coll === 'conflicts' && (value as Conflict).rule !== 'duplicate_need') continue;
        seen++;
        const had = sent.get(id);
        if (had === undefined) sent.set(id, { value, seen: sync });
        else {
          had.seen = sync;
          if (had.value === value) {
            if (++looked % (slice * 10) === 0) await pause();
            continue;
          }
          had.value = value;
        }
        out.push([id, lean[coll](value)]);
        if (out.length >= slice) await flush();
      }
      await flush();
      if (seen < sent.size) {
        const gone: string[] = [];
        for (const [id, e] of sent) if (e.seen !== sync) gone.push(id);
        for (const id of gone) sent.delete(id);
        for (let i = 0; i < gone.length; i += slice * 10) w?.postMessage({ t: 'remove', coll, ids: gone.slice(i, i + slice * 10) } satisfies MatchRequest);
        removedCount += gone.length;
      }
    }
    if (yielding) {
      this.stats.lastSent = sentCount;
      this.stats.lastRemoved = removedCount;
    } else {
      this.stats.lastSent += sentCount;
      this.stats.lastRemoved += removedCount;
    }
  }

  /** Sends a request and waits for its answer, terminating the worker if it takes longer than the budget. */
  private call(m: MatchRequest & { id: number }, version: string, budgetMs = this.opts.budgetMs): Promise<MatchReply> {
    const w = this.ensureWorker();
    const id = this.nextId++;
    m.id = id;
    return new Promise<MatchReply>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const e = new MatchBudgetError(version, this.opts.budgetMs);
          this.overBudget = e;
          this.stats.overBudget++;
          this.kill(e);
        },
        Math.max(0, budgetMs),
      );
      this.waiting.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          if (r.t === 'error') reject(new Error(`match worker: ${r.message}`));
          else resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      w.postMessage(m);
    });
  }

  private ensureWorker(): Worker {
    if (this.closed) throw new Error('match service closed');
    if (this.worker !== undefined) return this.worker;
    const [compiled, { execArgv }] = compiledWorker('match-worker', import.meta.url);
    const w = new Worker(this.opts.workerFile ?? compiled, {
      execArgv,
      ...(this.opts.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.opts.heapMb } } : {}),
    });
    w.unref();
    w.on('message', (r: MatchReply) => {
      const p = this.waiting.get(r.id);
      if (p === undefined) return;
      this.waiting.delete(r.id);
      p.resolve(r);
    });
    const fail = (err: unknown) => {
      if (this.worker !== w) return;
      let e = err;
      const plan = this.current;
      if ((err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY' && plan !== undefined) {
        // Over the worker's memory: as over the time budget, this version is not planned again.
        const over = new MatchBudgetError(plan.version, this.opts.budgetMs, this.opts.heapMb);
        e = over;
        this.overBudget = over;
        this.stats.overBudget++;
      }
      this.worker = undefined;
      this.held = undefined;
      this.forget();
      for (const p of this.waiting.values()) p.reject(e);
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`match worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  /** Terminates the worker (a plan over budget, or close): whatever it held is gone. */
  private kill(reason: unknown = new Error('match worker terminated')): void {
    const w = this.worker;
    if (w === undefined) return;
    this.worker = undefined;
    this.held = undefined;
    this.forget();
    void w.terminate();
    for (const p of this.waiting.values()) p.reject(reason);
    this.waiting.clear();
  }

  /** A new worker starts with an empty replica. */
  private forget(): void {
    for (const m of Object.values(this.sent)) m.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.kill();
    if (w !== undefined) await w.terminate();
  }
}
