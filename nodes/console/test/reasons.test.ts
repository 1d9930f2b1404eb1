import { propose, REASON_CODES, type ReasonCode, type ReasonParams } from '@shuniu/match';
import { beforeAll, describe, expect, it } from 'vitest';
import { need, offer, state } from '../../../packages/match/test/fixtures.js';
import { en, zh } from '../src/i18n.js';
import { reasonText } from '../src/lib/reasons.js';
import { enclosingRegions, loadDivisions, regionPrefix } from '../src/lib/regions.js';

// Place names come from the region table the console loads before its first paint.
beforeAll(() => loadDivisions());

/** One reason of each code, with the parameters the engine gives (spec/matching.md §9). */
const SAMPLES: { [K in ReasonCode]: ReasonParams[K] } = {
  priority: { urgency: 'critical', onTime: true, round: 1, rounds: 8 },
  intent: {
    region: '420102',
    within: ['4201'],
    group: 'medical_staff',
    purpose: 'medical_protection',
    neededBy: '2020-01-27T00:00:00Z',
    validUntil: '2020-01-28T00:00:00Z',
  },
  'arrival.on_time': { relation: 'same_prefecture', hours: 12, arrival: '2020-01-25T00:00:00Z', neededBy: '2020-01-27T00:00:00Z' },
  'arrival.late': {
    availableFrom: '2020-01-26T00:00:00Z',
    relation: 'other_province',
    hours: 72,
    arrival: '2020-01-29T00:00:00Z',
    neededBy: '2020-01-27T00:00:00Z',
  },
  'duplicate.representative': { others: ['n-b', 'n-c'] },
  'unit.converted': { item: 'PPE.MASK.SURGICAL', offerUnit: 'box', offerSize: 50, needUnit: 'piece', needSize: 1, common: 'piece' },
  'quantity.fills_gap': { gap: 520, quantity: 500, unit: 'piece', lot: 50, common: 'piece', before: 0, after: 0.961 },
  'quantity.fair_share': { round: 1, competing: 4, level: 0.25, before: 0, after: 0.25 },
  'quantity.remainder': { lot: 1, common: 'piece' },
  'quantity.lot': { lot: 50, common: 'piece' },
};

const CJK = /[\u4e00-\u9fff]/;

describe('matching reasons in Chinese and English (issue 12 point 3)', () => {
  it('every reason code of the engine has a title and a text in both languages, rendered from its parameters alone', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...REASON_CODES].sort());
    const dicts = { zh: zh as Record<string, string>, en: en as Record<string, string> };
    for (const code of REASON_CODES) {
      for (const lang of ['zh', 'en'] as const) {
        expect(dicts[lang][`reason.${code}`], `${lang} reason.${code}`).toBeTruthy();
        const text = reasonText({ code, params: SAMPLES[code], message: 'ENGLISH MESSAGE NOT TO BE SHOWN' }, lang);
        expect(text, `${lang} ${code}`).not.toContain('ENGLISH MESSAGE');
        expect(text, `${lang} ${code}: a placeholder left unfilled`).not.toMatch(/\{\w+\}/);
        expect(text, `${lang} ${code}: a key shown instead of text`).not.toMatch(/reasonText|^[a-z_.]+$/);
        if (lang === 'zh') expect(text, `zh ${code}`).toMatch(CJK);
      }
      expect(reasonText({ code, params: SAMPLES[code] }, 'zh')).not.toBe(reasonText({ code, params: SAMPLES[code] }, 'en'));
    }
  });

  it('renders the parameters: shares, places and names of groups in the operator’s language', () => {
    expect(reasonText({ code: 'quantity.fair_share', params: SAMPLES['quantity.fair_share'] }, 'zh')).toBe(
      '第 1 轮供给不足：4 个需求一同提升到相同覆盖率 25%；本需求 0% → 25%',
    );
    const intent = reasonText({ code: 'intent', params: SAMPLES.intent }, 'zh');
    expect(intent).toContain('江岸区');
    expect(intent).toContain('武汉市');
    expect(intent).toContain('医护人员');
    expect(reasonText({ code: 'intent', params: {} }, 'en')).toBe('the donor set no restriction');
  });

  it('renders what the engine really produces, and falls back to the message for a code it does not know', () => {
    const p = propose(state([need({ id: 'n-1', quantity: 1000 }), need({ id: 'n-2', quantity: 3000 })], [offer({ id: 'o', quantity: 1000 })]));
    for (const x of p) for (const r of x.reasons) expect(reasonText(r, 'zh')).toMatch(CJK);
    expect(reasonText({ code: 'quantity.future', params: {}, message: 'from a newer node' }, 'zh')).toBe('from a newer node');
  });
});

describe('region filter of the matching page (issue 12 point 2)', () => {
  it('starts from the hub’s own area and widens to the areas that contain it', () => {
    expect(regionPrefix('420000')).toBe('42');
    expect(regionPrefix('420100')).toBe('4201');
    expect(enclosingRegions('420102')).toEqual(['420102', '4201', '42']);
    expect(enclosingRegions('420100')).toEqual(['4201', '42']);
    expect(enclosingRegions('420000')).toEqual(['42']);
  });
});
