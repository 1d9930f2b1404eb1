import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Catalogue, type MatchFilters, needIsOpen, offerIsOpen, type TransitTable } from '@shuniu/match';
import type { Conflict, NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import type { MatchReply, MatchRequest } from './match-worker.js';

/**
 * The worker's code: the compiled match-worker.js next to this module. From
 * the TypeScript sources (vitest, tsx) it is the one `tsc --build` wrote to
 * dist; nothing is bundled at run time.
 */
function workerFile(): string {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/match-worker.js', here) : new URL('./match-worker.js', here);
  return fileURLToPath(url);
}

export interface MatchServiceOptions {
  /** The node's current resolved state (read on the main thread, in slices, when a plan is made). */
  state(): ResolvedState;
  /** The state's version: equal versions give equal plans (the resolver's state hash). */
  version(): string;
  /** Longest a plan (or a page of it) may take in the worker before it is terminated (config limits.matchBudgetMs). */
  budgetMs: number;
  catalogue?: Catalogue;
  transit?: Partial<TransitTable>;
  /** Needs or offers per message to the worker: the main thread yields between slices. */
  slice?: number;
  /** Answer from the plan held, of an earlier version, if made less than this many ms ago (default 0: always the current version). */
  staleMs?: number;
  /** Pages kept per version (least recently used go first). */
  cachePages?: number;
  workerFile?: string;
}

export interface PageQuery {
  filters: MatchFilters;
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

/** Why no page: the plan took longer than the budget (the node answers 503 with Retry-After). */
export class MatchBudgetError extends Error {
  constructor(
    readonly version: string,
    readonly budgetMs: number,
  ) {
    super(
      `matching proposals took longer than limits.matchBudgetMs (${budgetMs} ms) at state version ${version}; they will be tried again once the state changes`,
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
 * const m = new MatchService({ state: () => engine.resolved(), version: () => engine.stateHash(), budgetMs: 10_000 });
 * const page = await m.page({ filters: { region: '4201' }, offset: 0, limit: 500, maxBytes: 8 << 20 });
 */
export class MatchService {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: MatchReply) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private nextJob = 1;
  private current: PlanJob | undefined;
  private held: PlanJob | undefined;
  private overBudget: string | undefined;
  private readonly pages = new Map<string, Page>();
  private closed = false;
  /** Counters, for tests and benches: plans made, pages computed and served from cache, budget overruns, the last plan's time in the worker and size. */
  readonly stats = { plans: 0, pagesComputed: 0, pagesCached: 0, overBudget: 0, lastPlanMs: 0, lastProposals: 0 };

  constructor(private readonly opts: MatchServiceOptions) {}

  /** Whether a plan is being made now. */
  get planning(): boolean {
    return this.current !== undefined;
  }

  /** One page of the plan of the version to serve (versionToServe()). */
  async page(q: PageQuery): Promise<Page> {
    const version = this.versionToServe();
    const key = `${version}\u0000${JSON.stringify(q)}`;
    const hit = this.pages.get(key);
    if (hit !== undefined) {
      this.pages.delete(key);
      this.pages.set(key, hit);
      this.stats.pagesCached++;
      return hit;
    }
    // The plan of the version asked for, even if the state moves on meanwhile: its answer names that version.
    const job = await this.planFor(version);
    const reply = await this.call({ t: 'page', id: 0, job: job.job, filters: q.filters, offset: q.offset, limit: q.limit, maxBytes: q.maxBytes }, job.version);
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
    this.pages.set(`${job.version}\u0000${JSON.stringify(q)}`, page);
    return page;
  }

  /**
   * The version a request is answered at: the current one, or, with
   * `staleMs`, the version of the plan held if it was made less than
   * `staleMs` ago (a node under a stream of writes then plans at most once
   * per `staleMs`).
   */
  versionToServe(): string {
    const version = this.opts.version();
    const held = this.held;
    const stale = this.opts.staleMs ?? 0;
    if (held !== undefined && held.version !== version && stale > 0 && performance.now() - held.madeAt < stale) return held.version;
    return version;
  }

  /** The plan of `version`, made (once, whoever asks) if the worker does not hold it. */
  private async planFor(version: string): Promise<PlanJob> {
    for (;;) {
      if (this.held?.version === version) return this.held;
      if (this.overBudget === version) throw new MatchBudgetError(version, this.opts.budgetMs);
      const p = this.current;
      if (p === undefined) break;
      // One plan at a time: wait for the one under way, then look again.
      await p.done.catch(() => undefined);
      if (p.version === version && this.held === p) return p;
    }
    // The plan is of the state as it is now, which may be newer than the version asked for after a wait: it is labelled so.
    const now = this.opts.version();
    if (now !== version && this.overBudget === now) throw new MatchBudgetError(now, this.opts.budgetMs);
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
      this.overBudget = job.version;
      this.stats.overBudget++;
      this.kill(e);
      throw e;
    };
    this.held = undefined;
    const w = this.ensureWorker();
    const state = this.opts.state();
    job.clock = state.clock;
    const slice = this.opts.slice ?? 1000;
    const begin: MatchRequest = { t: 'begin', job: job.job, clock: state.clock };
    if (this.opts.catalogue !== undefined) begin.catalogue = this.opts.catalogue;
    if (this.opts.transit !== undefined) begin.transit = this.opts.transit;
    w.postMessage(begin);
    // Only what the engine reads: open needs (and every need a duplicate conflict names), open offers, duplicate conflicts.
    const conflicts: [string, Conflict][] = [];
    const named = new Set<string>();
    for (const id of Object.keys(state.conflicts)) {
      const c = state.conflicts[id] as Conflict;
      if (c.rule === 'duplicate_need') {
        conflicts.push([id, c]);
        named.add(id.slice(0, id.indexOf('/')));
        for (const r of c.records) named.add(r);
      }
    }
    const lean = (n: NeedState): NeedState => ({ ...n, allocations: [], deliveries: [], updates: [] });
    const send = async <T>(t: 'needs' | 'offers', all: Record<string, T>, keep: (x: T) => boolean, map: (x: T) => T) => {
      const ids = Object.keys(all);
      for (let i = 0; i < ids.length; i += slice) {
        over();
        const items: T[] = [];
        for (let k = i; k < ids.length && k < i + slice; k++) {
          const x = all[ids[k] as string] as T;
          if (keep(x)) items.push(map(x));
        }
        w.postMessage({ t, job: job.job, json: JSON.stringify(items) } satisfies MatchRequest);
        await yieldToLoop();
      }
    };
    await send('needs', state.needs, (n) => needIsOpen(n) || named.has(n.id), lean);
    await send(
      'offers',
      state.offers,
      (o: OfferState) => offerIsOpen(o, state.clock),
      (o) => ({ ...o, allocations: [], updates: [] }),
    );
    for (let i = 0; i < conflicts.length; i += slice) {
      w.postMessage({ t: 'conflicts', job: job.job, json: JSON.stringify(conflicts.slice(i, i + slice)) } satisfies MatchRequest);
      await yieldToLoop();
    }
    over();
    const reply = await this.call({ t: 'plan', id: 0, job: job.job }, job.version, deadline - performance.now());
    if (reply.t !== 'planned') throw new Error(`match worker answered ${reply.t} to a plan`);
    this.stats.plans++;
    this.stats.lastPlanMs = reply.ms;
    this.stats.lastProposals = reply.size;
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
          this.overBudget = version;
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
    const file = this.opts.workerFile ?? workerFile();
    if (!existsSync(file)) throw new Error(`match worker ${file} is missing: build the node first (tsc --build)`);
    // The compiled worker resolves compiled packages: drop a `--conditions` (e.g. @shuniu/source under vitest or tsx) it would inherit.
    const execArgv = process.execArgv.filter((a, i, all) => !/^(--conditions|-C)(=|$)/.test(a) && !/^(--conditions|-C)$/.test(all[i - 1] ?? ''));
    const w = new Worker(file, { execArgv });
    w.unref();
    w.on('message', (r: MatchReply) => {
      const p = this.waiting.get(r.id);
      if (p === undefined) return;
      this.waiting.delete(r.id);
      p.resolve(r);
    });
    const fail = (e: unknown) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.held = undefined;
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
    void w.terminate();
    for (const p of this.waiting.values()) p.reject(reason);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.kill();
    if (w !== undefined) await w.terminate();
  }
}
