/**
 * The matching worker (worker_threads): holds one state sent by the node in
 * chunks, plans it with @shuniu/match and serves pages of the plan, so that
 * neither the plan nor the writing of proposals runs on the node's main
 * thread (spec/node.md §Matching proposals). Started by match-service.ts
 * from the compiled match-worker.js next to it.
 */
import { parentPort } from 'node:worker_threads';
import { type Catalogue, type MatchFilters, type Plan, plan, type TransitTable } from '@shuniu/match';
import type { Conflict, NeedState, OfferState, ResolvedState } from '@shuniu/resolve';

export type MatchRequest =
  | { t: 'begin'; job: number; clock: number; catalogue?: Catalogue; transit?: Partial<TransitTable> }
  /** Slices of the state as JSON texts (cheaper to send than structured clones): NeedState[], OfferState[], [id, Conflict][]. */
  | { t: 'needs'; job: number; json: string }
  | { t: 'offers'; job: number; json: string }
  | { t: 'conflicts'; job: number; json: string }
  | { t: 'plan'; id: number; job: number }
  | { t: 'page'; id: number; job: number; filters: MatchFilters; offset: number; limit: number; maxBytes: number };

export type MatchReply =
  | { t: 'planned'; id: number; job: number; size: number; ms: number }
  | { t: 'page'; id: number; job: number; total: number; count: number; next: number | null; body: string }
  | { t: 'error'; id: number; message: string };

interface Job {
  job: number;
  state: ResolvedState;
  options: { catalogue?: Catalogue; transit?: Partial<TransitTable> };
  plan?: Plan;
  /** Selected rows by filter, most recent last (a few filters page at a time). */
  selected: Map<string, number[]>;
}

let current: Job | undefined;

function jobOf(job: number): Job {
  if (current === undefined || current.job !== job) throw new Error(`match worker: job ${job} is not the one held`);
  return current;
}

function handle(m: MatchRequest): MatchReply | undefined {
  switch (m.t) {
    case 'begin': {
      const state: ResolvedState = {
        v: 1,
        clock: m.clock,
        hubs: {},
        needs: {},
        offers: {},
        allocations: {},
        shipments: {},
        conflicts: {},
        held: {},
        pending: {},
      };
      const options: Job['options'] = {};
      if (m.catalogue !== undefined) options.catalogue = m.catalogue;
      if (m.transit !== undefined) options.transit = m.transit;
      current = { job: m.job, state, options, selected: new Map() };
      return undefined;
    }
    case 'needs': {
      const s = jobOf(m.job).state;
      for (const n of JSON.parse(m.json) as NeedState[]) s.needs[n.id] = n;
      return undefined;
    }
    case 'offers': {
      const s = jobOf(m.job).state;
      for (const o of JSON.parse(m.json) as OfferState[]) s.offers[o.id] = o;
      return undefined;
    }
    case 'conflicts': {
      const s = jobOf(m.job).state;
      for (const [id, c] of JSON.parse(m.json) as [string, Conflict][]) s.conflicts[id] = c;
      return undefined;
    }
    case 'plan': {
      const j = jobOf(m.job);
      const t0 = performance.now();
      j.plan = plan(j.state, j.options);
      return { t: 'planned', id: m.id, job: m.job, size: j.plan.size, ms: performance.now() - t0 };
    }
    case 'page': {
      const j = jobOf(m.job);
      const p = j.plan;
      if (p === undefined) throw new Error('match worker: no plan yet');
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
