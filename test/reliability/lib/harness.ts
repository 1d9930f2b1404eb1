// Shared by the reliability suite (fast part and long runs): nodes, snapshots and the checks every refusal must pass.
import { readFileSync } from 'node:fs';
import { ERROR_CODES, type ErrorCode, MemoryChains, parseRecord, type SignedRecord } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { STATUS_OF } from '../../../nodes/hub/src/http/problem.js';
import type { HubNode } from '../../../nodes/hub/src/node.js';

export { eventually, needBody, post, reopen, startNode, T0, TestHub, tempDir } from '../../../nodes/hub/test/helpers.js';

const CODES = new Set<string>(ERROR_CODES);

/** Vector file from spec/vectors (never copied: read in place). */
export function vector<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../../../spec/vectors/${path}`, import.meta.url), 'utf8')) as T;
}

/** What a refused input must leave as it was. */
export interface Snapshot {
  records: number;
  held: number;
  forks: number;
  hash: string;
}

export function snapshot(node: HubNode): Snapshot {
  return { records: node.store.maxOrd(), held: node.store.heldCount(), forks: node.store.forks().length, hash: node.ingestor.engine.stateHash() };
}

export function isCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

/** One answer to check. `problem` is set for a 4xx/5xx answer. */
export interface Checked {
  status: number;
  problem?: { code: string; status: number };
  body?: unknown;
  /** Violations of the rules (no 5xx, problem+json with a spec code whose status matches). */
  faults: string[];
}

/**
 * Reads an answer and checks the rules of spec/errors.md: never a 5xx but E_STORAGE, and
 * every refusal an RFC 9457 problem document whose code is in the closed list
 * and whose status is the one the list gives for it.
 */
export async function checkAnswer(res: Response): Promise<Checked> {
  const faults: string[] = [];
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, faults };
  }
  const text = await res.text();
  // E_STORAGE (503) is the one 5xx the spec allows: the store cannot commit, retry later.
  if (res.status >= 500 && !(res.status === 503 && text.includes('"E_STORAGE"'))) faults.push(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  if (res.status >= 400) {
    if (!type.startsWith('application/problem+json')) faults.push(`HTTP ${res.status} without a problem document (${type})`);
    let p: { code?: unknown; status?: unknown } = {};
    try {
      p = JSON.parse(text) as typeof p;
    } catch {
      faults.push(`HTTP ${res.status}: body is not JSON`);
    }
    if (!isCode(p.code)) faults.push(`HTTP ${res.status}: code ${String(p.code)} is not a spec code`);
    else if (STATUS_OF[p.code] !== res.status) faults.push(`${p.code} answered with HTTP ${res.status}, spec says ${STATUS_OF[p.code]}`);
    return { status: res.status, problem: { code: String(p.code), status: Number(p.status) }, faults };
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    faults.push(`HTTP ${res.status}: body is not JSON`);
  }
  return { status: res.status, body, faults };
}

export interface AckLike {
  status: string;
  code?: string;
  id?: string;
}

/** The acknowledgements of a push answer (batch or single). */
export function acksOf(c: Checked): AckLike[] {
  const b = c.body as { acks?: AckLike[]; ack?: AckLike } | undefined;
  if (b?.acks) return b.acks;
  if (b?.ack) return [b.ack];
  return [];
}

/**
 * Replays a node's stored records, in its ingest order, through a fresh
 * verifier and a fresh resolver: every record must continue its hub's chain
 * (a broken chain shows up as a non-valid result) and the resolver must
 * reach the node's own state hash.
 */
export function replay(node: HubNode): { hash: string; broken: string[]; records: SignedRecord[] } {
  return replayRows(node.store.since(0, Number.MAX_SAFE_INTEGER), node.config.roots);
}

export function replayRows(rows: { id: string; json: string }[], roots: string[]): { hash: string; broken: string[]; records: SignedRecord[] } {
  const chains = new MemoryChains();
  const resolver = new Resolver({ roots });
  const broken: string[] = [];
  const records: SignedRecord[] = [];
  for (const row of rows) {
    const record = parseRecord(JSON.parse(row.json));
    records.push(record);
    const res = chains.add(record);
    if (res.kind !== 'valid' || res.verified.id !== row.id) {
      broken.push(`${row.id}: ${res.kind}${res.kind === 'invalid' ? ` ${res.error.code} ${res.error.message}` : ''}`);
      continue;
    }
    resolver.apply(res.verified);
  }
  return { hash: resolver.stateHash(), broken, records };
}

/** A seeded PRNG (mulberry32), so that a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Figures a run reports (printed, and collected into docs/reliability.md by hand). */
export function figure(name: string, values: Record<string, unknown>): void {
  process.stderr.write(`[reliability] ${name} ${JSON.stringify(values)}\n`);
}
