import type { AllocationState, BundleState, Conflict, NeedState, OfferState, ShipmentState } from '@shuniu/resolve';
import { useEffect, useState } from 'preact/hooks';
import { type Lang, translate } from '../i18n.js';
import { ApiError, api, setToken } from './api.js';

/** What /.well-known/shuniu says about the node serving the console. */
export interface NodeInfo {
  hub: string;
  profile?: { name?: { zh: string; en?: string }; level?: string; region?: string } | null;
  publicRead?: boolean;
}

/**
 * A hub as the console shows it. /v1/state/hubs gives the resolver's
 * HubState when the node runs the resolver, or stored profiles before that:
 * both are read into this shape.
 */
export interface HubRow {
  id: string;
  name?: { zh: string; en?: string };
  level?: string;
  region?: string;
  status?: string;
  head?: number;
  records?: number;
  trusted?: boolean;
  /** Hubs from the one that admitted this hub up to a root (the resolver's admissionChain). */
  admissionChain?: string[];
}

export const COLLECTIONS = ['needs', 'offers', 'allocations', 'shipments', 'conflicts', 'hubs', 'bundles'] as const;
export type Collection = (typeof COLLECTIONS)[number];

export interface AppState {
  lang: Lang;
  token?: string;
  signedIn: boolean;
  node?: NodeInfo;
  needs?: NeedState[];
  offers?: OfferState[];
  allocations?: AllocationState[];
  shipments?: ShipmentState[];
  conflicts?: Conflict[];
  hubs?: HubRow[];
  /** Bundles of needs (spec/resolution.md §7.2). */
  bundles?: BundleState[];
  /** Why a collection could not be read (the node may not serve it yet). */
  missing: Partial<Record<Collection, string>>;
  live: 'connecting' | 'open' | 'closed';
  lastRecord?: { type: string; hub: string; at: number };
  /** Bumped on every feed event: pages that read more than state reload on it. */
  feedVersion: number;
}

const storage = {
  get(k: string): string | undefined {
    try {
      return sessionStorage.getItem(k) ?? localStorage.getItem(k) ?? undefined;
    } catch {
      return undefined;
    }
  },
  set(k: string, v: string | undefined, persist: boolean): void {
    try {
      const s = persist ? localStorage : sessionStorage;
      if (v === undefined) {
        sessionStorage.removeItem(k);
        localStorage.removeItem(k);
      } else s.setItem(k, v);
    } catch {
      // storage can be disabled (private mode): the session then lasts the page
    }
  },
};

const initialLang = (): Lang => {
  const saved = storage.get('shuniu.lang');
  if (saved === 'zh' || saved === 'en') return saved;
  return 'zh';
};

let state: AppState = { lang: initialLang(), signedIn: false, missing: {}, live: 'connecting', feedVersion: 0 };
const listeners = new Set<() => void>();

export function getState(): AppState {
  return state;
}

export function update(patch: Partial<AppState>): void {
  state = { ...state, ...patch };
  for (const l of listeners) l();
}

/** Subscribes a component to the app state. */
export function useApp(): AppState {
  const [, setN] = useState(0);
  useEffect(() => {
    const l = () => setN((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return state;
}

/** `t('needs.title')` in the current language. */
export function t(key: string, vars?: Record<string, string | number>): string {
  return translate(state.lang, key, vars);
}

export function setLang(lang: Lang): void {
  storage.set('shuniu.lang', lang, true);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  update({ lang });
}

function hubRow(x: Record<string, unknown>): HubRow {
  const profile = (x.profile ?? x) as { name?: { zh: string; en?: string }; level?: string; region?: string };
  const head = x.head as { seq?: number } | undefined;
  return {
    id: String(x.id ?? x.hub),
    ...(profile.name ? { name: profile.name } : {}),
    ...(typeof (x.level ?? profile.level) === 'string' ? { level: String(x.level ?? profile.level) } : {}),
    ...(typeof (x.region ?? profile.region) === 'string' ? { region: String(x.region ?? profile.region) } : {}),
    ...(typeof x.status === 'string' ? { status: x.status } : {}),
    ...(typeof head?.seq === 'number' ? { head: head.seq } : typeof x.headSeq === 'number' ? { head: x.headSeq } : {}),
    ...(typeof x.records === 'number' ? { records: x.records } : {}),
    ...(typeof x.trusted === 'boolean' ? { trusted: x.trusted } : typeof x.admitted === 'boolean' ? { trusted: x.admitted } : {}),
    ...(Array.isArray(x.admissionChain) ? { admissionChain: (x.admissionChain as unknown[]).map(String) } : {}),
  };
}

/**
 * Every item of a state collection: pages of 5,000 in id order, following
 * `next` (spec/node.md §6); a node without pages answers everything at once.
 */
async function readCollection(name: Collection): Promise<unknown[]> {
  const out: unknown[] = [];
  let after = '';
  // Bounded: 200 pages of 5,000 (a million items).
  for (let page = 0; page < 200; page++) {
    const r = await api<Record<string, unknown>>(`/v1/state/${name}?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    const raw = r[name];
    out.push(...(Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? Object.values(raw) : []));
    if (typeof r.next !== 'string' || r.next === '' || r.next === after) break;
    after = r.next;
  }
  return out;
}

/** Reads resolved state collections from the node; a collection the node does not serve is noted, not fatal. */
export async function refresh(which: readonly Collection[] = COLLECTIONS): Promise<void> {
  const results = await Promise.all(
    which.map(async (name) => {
      try {
        const list = await readCollection(name);
        return [name, name === 'hubs' ? list.map((x) => hubRow(x as Record<string, unknown>)) : list, undefined] as const;
      } catch (e) {
        return [name, undefined, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)] as const;
      }
    }),
  );
  const patch: Partial<AppState> = { missing: { ...state.missing } };
  for (const [name, list, err] of results) {
    if (err === undefined) {
      (patch as Record<string, unknown>)[name] = list;
      delete patch.missing?.[name];
    } else (patch.missing as Record<string, string>)[name] = err;
  }
  update(patch);
}

export async function loadNode(): Promise<void> {
  try {
    const info = await api<NodeInfo>('/.well-known/shuniu', { auth: false });
    update({ node: info });
  } catch {
    // the pages still work; the header just lacks the node's name
  }
}

/** Checks a token against an operator-only route before keeping it. */
export async function signIn(token: string, persist = false): Promise<void> {
  await api('/v1/peers', { token });
  setToken(token);
  storage.set('shuniu.token', token, persist);
  update({ token, signedIn: true });
}

export function signOut(): void {
  setToken(undefined);
  storage.set('shuniu.token', undefined, false);
  update({ token: undefined, signedIn: false });
}

/**
 * "Sign out everywhere": revokes every token of this node, this one too
 * (POST /v1/tokens/revoke-all, spec/node.md §8), then signs out here.
 */
export async function signOutEverywhere(): Promise<void> {
  await api('/v1/tokens/revoke-all', { method: 'POST' });
  signOut();
}

export function savedToken(): string | undefined {
  return storage.get('shuniu.token');
}

let pending: ReturnType<typeof setTimeout> | undefined;

/**
 * Follows the node's Server-Sent Events feed (/v1/feed/live): each new
 * record refreshes the state, batched so a burst of records is one reload.
 * EventSource reconnects by itself and resumes after the last event id.
 */
export function startLive(): () => void {
  if (typeof EventSource === 'undefined') return () => undefined;
  const es = new EventSource('/v1/feed/live');
  es.addEventListener('ready', () => update({ live: 'open' }));
  es.addEventListener('open', () => update({ live: 'open' }));
  es.addEventListener('error', () => update({ live: es.readyState === EventSource.CLOSED ? 'closed' : 'connecting' }));
  es.addEventListener('record', (ev) => {
    let rec: { type?: string; hub?: string } = {};
    try {
      rec = JSON.parse((ev as MessageEvent<string>).data);
    } catch {
      // a malformed event still means something changed
    }
    update({ live: 'open', lastRecord: { type: rec.type ?? '?', hub: rec.hub ?? '', at: Date.now() }, feedVersion: state.feedVersion + 1 });
    if (pending === undefined)
      pending = setTimeout(() => {
        pending = undefined;
        void refresh();
      }, 250);
  });
  return () => es.close();
}
