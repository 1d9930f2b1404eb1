import { readSheet, type SheetKind, type SheetResult, type SheetRow, sheetSummary, UNIT_NAMES } from '@shuniu/protocol';
import { useState } from 'preact/hooks';
import { Notice } from '../components/ui.js';
import { ApiError, publish } from '../lib/api.js';
import { regionLabel, regionTable } from '../lib/regions.js';
import { readCells } from '../lib/sheet-file.js';
import { t, useApp } from '../lib/store.js';

type Outcome = { id: string } | { error: string };

/**
 * Spreadsheets in (issue 18 point 4), as `shuniu import`: the operator picks
 * an XLSX or CSV file of needs or offers; every row is previewed with what
 * will be posted or its problem before anything is signed; then the good rows
 * are posted through this node, contact, phone and address as private fields.
 */
export function ImportPage() {
  const s = useApp();
  const [kind, setKind] = useState<SheetKind>('needs');
  const [within, setWithin] = useState('');
  const [campaign, setCampaign] = useState('');
  const [file, setFile] = useState<File | undefined>(undefined);
  const [result, setResult] = useState<SheetResult | undefined>(undefined);
  const [error, setError] = useState('');
  const [outcomes, setOutcomes] = useState<Map<number, Outcome>>(new Map());
  const [busy, setBusy] = useState(false);

  async function read(f: File | undefined, k: SheetKind = kind, w = within, c = campaign) {
    setFile(f);
    setResult(undefined);
    setOutcomes(new Map());
    setError('');
    if (!f) return;
    try {
      const cells = await readCells(f);
      setResult(
        readSheet(cells, { kind: k, regions: regionTable(), within: w.replace(/(00)+$/, ''), now: Date.now(), ...(c.trim() ? { campaign: c.trim() } : {}) }),
      );
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function post() {
    if (!result) return;
    setBusy(true);
    const done = new Map(outcomes);
    for (const r of result.rows) {
      if (!r.ok || done.has(r.row)) continue;
      try {
        const { id } = await publish(`/v1/${result.kind}`, { ...r.body, ...(r.private ? { private: r.private } : {}) });
        done.set(r.row, { id });
      } catch (e) {
        done.set(r.row, { error: e instanceof ApiError ? `${e.code ?? ''} ${e.message}` : String(e) });
      }
      setOutcomes(new Map(done));
    }
    setBusy(false);
  }

  if (!s.signedIn) return <Notice kind="warn">{t('import.signin')}</Notice>;
  const ok = result?.rows.filter((r) => r.ok).length ?? 0;
  const posted = [...outcomes.values()].filter((o) => 'id' in o).length;
  return (
    <>
      <h1>{t('import.title')}</h1>
      <p class="lead">{t('import.intro')}</p>
      <form class="record-form" onSubmit={(e) => e.preventDefault()}>
        <div class="grid">
          <div class="field">
            <label for="imp-kind">{t('import.kind')}</label>
            <select
              id="imp-kind"
              value={kind}
              onChange={(e) => {
                const k = (e.currentTarget as HTMLSelectElement).value as SheetKind;
                setKind(k);
                void read(file, k);
              }}
            >
              <option value="needs">{t('nav.needs')}</option>
              <option value="offers">{t('nav.offers')}</option>
            </select>
          </div>
          <div class="field">
            <label for="imp-within">{t('import.within')}</label>
            <input id="imp-within" inputMode="numeric" value={within} onChange={(e) => setWithin((e.currentTarget as HTMLInputElement).value.trim())} />
          </div>
          <div class="field">
            <label for="imp-campaign">{t('field.campaign')}</label>
            <input id="imp-campaign" value={campaign} onChange={(e) => setCampaign((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="imp-file">{t('import.file')}</label>
            <input id="imp-file" type="file" accept=".xlsx,.csv" onChange={(e) => void read((e.currentTarget as HTMLInputElement).files?.[0])} />
          </div>
        </div>
      </form>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      {result ? (
        <>
          <p id="imp-summary" role="status">
            {sheetSummary(result)}
            {result.ignored.length ? ` · ${t('import.ignored')}: ${result.ignored.join('、')}` : ''}
          </p>
          <p>
            <button type="button" id="imp-post" class="primary" disabled={busy || ok === 0 || posted === ok} onClick={() => void post()}>
              {t('import.post', { n: ok - posted })}
            </button>{' '}
            {outcomes.size ? <span id="imp-posted">{t('import.posted', { n: posted, of: ok })}</span> : null}
          </p>
          <div class="table-wrap">
            <table class="responsive" id="imp-preview">
              <caption class="sr-only">{t('import.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('import.row')}</th>
                  <th scope="col">{t('import.status')}</th>
                  <th scope="col">{t('field.item')}</th>
                  <th scope="col">{t('field.quantity')}</th>
                  <th scope="col">{t('field.region')}</th>
                  <th scope="col">{kind === 'needs' ? t('field.requester.name') : t('field.donor.name')}</th>
                  <th scope="col">{t('import.problem')}</th>
                </tr>
              </thead>
              <tbody>
                {result.rows.map((r) => (
                  <PreviewRow key={r.row} r={r} outcome={outcomes.get(r.row)} lang={s.lang} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}

function PreviewRow({ r, outcome, lang }: { r: SheetRow; outcome: Outcome | undefined; lang: 'zh' | 'en' }) {
  if (!r.ok)
    return (
      <tr class="invalid" data-row={r.row} data-status="error">
        <th scope="row">{r.row}</th>
        <td>{t('import.error')}</td>
        <td colSpan={4} />
        <td class="error">{r.reason}</td>
      </tr>
    );
  const b = r.body as { quantity: number; unit: { name: string; size: number }; region: string; requester?: { name: string }; donor?: { name: string } };
  const unit = (u: string) => UNIT_NAMES[u]?.[lang] ?? u;
  const status = outcome ? ('id' in outcome ? 'posted' : 'refused') : 'ok';
  return (
    <tr data-row={r.row} data-status={status}>
      <th scope="row">{r.row}</th>
      <td>{t(status === 'posted' ? 'import.posted_' : `import.${status}`)}</td>
      <td>
        {r.item.name[lang]} <code class="small">{r.item.code}</code>
      </td>
      <td>
        {b.quantity} {unit(b.unit.name)}
        {b.unit.size !== 1 ? ` = ${r.baseQuantity} ${unit(r.item.base)}` : ''}
      </td>
      <td>{regionLabel(b.region, lang)}</td>
      <td>{b.requester?.name ?? b.donor?.name}</td>
      <td>{outcome && 'error' in outcome ? outcome.error : ''}</td>
    </tr>
  );
}
