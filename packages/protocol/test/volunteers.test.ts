import { describe, expect, it } from 'vitest';
import { type BodyOf, bodySchemas, jsonSchemas } from '../src/index.js';

// Issue 18 point 6: offers of kind `volunteers` carry skills and availability (spec/records.md §5.8 volunteerTeam).

const offer = (over: Partial<BodyOf<'offer.posted'>> = {}): BodyOf<'offer.posted'> => ({
  kind: 'volunteers',
  item: { code: 'SERVICE.VOLUNTEER', name: '社区志愿者' },
  quantity: 12,
  unit: { name: '人', base: '人', size: 1 },
  valueFen: 0,
  donor: { name: '孝南区青年志愿者协会', kind: 'volunteer_group' },
  intent: {},
  region: '420902',
  volunteers: { skills: ['driving', 'elderly_care'], availability: { days: ['sat', 'sun'], hours: { start: '22:00', end: '06:00' }, remote: true } },
  ...over,
});

const issues = (b: unknown) => {
  const r = bodySchemas['offer.posted'].safeParse(b);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('offer.posted volunteers', () => {
  it('a volunteers offer with skills and availability is valid, as is one without them, and an empty availability', () => {
    expect(issues(offer())).toEqual([]);
    expect(issues(offer({ volunteers: undefined }))).toEqual([]);
    expect(issues(offer({ volunteers: { skills: ['other'], availability: {} } }))).toEqual([]);
  });

  it('refuses skills on any other kind, a skill twice, an unknown skill, no skills, more than 20, a bad time, an unknown member', () => {
    expect(issues(offer({ kind: 'goods' }))).toEqual(['volunteers: volunteers (skills and availability) only on an offer of kind volunteers']);
    const team = offer().volunteers as NonNullable<BodyOf<'offer.posted'>['volunteers']>;
    const bad: unknown[] = [
      { ...team, skills: ['driving', 'driving'] },
      { ...team, skills: ['flying'] },
      { ...team, skills: [] },
      { ...team, skills: Array.from({ length: 21 }, () => 'other') },
      { ...team, availability: { hours: { start: '8:00', end: '18:00' } } },
      { ...team, availability: { hours: { start: '08:00', end: '24:00' } } },
      { ...team, availability: { days: ['sat', 'holiday'] } },
      { ...team, availability: { days: [] } },
      { ...team, availability: { until: '2020-02-30T00:00:00Z' } },
      { ...team, languages: ['zh'] },
    ];
    for (const v of bad) expect(issues(offer({ volunteers: v as never })).length, JSON.stringify(v)).toBeGreaterThan(0);
  });

  it('the JSON Schema of offer.posted describes volunteers (the kind rule and distinct skills in its descriptions)', () => {
    const body = (jsonSchemas()['offer.posted.json'] as { properties: { body: { properties: Record<string, { description?: string }> } } }).properties.body;
    expect(body.properties.volunteers?.description).toContain('only with kind volunteers');
  });
});
