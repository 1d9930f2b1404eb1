import type { ReasonData } from '@shuniu/match';
import { unitLabel } from '@shuniu/protocol';
import { type Lang, translate } from '../i18n.js';
import { when } from './format.js';
import { regionName } from './regions.js';

/** A reason as the node sends it (spec/matching.md §9): a code, its parameters and an English message. */
export interface WireReason {
  code: string;
  params?: object;
  message?: string;
}

const pct = (x: number) => `${(Math.floor(x * 1000) / 10).toString()}%`;

/**
 * A matching reason in the operator's language, from its code and
 * parameters only (never from the English `message`). A code this console
 * does not know (from a newer node) shows its message, or the code.
 *
 * @example reasonText({ code: 'quantity.lot', params: { lot: 50, common: 'piece' } }, 'zh') // '只按整包分配，每包 50 piece'
 */
export function reasonText(w: WireReason, lang: Lang): string {
  const tr = (key: string, vars?: Record<string, string | number>) => translate(lang, key, vars);
  if (w.params === undefined) return w.message ?? w.code;
  const r = w as ReasonData;
  switch (r.code) {
    case 'priority':
      return tr('reasonText.priority', {
        urgency: tr(`urgency.${r.params.urgency}`),
        reach: tr(r.params.onTime ? 'reasonText.reach.yes' : 'reasonText.reach.no'),
        round: r.params.round,
        rounds: r.params.rounds,
      });
    case 'intent': {
      const p = r.params;
      const parts: string[] = [];
      if (p.region !== undefined)
        parts.push(tr('reasonText.intent.region', { region: regionName(p.region, lang), within: (p.within ?? []).map((x) => regionName(x, lang)).join('、') }));
      if (p.group !== undefined) parts.push(tr('reasonText.intent.group', { group: tr(`group.${p.group}`) }));
      if (p.purpose !== undefined) parts.push(tr('reasonText.intent.purpose', { purpose: tr(`purpose.${p.purpose}`) }));
      if (p.validUntil !== undefined)
        parts.push(tr('reasonText.intent.validUntil', { neededBy: when(p.neededBy, lang), validUntil: when(p.validUntil, lang) }));
      return parts.length === 0 ? tr('reasonText.intent.none') : tr('reasonText.intent', { parts: parts.join(tr('reasonText.intent.sep')) });
    }
    case 'arrival.on_time':
    case 'arrival.late': {
      const p = r.params;
      return tr(`reasonText.${r.code}`, {
        start: p.availableFrom !== undefined ? tr('reasonText.availableFrom', { at: when(p.availableFrom, lang) }) : tr('reasonText.availableNow'),
        relation: tr(`reasonText.relation.${p.relation}`),
        hours: p.hours,
        arrival: when(p.arrival, lang),
        neededBy: when(p.neededBy, lang),
      });
    }
    case 'duplicate.representative':
      return tr('reasonText.duplicate.representative', { n: r.params.others.length });
    case 'unit.converted':
      return tr('reasonText.unit.converted', {
        ...r.params,
        offerUnit: unitLabel(r.params.offerUnit, lang),
        needUnit: unitLabel(r.params.needUnit, lang),
        common: unitLabel(r.params.common, lang),
      });
    case 'quantity.fills_gap': {
      const p = r.params;
      const vars = { gap: p.gap, unit: unitLabel(p.unit, lang), lot: p.lot, common: unitLabel(p.common, lang), before: pct(p.before), after: pct(p.after) };
      return tr(p.quantity === p.gap ? 'reasonText.quantity.fills_gap' : 'reasonText.quantity.fills_gap.lots', vars);
    }
    case 'quantity.fair_share': {
      const p = r.params;
      return tr('reasonText.quantity.fair_share', { round: p.round, competing: p.competing, level: pct(p.level), before: pct(p.before), after: pct(p.after) });
    }
    case 'quantity.remainder':
    case 'quantity.lot':
      return tr(`reasonText.${r.code}`, { ...r.params });
    default:
      return w.message ?? w.code;
  }
}
