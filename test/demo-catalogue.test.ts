import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { catalogueItem } from '@shuniu/protocol';
import { describe, expect, it } from 'vitest';

/**
 * Issue 12 point 5 (a): the demo (examples/) posts only item codes of the
 * relief-item catalogue (spec/catalogue.md), and the names it writes beside
 * them are the catalogue's item (医用外科口罩 is PPE.MASK.SURGICAL, not
 * PPE.MASK.MEDICAL, the lower-grade single-use medical mask).
 */
describe('the demo and the relief-item catalogue', () => {
  const dir = fileURLToPath(new URL('../examples/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  const items = files.flatMap((f) =>
    [...readFileSync(dir + f, 'utf8').matchAll(/item: \{ code: '([^']+)', name: '([^']+)' \}/g)].map((m) => ({
      file: f,
      code: m[1] as string,
      name: m[2] as string,
    })),
  );

  it('names items in both demos', () => {
    expect([...new Set(items.map((i) => i.file))]).toEqual(expect.arrayContaining(['network.ts', 'protocol-demo.ts']));
  });

  it('uses no item code outside the catalogue in any example', () => {
    const codes = files.flatMap((f) => [...readFileSync(dir + f, 'utf8').matchAll(/code: '([A-Z0-9]+(?:\.[A-Z0-9_-]+)+)'/g)].map((m) => `${f}: ${m[1]}`));
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((c) => catalogueItem(c.split(': ')[1] as string) === undefined)).toEqual([]);
  });

  it.each(['network.ts', 'protocol-demo.ts'])('%s uses only catalogue codes, each with its catalogue name', (file) => {
    for (const it of items.filter((i) => i.file === file)) {
      const known = catalogueItem(it.code);
      expect(known, `${file}: ${it.code}`).toBeDefined();
      expect(it.name.startsWith((known?.name.zh ?? '').replace(/（.*$/, '')), `${file}: ${it.code} ${it.name}`).toBe(true);
    }
  });
});
