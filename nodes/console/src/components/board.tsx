import type { ComponentChildren } from 'preact';
import { navigate } from '../lib/router.js';
import { t } from '../lib/store.js';
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

/** The filter fieldset with its clear link. */
export function Filters({ clearHref, children }: { clearHref: string; children: ComponentChildren }) {
  return (
    <fieldset class="filters">
      <legend>{t('common.filters')}</legend>
      {children}
      <a href={clearHref} class="button-link">
        {t('common.clear')}
      </a>
    </fieldset>
  );
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
