import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Issue } from '../lib/api.js';
import { getState, t } from '../lib/store.js';
import { byField, check, fieldOf, issueText, type Schema } from '../lib/validate.js';

export type Values = Record<string, string>;

export interface FieldProps {
  name: string;
  label?: string;
  values: Values;
  set: (name: string, v: string) => void;
  issues: Record<string, Issue[]>;
  type?: 'text' | 'number' | 'datetime-local' | 'textarea';
  /** Options as [value, label]; an empty value is the "not chosen" entry. */
  options?: [string, string][];
  optional?: boolean;
  min?: number;
  hint?: string;
  inputMode?: 'numeric' | 'decimal' | 'text';
  /** id of a <datalist> of suggestions. */
  list?: string;
}

const fid = (name: string) => `f-${name.replace(/\./g, '-')}`;

/** A labelled input whose protocol issues are announced and tied to it (aria-describedby). */
export function Field(p: FieldProps) {
  const id = fid(p.name);
  const errs = p.issues[p.name] ?? [];
  const lang = getState().lang;
  const label = p.label ?? t(`field.${p.name}`);
  const describedBy = [errs.length ? `${id}-err` : '', p.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: p.name,
    'aria-invalid': errs.length > 0 ? ('true' as const) : undefined,
    'aria-describedby': describedBy,
    value: p.values[p.name] ?? '',
    onInput: (e: Event) => p.set(p.name, (e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class={`field${errs.length ? ' invalid' : ''}`}>
      <label for={id}>
        {label}
        {p.optional ? <span class="muted"> {t('common.optional')}</span> : null}
      </label>
      {p.hint ? (
        <div class="hint" id={`${id}-hint`}>
          {p.hint}
        </div>
      ) : null}
      {p.options ? (
        <select {...common} onChange={common.onInput}>
          {p.options.map(([v, l]) => (
            <option value={v} key={v}>
              {l}
            </option>
          ))}
        </select>
      ) : p.type === 'textarea' ? (
        <textarea {...common} rows={3} />
      ) : (
        <input {...common} type={p.type ?? 'text'} inputMode={p.inputMode} min={p.min} list={p.list} />
      )}
      {errs.length ? (
        <div class="error" id={`${id}-err`}>
          {errs.map((i) => (
            <div key={i.message}>{issueText(i, lang)}</div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** The list of problems at the top of a form, focused when it appears, each linking to its field. */
export function ErrorSummary({ issues, error }: { issues: Issue[]; error?: string | undefined }) {
  const ref = useRef<HTMLDivElement>(null);
  const lang = getState().lang;
  useEffect(() => {
    if (issues.length || error) ref.current?.focus();
  }, [issues, error]);
  if (!issues.length && !error) return null;
  return (
    <div class="error-summary" role="alert" tabIndex={-1} ref={ref}>
      {error ? <p>{t('common.error', { message: error })}</p> : null}
      {issues.length ? (
        <>
          <p>{t('form.errors', { n: issues.length })}</p>
          <ul>
            {issues.map((i) => {
              const f = fieldOf(i);
              const label = f ? t(`field.${f.replace(/\.\d+(\.|$)/g, '$1').replace(/\.$/, '')}`) : '';
              return (
                <li key={`${f}:${i.message}`}>
                  <a href={`#${fid(f)}`} onClick={(e) => focusField(e, f)}>
                    {label ? `${label}：` : ''}
                    {issueText(i, lang)}
                  </a>
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function focusField(e: Event, f: string) {
  // The router owns the hash: move focus instead of following the link.
  e.preventDefault();
  document.getElementById(fid(f))?.focus();
}

/**
 * Form state: values by dotted name, the protocol's issues, and a submit
 * that validates with the record's body schema first and publishes second.
 */
export function useRecordForm(
  schema: Schema,
  initial: Values,
  build: (v: Values) => unknown,
  send: (body: unknown, values: Values) => Promise<{ id: string; warnings?: Issue[] }>,
) {
  const [values, setValues] = useState<Values>(initial);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string>();
  /** The node's warnings on the record it signed (spec/node.md §8.4: items outside the catalogue). */
  const [warnings, setWarnings] = useState<Issue[]>([]);
  const set = (name: string, v: string) => setValues((old) => ({ ...old, [name]: v }));
  const submit = async (e?: Event) => {
    e?.preventDefault();
    setError(undefined);
    setDone(undefined);
    setWarnings([]);
    const body = build(values);
    const local = check(schema, body);
    setIssues(local);
    if (local.length) return;
    setBusy(true);
    try {
      const r = await send(body, values);
      setDone(r.id);
      setWarnings(r.warnings ?? []);
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) setIssues(err.issues);
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return { values, set, setValues, issues, fieldIssues: byField(issues), error, busy, done, warnings, submit };
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'warn' | 'ok'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'warn' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Submit({ busy, label }: { busy: boolean; label?: string }) {
  return (
    <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
      {busy ? t('common.submitting') : (label ?? t('common.submit'))}
    </button>
  );
}

/** Options of an enum translated under a prefix, with an optional "all"/"none" first entry. */
export function enumOptions(prefix: string, values: readonly string[], first?: string): [string, string][] {
  const opts: [string, string][] = values.map((v) => [v, t(`${prefix}.${v}`)]);
  return first === undefined ? opts : [['', first], ...opts];
}
