import { catalogueItem, unitLabel } from '@shuniu/protocol';
import type { Issue } from '../lib/api.js';
import { itemSuggestions, packsText, withItemCode } from '../lib/items.js';
import { getState, t } from '../lib/store.js';
import { Notice, type Values } from './ui.js';

/** Item code suggestions from the relief-item catalogue (spec/catalogue.md), labelled in the operator's language. */
export function ItemDatalist() {
  return (
    <datalist id="item-codes">
      {itemSuggestions(getState().lang).map(([c, n]) => (
        <option value={c} key={c}>
          {n}
        </option>
      ))}
    </datalist>
  );
}

/** The hint under the item code field: the catalogue's entry for the code, or that it is outside the catalogue. */
export function itemHint(code: string | undefined): string {
  const c = (code ?? '').trim();
  if (!c) return 'PPE.MASK.N95';
  const it = catalogueItem(c);
  if (it === undefined) return t('item.unknown', { code: c });
  const lang = getState().lang;
  const packs = packsText(it, lang);
  return t('item.catalogue', { name: it.name[lang], base: unitLabel(it.base, lang), packs: packs ? `; ${packs}` : '' });
}

/** Field props whose item code, once entered, fills the name and base unit from the catalogue. */
export function itemAware(f: {
  values: Values;
  set: (n: string, v: string) => void;
  setValues: (u: (old: Values) => Values) => void;
  fieldIssues: Record<string, Issue[]>;
}) {
  const lang = getState().lang;
  return {
    values: f.values,
    issues: f.fieldIssues,
    set: (name: string, v: string) => (name === 'item.code' ? f.setValues((old) => withItemCode(old, v, lang)) : f.set(name, v)),
  };
}

/** The node's warnings on a record it signed (spec/node.md §8.4). */
export function ItemWarnings({ warnings }: { warnings: Issue[] }) {
  if (warnings.length === 0) return null;
  return (
    <Notice kind="warn">
      {t('item.warnings')}
      <ul>
        {warnings.map((w) => (
          <li key={w.path.join('.')}>{w.message}</li>
        ))}
      </ul>
    </Notice>
  );
}
