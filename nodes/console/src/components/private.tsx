import { useState } from 'preact/hooks';
import { ApiError, api } from '../lib/api.js';
import { getState, t } from '../lib/store.js';
import { hubName } from './cards.js';
import { Field, Notice, type Values } from './ui.js';

/**
 * Private fields of a need or an offer (spec/node.md §8.5): sent beside the
 * body as `private` and `sealTo`; the node seals them to the chosen hubs'
 * encryption keys. They never enter the public record, the public map or the
 * feed.
 */
export interface PrivateFields {
  contact?: { name?: string; phone?: string };
  address?: string;
  beneficiaries?: { name: string; phone?: string; note?: string }[];
  note?: string;
}

/** Own hub and its parent chain: the recipients ticked by default. */
export function defaultRecipients(): string[] {
  const s = getState();
  const self = s.node?.hub;
  if (!self) return [];
  const chain = s.hubs?.find((h) => h.id === self)?.admissionChain ?? [];
  return [self, ...chain.filter((h) => h !== self)];
}

export function privateDefaults(): Values {
  return {
    'private.contact.name': '',
    'private.contact.phone': '',
    'private.address': '',
    'private.beneficiaries': '',
    'private.note': '',
    sealTo: defaultRecipients().join(','),
  };
}

/** The private fields entered, or undefined when none was. */
export function privateOf(v: Values): PrivateFields | undefined {
  const s = (k: string) => (v[k] ?? '').trim() || undefined;
  const name = s('private.contact.name');
  const phone = s('private.contact.phone');
  const beneficiaries = (v['private.beneficiaries'] ?? '')
    .split('\n')
    .map((l) => l.split(/[,，]/).map((x) => x.trim()))
    .filter((p) => p[0])
    .map(([n, ph, note]) => ({ name: n as string, ...(ph ? { phone: ph } : {}), ...(note ? { note } : {}) }));
  const out: PrivateFields = {
    ...(name || phone ? { contact: { ...(name ? { name } : {}), ...(phone ? { phone } : {}) } } : {}),
    ...(s('private.address') ? { address: s('private.address') as string } : {}),
    ...(beneficiaries.length ? { beneficiaries } : {}),
    ...(s('private.note') ? { note: s('private.note') as string } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

/** The request body: the record body, plus `private` and `sealTo` when private fields were entered. */
export function withPrivate(body: unknown, v: Values): unknown {
  const fields = privateOf(v);
  if (!fields) return body;
  const sealTo = (v.sealTo ?? '').split(',').filter(Boolean);
  return { ...(body as object), private: fields, ...(sealTo.length ? { sealTo } : {}) };
}

/** The private fields of a form and the hubs to seal them to (own hub and parent chain ticked by default). */
export function PrivateFieldset({ values, set }: { values: Values; set: (name: string, v: string) => void }) {
  const s = getState();
  const chosen = new Set((values.sealTo ?? '').split(',').filter(Boolean));
  const defaults = defaultRecipients();
  const others = (s.hubs ?? []).map((h) => h.id).filter((h) => !defaults.includes(h));
  const common = { values, set, issues: {} };
  return (
    <fieldset class="private-fields">
      <legend>{t('private.title')}</legend>
      <p class="muted small">{t('private.hint')}</p>
      <div class="grid">
        <Field name="private.contact.name" optional {...common} />
        <Field name="private.contact.phone" optional inputMode="text" {...common} />
        <Field name="private.address" optional {...common} />
        <Field name="private.note" optional {...common} />
      </div>
      <Field name="private.beneficiaries" type="textarea" optional hint={t('private.beneficiariesHint')} {...common} />
      <fieldset class="checks">
        <legend>{t('private.sealTo')}</legend>
        {[...defaults, ...others].map((h) => (
          <label key={h} class="check">
            <input
              type="checkbox"
              name="sealTo"
              value={h}
              checked={chosen.has(h)}
              onChange={(e) => {
                if ((e.currentTarget as HTMLInputElement).checked) chosen.add(h);
                else chosen.delete(h);
                set('sealTo', [...chosen].join(','));
              }}
            />{' '}
            {hubName(h)}
            {h === s.node?.hub ? ` (${t('private.own')})` : ''}
          </label>
        ))}
      </fieldset>
    </fieldset>
  );
}

type Opened = { id: string; to: string[]; private: PrivateFields };

/**
 * Opens a record's private fields with this hub's key (GET
 * /v1/records/{id}/private, operators only) and offers to erase them.
 */
export function PrivatePanel({ id }: { id: string }) {
  const [open, setOpen] = useState(false);
  const [data, setData] = useState<Opened | 'cannot' | undefined>();
  const [error, setError] = useState<string>();
  const [erased, setErased] = useState(false);
  const load = async () => {
    setError(undefined);
    try {
      setData(await api<Opened>(`/v1/records/${id}/private`));
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'E_SEALED' || e.status === 422)) setData('cannot');
      else setError(e instanceof Error ? e.message : String(e));
    }
  };
  const toggle = () => {
    const next = !open;
    setOpen(next);
    if (next) void load();
  };
  const erase = async () => {
    if (!window.confirm(t('private.eraseConfirm'))) return;
    try {
      await api(`/v1/records/${id}/erase`, { method: 'POST', body: {} });
      setErased(true);
      setData('cannot');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const p = data && data !== 'cannot' ? data.private : undefined;
  return (
    <div class="private-panel" data-private={id}>
      <button type="button" aria-expanded={open} onClick={toggle}>
        {open ? t('private.hide') : t('private.show')}
      </button>
      {open ? (
        <div class="private-body">
          {error ? <Notice kind="warn">{error}</Notice> : null}
          {erased ? <Notice kind="ok">{t('private.erased')}</Notice> : null}
          {data === undefined && !error ? <p class="muted">{t('private.loading')}</p> : null}
          {data === 'cannot' && !erased ? <p class="muted">{t('private.cannot')}</p> : null}
          {p && data !== 'cannot' ? (
            <>
              <dl class="facts private-facts">
                {p.contact?.name ? (
                  <>
                    <dt>{t('field.private.contact.name')}</dt>
                    <dd data-testid="private-contact-name">{p.contact.name}</dd>
                  </>
                ) : null}
                {p.contact?.phone ? (
                  <>
                    <dt>{t('field.private.contact.phone')}</dt>
                    <dd data-testid="private-contact-phone">{p.contact.phone}</dd>
                  </>
                ) : null}
                {p.address ? (
                  <>
                    <dt>{t('field.private.address')}</dt>
                    <dd>{p.address}</dd>
                  </>
                ) : null}
                {p.note ? (
                  <>
                    <dt>{t('field.private.note')}</dt>
                    <dd>{p.note}</dd>
                  </>
                ) : null}
              </dl>
              {p.beneficiaries?.length ? (
                <>
                  <p class="small">{t('field.private.beneficiaries')}</p>
                  <ul class="small">
                    {p.beneficiaries.map((b, i) => (
                      <li key={`${i}-${b.name}`}>{[b.name, b.phone, b.note].filter(Boolean).join(' · ')}</li>
                    ))}
                  </ul>
                </>
              ) : null}
              <p class="muted small">{t('private.readers', { hubs: (data as Opened).to.map((h) => hubName(h)).join('、') })}</p>
              <button type="button" class="danger" onClick={erase}>
                {t('private.erase')}
              </button>
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
