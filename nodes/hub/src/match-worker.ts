/**
 * The matching worker (worker_threads): holds a replica of what the engine
 * reads (needs, offers, duplicate conflicts), kept current by the node with
 * changes only, plans it with @shuniu/match and serves pages of the plan, so
 * that neither the plan nor the writing of proposals runs on the node's main
 * thread (spec/node.md §6.1). Started by match-service.ts from the compiled
 * match-worker.js next to it.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { type Catalogue, type MatchFilters, needIsOpen, offerIsOpen, type Plan, plan, type TransitTable } from '@shuniu/match';
import type { Conflict, NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { lowerThreadPriority } from './worker-file.js';

/** The replicated collections. */
export type MatchCollection = 'needs' | 'offers' | 'conflicts';

export type MatchRequest =
  /** Changed or new entries as a JSON text of [id, value][] (cheaper to send than structured clones): NeedState, OfferState or Conflict. */
  | { t: 'upsert'; coll: MatchCollection; json: string }
  /** Entries gone from the node's state. */
  | { t: 'remove'; coll: MatchCollection; ids: string[] }
  | { t: 'plan'; id: number; job: number; clock: number; catalogue?: Catalogue; transit?: Partial<TransitTable> }
  | { t: 'page'; id: number; job: number; filters: MatchFilters; offset: number; limit: number; maxBytes: number };

export type MatchReply =
  | { t: 'planned'; id: number; job: number; size: number; ms: number; heapMb: number }
  | { t: 'page'; id: number; job: number; total: number; count: number; next: number | null; body: string }
  /** The plan of `job` is no longer held (a newer one replaced it): the service asks the newer plan. */
  | { t: 'gone'; id: number; job: number }
  | { t: 'error'; id: number; message: string };

interface Job {
  job: number;
  plan: Plan;
  /** Selected rows by filter, most recent last (a few filters page at a time). */
  selected: Map<string, Int32Array>;
}

// Plans grow with the data: this thread yields the CPU to the main one, which answers operators and peers.
lowerThreadPriority();

const replica: { [K in MatchCollection]: Map<string, unknown> } = { needs: new Map(), offers: new Map(), conflicts: new Map() };
/**
 * The plan held: the newest one only. The previous one goes when the next is
 * begun (a plan of 60,000 needs × 2,000 offers is tens of megabytes; the
 * worker answers one message at a time, so a page asked of it meanwhile would
 * wait anyway), and a page asked of it is answered `gone`, which the service
 * asks again of the newer plan (offsets refer to one version: spec/node.md §6.1).
 */
const jobs = new Map<number, Job>();

/** The part of the resolved state the engine reads: open needs (and every need a duplicate conflict names), open offers, duplicate conflicts. */
function stateOf(clock: number): ResolvedState {
  const state: ResolvedState = { v: 1, clock, hubs: {}, needs: {}, offers: {}, allocations: {}, shipments: {}, conflicts: {}, held: {}, pending: {} };
  const named = new Set<string>();
  for (const [id, c] of replica.conflicts) {
    state.conflicts[id] = c as Conflict;
    named.add(id.slice(0, id.indexOf('/')));
    for (const r of (c as Conflict).records) named.add(r);
  }
  for (const [id, n] of replica.needs) if (needIsOpen(n as NeedState) || named.has(id)) state.needs[id] = n as NeedState;
  for (const [id, o] of replica.offers) if (offerIsOpen(o as OfferState, clock)) state.offers[id] = o as OfferState;
  return state;
}

function handle(m: MatchRequest): MatchReply | undefined {
  switch (m.t) {
    case 'upsert': {
      const r = replica[m.coll];
      for (const [id, v] of JSON.parse(m.json) as [string, unknown][]) r.set(id, v);
      return undefined;
    }
    case 'remove': {
      const r = replica[m.coll];
      for (const id of m.ids) r.delete(id);
      return undefined;
    }
    case 'plan': {
      const t0 = performance.now();
      const options: { catalogue?: Catalogue; transit?: Partial<TransitTable> } = {};
      if (m.catalogue !== undefined) options.catalogue = m.catalogue;
      if (m.transit !== undefined) options.transit = m.transit;
      // The previous plan goes first: the worker answers one message at a time, so pages asked of
      // it meanwhile would wait for this plan anyway, and two plans at once are the worker's peak.
      jobs.clear();
      const p = plan(stateOf(m.clock), options);
      jobs.set(m.job, { job: m.job, plan: p, selected: new Map() });
      return { t: 'planned', id: m.id, job: m.job, size: p.size, ms: performance.now() - t0, heapMb: Math.round(getHeapStatistics().used_heap_size / 2 ** 20) };
    }
    case 'page': {
      const j = jobs.get(m.job);
      if (j === undefined) return { t: 'gone', id: m.id, job: m.job };
      const p = j.plan;
      const key = JSON.stringify(m.filters);
      let rows = j.selected.get(key);
      if (rows === undefined) {
        rows = p.select(m.filters);
        if (j.selected.size >= 16) j.selected.delete(j.selected.keys().next().value as string);
      } else j.selected.delete(key);
      j.selected.set(key, rows);
      // Whole proposals up to `limit` and `maxBytes` of JSON; at least one, so that a page always moves on.
      const parts: string[] = [];
      let bytes = 2;
      let k = m.offset;
      for (; k < rows.length && parts.length < m.limit; k++) {
        const text = JSON.stringify(p.proposal(rows[k] as number));
        const size = Buffer.byteLength(text) + 1;
        if (parts.length > 0 && bytes + size > m.maxBytes) break;
        parts.push(text);
        bytes += size;
      }
      return { t: 'page', id: m.id, job: m.job, total: rows.length, count: parts.length, next: k < rows.length ? k : null, body: `[${parts.join(',')}]` };
    }
  }
}

parentPort?.on('message', (m: MatchRequest) => {
  try {
    const reply = handle(m);
    if (reply !== undefined) parentPort?.postMessage(reply);
  } catch (e) {
    const id = 'id' in m ? m.id : -1;
    parentPort?.postMessage({ t: 'error', id, message: (e as Error)?.message ?? String(e) } satisfies MatchReply);
  }
});
