import { catalogueItem, RELIEF_ITEMS, type ReliefItem, unitLabel } from '@shuniu/protocol';

/**
 * The console's item suggestions and labels, all from the relief-item
 * catalogue (spec/catalogue.md) that the node and the matching engine read.
 */

export type Lang = 'zh' | 'en';

/** One suggestion per catalogue item, in catalogue order: the code and its name in the operator's language. */
export function itemSuggestions(lang: Lang): [code: string, label: string][] {
  return RELIEF_ITEMS.map((it) => [it.code, `${it.name[lang]} · ${unitLabel(it.base, lang)}`]);
}

/** The catalogue's name of an item code in `lang`, or undefined outside the catalogue. */
export function itemLabel(code: string, lang: Lang): string | undefined {
  return catalogueItem(code)?.name[lang];
}

/** Usual packs as text: "box = 50 piece, carton = 2000 piece" (盒 = 50 个 in Chinese). */
export function packsText(it: ReliefItem, lang: Lang = 'en'): string {
  return Object.entries(it.packs)
    .map(([unit, size]) => `${unitLabel(unit, lang)} = ${size} ${unitLabel(it.base, lang)}`)
    .join(', ');
}

/**
 * Form values after the operator enters an item code: for a catalogue item,
 * the item name if still blank, the catalogue's base unit, and the counted
 * unit too while it was the base (so the node has nothing to flag); an
 * unknown code changes nothing else (the node flags it, spec/node.md §8.4).
 */
export function withItemCode(values: Record<string, string>, code: string, lang: Lang): Record<string, string> {
  const next: Record<string, string> = { ...values, 'item.code': code };
  const it = catalogueItem(code.trim());
  if (it === undefined) return next;
  if (!(values['item.name'] ?? '').trim()) next['item.name'] = it.name[lang];
  const oldBase = values['unit.base'] ?? '';
  next['unit.base'] = it.base;
  if ((values['unit.name'] ?? '') === oldBase || !(values['unit.name'] ?? '').trim()) {
    next['unit.name'] = it.base;
    next['unit.size'] = '1';
  }
  return next;
}
