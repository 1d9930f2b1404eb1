import { useEffect, useState } from 'preact/hooks';
import { Notice } from '../components/ui.js';
import { api, base, getToken } from '../lib/api.js';
import { t } from '../lib/store.js';

/** Saves bytes as a file through a temporary link. */
export function saveFile(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A call whose answer is a file (bundle, CSV, JSON-LD): its bytes and file name, or the node's problem detail as an Error. */
export async function fetchFile(
  path: string,
  init: { method?: string; body?: BodyInit; type?: string } = {},
): Promise<{ blob: Blob; name: string | undefined }> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.type) headers['content-type'] = init.type;
  const res = await fetch(base + path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: init.body } : {}) });
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new Error(`${p.code ?? `HTTP ${res.status}`}: ${p.detail ?? res.statusText}`);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  return { blob: await res.blob(), name };
}

interface ImportResult {
  header: { hub: string; records: number; created: string };
  summary: Record<string, number>;
  refused: { line: number; status: string; code: string; message: string }[];
}

/** Offline transfer (spec/node.md §13): heads file out, bundle out, bundle in. */
function BundleSection() {
  const [heads, setHeads] = useState<File>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const [result, setResult] = useState<ImportResult>();
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const downloadHeads = () =>
    run(async () => {
      const h = await api<{ heads: Record<string, number> }>('/v1/heads');
      saveFile('shuniu-heads.json', new Blob([`${JSON.stringify(h)}\n`], { type: 'application/json' }));
    });
  const downloadBundle = () =>
    run(async () => {
      const body = heads ? await heads.text() : '{}';
      const f = await fetchFile('/v1/bundle/export', { method: 'POST', body, type: 'application/json' });
      saveFile(f.name ?? 'shuniu.bundle.gz', f.blob);
      setDone(t('exchange.bundle.written', { bytes: f.blob.size }));
    });
  const upload = (file: File) =>
    run(async () => {
      const res = await fetch(`${base}/v1/bundle/import`, {
        method: 'POST',
        headers: { 'content-type': 'application/gzip', ...(getToken() ? { authorization: `Bearer ${getToken()}` } : {}) },
        body: await file.arrayBuffer(),
      });
      const json = (await res.json()) as ImportResult & { code?: string; detail?: string };
      if (!res.ok) throw new Error(`${json.code ?? res.status}: ${json.detail ?? ''}`);
      setResult(json);
    });
  return (
    <section aria-labelledby="bundle-h">
      <h2 id="bundle-h">{t('exchange.bundle.title')}</h2>
      <p>{t('exchange.bundle.help')}</p>
      <ol class="steps">
        <li>
          <button type="button" data-action="heads" disabled={busy} onClick={downloadHeads}>
            {t('exchange.bundle.heads')}
          </button>
        </li>
        <li>
          <label>
            {t('exchange.bundle.peerHeads')}{' '}
            <input
              type="file"
              accept="application/json,.json"
              data-input="heads"
              onChange={(e) => setHeads((e.currentTarget as HTMLInputElement).files?.[0])}
            />
          </label>{' '}
          <button type="button" data-action="bundle" disabled={busy} onClick={downloadBundle}>
            {heads ? t('exchange.bundle.exportSince') : t('exchange.bundle.exportAll')}
          </button>
        </li>
        <li>
          <label>
            {t('exchange.bundle.import')}{' '}
            <input
              type="file"
              accept=".gz,application/gzip"
              data-input="bundle"
              disabled={busy}
              onChange={(e) => {
                const f = (e.currentTarget as HTMLInputElement).files?.[0];
                if (f) void upload(f);
              }}
            />
          </label>
        </li>
      </ol>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      {done ? <Notice kind="ok">{done}</Notice> : null}
      {result ? (
        <div data-result="import">
          <Notice kind={result.refused.length > 0 ? 'warn' : 'ok'}>
            {t('exchange.bundle.imported', {
              records: result.header.records,
              accepted: result.summary.accepted ?? 0,
              duplicate: result.summary.duplicate ?? 0,
              held: result.summary.held ?? 0,
              refused: result.refused.length,
            })}
          </Notice>
          {result.refused.length > 0 ? (
            <ul>
              {result.refused.slice(0, 50).map((r) => (
                <li key={r.line}>
                  {t('exchange.bundle.line', { line: r.line })} <code>{r.code}</code> {r.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

const HXL_KINDS = ['needs', 'offers', 'allocations', 'deliveries'] as const;

/** Exports for partners (spec/node.md §14): HXL tables. */
function ExportSection() {
  const [region, setRegion] = useState('');
  const [error, setError] = useState<string>();
  const get = async (path: string, fallback: string) => {
    setError(undefined);
    try {
      const q = region.trim() === '' ? '' : `?region=${encodeURIComponent(region.trim())}`;
      const f = await fetchFile(`${path}${q}`);
      saveFile(f.name ?? fallback, f.blob);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section aria-labelledby="export-h">
      <h2 id="export-h">{t('exchange.export.title')}</h2>
      <p>{t('exchange.export.help')}</p>
      <label>
        {t('exchange.export.region')}{' '}
        <input inputMode="numeric" pattern="[0-9]{2,6}" size={8} value={region} onInput={(e) => setRegion((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <h3>HXL</h3>
      <ul class="inline-actions">
        {HXL_KINDS.map((k) => (
          <li key={k}>
            <button type="button" data-export={`hxl-${k}`} onClick={() => void get(`/v1/export/hxl/${k}`, `shuniu-${k}.hxl.csv`)}>
              {t(`exchange.export.hxl.${k}`)}
            </button>
          </li>
        ))}
      </ul>
      <h3>EPCIS 2.0</h3>
      <p>{t('exchange.export.epcisHelp')}</p>
      <button type="button" data-export="epcis" onClick={() => void get('/v1/export/epcis', 'shuniu-epcis.jsonld')}>
        {t('exchange.export.epcis')}
      </button>
      {error ? <Notice kind="warn">{error}</Notice> : null}
    </section>
  );
}

const EVENTS = ['need.critical', 'proposal', 'shipment.overdue', 'receipt.rejections'] as const;
const FORMATS = ['wecom', 'dingtalk', 'feishu', 'json'] as const;

interface HookView {
  id: string;
  name?: string;
  url: string;
  format: string;
  events: string[];
  signed: boolean;
}
interface DeliveryView {
  id: string;
  hook: string;
  event: string;
  title: string;
  attempts: number;
  state: string;
  status?: number;
  error?: string;
  at: string;
}

/** Outbound webhooks to chat groups (spec/node.md §15): the list, a form, and the delivery log. */
function WebhookSection() {
  const [hooks, setHooks] = useState<HookView[]>();
  const [log, setLog] = useState<DeliveryView[]>([]);
  const [error, setError] = useState<string>();
  const [url, setUrl] = useState('');
  const [format, setFormat] = useState<(typeof FORMATS)[number]>('wecom');
  const [secret, setSecret] = useState('');
  const [events, setEvents] = useState<string[]>([...EVENTS]);
  const load = async () => {
    try {
      const [h, l] = await Promise.all([api<{ webhooks: HookView[] }>('/v1/webhooks'), api<{ deliveries: DeliveryView[] }>('/v1/webhooks/log')]);
      setHooks(h.webhooks);
      setLog(l.deliveries);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => clearInterval(timer);
  }, []);
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section aria-labelledby="hooks-h">
      <h2 id="hooks-h">{t('exchange.hooks.title')}</h2>
      <p>{t('exchange.hooks.help')}</p>
      <form
        class="record-form"
        data-form="webhook"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => api('/v1/webhooks', { method: 'POST', body: { url, format, events, ...(secret ? { secret } : {}) } }));
        }}
      >
        <label>
          {t('exchange.hooks.url')} <input type="url" required value={url} size={50} onInput={(e) => setUrl((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          {t('exchange.hooks.format')}{' '}
          <select value={format} onChange={(e) => setFormat((e.currentTarget as HTMLSelectElement).value as (typeof FORMATS)[number])}>
            {FORMATS.map((f) => (
              <option key={f} value={f}>
                {t(`exchange.hooks.format.${f}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('exchange.hooks.secret')}{' '}
          <input type="password" autocomplete="off" value={secret} onInput={(e) => setSecret((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <fieldset>
          <legend>{t('exchange.hooks.events')}</legend>
          {EVENTS.map((ev) => (
            <label key={ev}>
              <input
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) => setEvents((e.currentTarget as HTMLInputElement).checked ? [...events, ev] : events.filter((x) => x !== ev))}
              />{' '}
              {t(`exchange.hooks.event.${ev}`)}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary">
          {t('exchange.hooks.add')}
        </button>
      </form>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      <ul data-list="webhooks">
        {(hooks ?? []).map((h) => (
          <li key={h.id}>
            <strong>{t(`exchange.hooks.format.${h.format as (typeof FORMATS)[number]}`)}</strong> <code>{new URL(h.url).host}</code> ·{' '}
            {h.events.map((ev) => t(`exchange.hooks.event.${ev as (typeof EVENTS)[number]}`)).join('、')}
            {h.signed ? ` · ${t('exchange.hooks.signed')}` : ''}{' '}
            <button type="button" onClick={() => void act(() => api(`/v1/webhooks/${h.id}/test`, { method: 'POST', body: {} }))}>
              {t('exchange.hooks.test')}
            </button>{' '}
            <button type="button" onClick={() => void act(() => api(`/v1/webhooks/${h.id}`, { method: 'DELETE' }))}>
              {t('exchange.hooks.remove')}
            </button>
          </li>
        ))}
      </ul>
      <h3>{t('exchange.hooks.log')}</h3>
      <div class="table-wrap">
        <table class="responsive" data-table="webhook-log">
          <thead>
            <tr>
              <th scope="col">{t('exchange.hooks.at')}</th>
              <th scope="col">{t('exchange.hooks.event')}</th>
              <th scope="col">{t('exchange.hooks.message')}</th>
              <th scope="col">{t('exchange.hooks.state')}</th>
              <th scope="col">{t('exchange.hooks.attempts')}</th>
            </tr>
          </thead>
          <tbody>
            {log.slice(0, 100).map((d) => (
              <tr key={d.id} data-state={d.state}>
                <td>{d.at.slice(0, 19).replace('T', ' ')}</td>
                <td>{t(`exchange.hooks.event.${d.event as (typeof EVENTS)[number]}`)}</td>
                <td>{d.title}</td>
                <td>
                  {t(`exchange.hooks.state.${d.state as 'pending' | 'delivered' | 'failed'}`)}
                  {d.error ? <span class="muted small"> {d.error}</span> : null}
                </td>
                <td>{d.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** 数据交换: offline bundles, exports for partners (HXL, EPCIS) and webhooks. */
export function ExchangePage() {
  return (
    <div class="page">
      <h1>{t('exchange.title')}</h1>
      <BundleSection />
      <ExportSection />
      <WebhookSection />
    </div>
  );
}
