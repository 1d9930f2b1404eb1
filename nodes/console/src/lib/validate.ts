import { type Lang, translate } from '../i18n.js';
import type { Issue } from './api.js';

/** The part of a zod schema the forms use. */
export interface Schema {
  safeParse(v: unknown): { success: boolean; error?: { issues: { code: string; path: PropertyKey[]; message: string }[] } };
}

/**
 * Runs the protocol's own body schema (from @shuniu/protocol) on a form's
 * value, so the form shows the issues the node would answer with.
 */
export function check(schema: Schema, value: unknown): Issue[] {
  const r = schema.safeParse(value);
  if (r.success) return [];
  return (r.error?.issues ?? []).map((i) => ({ code: i.code, path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
}

/** Field key of an issue: its path without the leading `body` the node adds, numbers dropped after the first member. */
export function fieldOf(issue: Issue): string {
  const path = issue.path[0] === 'body' ? issue.path.slice(1) : issue.path;
  return path.map(String).join('.');
}

export function byField(issues: Issue[]): Record<string, Issue[]> {
  const out: Record<string, Issue[]> = {};
  for (const i of issues) {
    const k = fieldOf(i);
    const list = out[k] ?? [];
    list.push(i);
    out[k] = list;
  }
  return out;
}

/** The issue in the operator's language, keeping the protocol's own words (they are what the node logs and answers). */
export function issueText(issue: Issue, lang: Lang): string {
  if (lang === 'en') return issue.message;
  const gloss = translate('zh', `issue.${issue.code}`);
  return gloss === issue.code ? issue.message : `${gloss}（${issue.message}）`;
}

/** Drops members that are empty strings, NaN or undefined, recursively, so optional fields left blank are absent. */
export function prune<T>(v: T): T {
  if (Array.isArray(v)) return v.map(prune) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === '' || x === undefined || (typeof x === 'number' && Number.isNaN(x))) continue;
      const p = prune(x);
      if (p && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0) continue;
      out[k] = p;
    }
    return out as T;
  }
  return v;
}

/** A number field: empty stays empty (so "required" is reported), anything else goes through Number. */
export function numberOf(s: string): number | undefined {
  if (s.trim() === '') return undefined;
  return Number(s);
}
