import type { ComponentChildren } from 'preact';
import { navigate } from '../lib/router.js';
import { t } from '../lib/store.js';
import { RegionSelect } from './region.js';
import { Notice } from './ui.js';

/** A board's filter setter: filters live in the URL, so a filtered board can be linked and reloaded. */
export function urlFilters(path: string, params: URLSearchParams): (key: string, value: string) => void {
  return (key, value) => {
    const next: Record<string, string> = Object.fromEntries(params.entries());
    if (value) next[key] = value;
    else delete next[key];
    navigate(path, next, true);
  };
}

/** Heading of the needs and offers boards: title, a notice when the node lacks the data, the "new" toggle or a sign-in link. */
export function BoardHead(p: {
  title: string;
  missing: string | undefined;
  signedIn: boolean;
  newLabel: string;
  formId: string;
  creating: boolean;
  setCreating: (v: boolean) => void;
}) {
  return (
    <>
      <h1>{p.title}</h1>
      {p.missing ? <Notice kind="warn">{t('common.notAvailable', { what: p.missing })}</Notice> : null}
      {p.signedIn ? (
        <button type="button" class="primary" aria-expanded={p.creating} aria-controls={p.formId} onClick={() => p.setCreating(!p.creating)}>
          {p.newLabel}
        </button>
      ) : (
        <p class="muted">
          <a href="#/signin">{t('nav.signin')}</a> · {t('common.needSignin')}
        </p>
      )}
    </>
  );
}

/**
 * A board's filter fieldset: region and item filters that every board has,
 * then the board's own (`children`), then the clear link. Ids start with `prefix`.
 */
export function Filters(p: { path: string; prefix: string; params: URLSearchParams; set: (key: string, value: string) => void; children: ComponentChildren }) {
  return (
    <fieldset class="filters">
      <legend>{t('common.filters')}</legend>
      <RegionSelect
        id={`${p.prefix}-region`}
        label={t('field.region')}
        value={p.params.get('region') ?? ''}
        onChange={(v) => p.set('region', v)}
        allowPrefecture
        empty={t('common.all')}
      />
      <FilterSearch id={`${p.prefix}-item`} label={t('field.item')} value={p.params.get('item') ?? ''} onChange={(v) => p.set('item', v)} />
      {p.children}
      <a href={`#${p.path}`} class="button-link">
        {t('common.clear')}
      </a>
    </fieldset>
  );
}

/** A select bound to the URL parameter `param`. */
export function ParamSelect(p: {
  id: string;
  param: string;
  label: string;
  options: [string, string][];
  params: URLSearchParams;
  set: (key: string, value: string) => void;
}) {
  return <FilterSelect id={p.id} label={p.label} value={p.params.get(p.param) ?? ''} options={p.options} onChange={(v) => p.set(p.param, v)} />;
}

export function FilterSearch({ id, label, value, onChange }: { id: string; label: string; value: string; onChange: (v: string) => void }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} type="search" value={value} onInput={(e) => onChange((e.currentTarget as HTMLInputElement).value)} />
    </div>
  );
}

export function FilterSelect(p: { id: string; label: string; value: string; options: [string, string][]; onChange: (v: string) => void }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <select id={p.id} value={p.value} onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)}>
        {p.options.map(([v, l]) => (
          <option value={v} key={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}
