import { type Unit, unitLabel } from '@shuniu/protocol';
import type { Lang } from '../i18n.js';

/**
 * A quantity held in base units, shown in the unit it was posted in when it
 * divides evenly (20 箱), else in base units (1,000 个).
 */
export function qty(base: number, unit: Unit | undefined, lang: Lang = 'zh'): string {
  const nf = new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en');
  if (!unit) return nf.format(base);
  if (unit.size > 1 && base % unit.size === 0) return `${nf.format(base / unit.size)} ${unitLabel(unit.name, lang)}`;
  return `${nf.format(base)} ${unitLabel(unit.size > 1 ? unit.base : unit.name, lang)}`;
}

export function num(n: number, lang: Lang = 'zh'): string {
  return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en').format(n);
}

/** CNY from fen (integers on the wire). */
export function yuan(fen: number, lang: Lang = 'zh'): string {
  return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en', { style: 'currency', currency: 'CNY', maximumFractionDigits: 0 }).format(fen / 100);
}

/** RFC 3339 → a short local date and time. */
export function when(iso: string | number | undefined, lang: Lang = 'zh'): string {
  if (iso === undefined) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function shortId(id: string | undefined): string {
  return id ? id.slice(0, 8) : '';
}

/** `<input type="datetime-local">` value (local time) → RFC 3339 UTC with Z, as the schemas require. */
export function fromLocalInput(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
