import { type RecordOf, recordId, unitLabel } from '@shuniu/protocol';
import { useEffect, useState } from 'preact/hooks';
import { hubName } from '../components/cards.js';
import { DailyChart } from '../components/chart.js';
import { Notice } from '../components/ui.js';
import { api } from '../lib/api.js';
import { num, yuan } from '../lib/format.js';
import { buildReport, type ReportRow, toCsv } from '../lib/reports.js';
import { t, useApp } from '../lib/store.js';

/**
 * When each custody.delivered record happened (record id → `body.delivered`),
 * read from the node's feed (bounded: at most 40 pages of 5,000). Only the
 * dates are taken from it, for the series: which deliveries count, and every
 * figure, come from the resolved state (spec/resolution.md §10).
 */
async function loadDeliveryDates(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let after = 0;
  for (let page = 0; page < 40; page++) {
    const r = await api<{ records: { ord: number; record: RecordOf<'custody.delivered'> }[]; cursor: number; head?: number }>(
      `/v1/feed?types=custody.delivered&limit=5000&after=${after}`,
    );
    for (const x of r.records) out.set(recordId(x.record), x.record.body.delivered);
    // A page may be short while more follow (the node looks at a bounded range per call): read on up to `head`.
    if (r.cursor === after || (r.head === undefined ? r.records.length < 5000 : r.cursor >= r.head)) break;
    after = r.cursor;
  }
  return out;
}

function download(name: string, csv: string) {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function ReportsPage() {
  const s = useApp();
  const [dates, setDates] = useState<Map<string, string>>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    loadDeliveryDates()
      .then((d) => live && setDates(d))
      .catch((e) => live && setError(String(e)));
    return () => {
      live = false;
    };
  }, [s.feedVersion]);
  const report = buildReport({ needs: s.needs ?? [], offers: s.offers ?? [], allocations: s.allocations ?? [], deliveredAt: dates ?? new Map() });
  const table = (id: string, title: string, keyLabel: string, rows: ReportRow[], name: (k: string) => string) => (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <button
        type="button"
        data-csv={id}
        onClick={() =>
          download(
            `shuniu-${id}.csv`,
            toCsv(
              [keyLabel, 'money_cny', 'goods_cny', 'units_supported', 'people_reached', 'needs_reached', 'deliveries'],
              rows.map((r) => [name(r.key), r.moneyFen / 100, r.goodsFen / 100, r.units, r.people, r.needsReached, r.deliveries]),
            ),
          )
        }
      >
        {t('reports.csv')}
      </button>
      <div class="table-wrap">
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">{keyLabel}</th>
              <th scope="col">{t('reports.money')}</th>
              <th scope="col">{t('reports.goods')}</th>
              <th scope="col">{t('reports.units')}</th>
              <th scope="col">{t('reports.people')}</th>
              <th scope="col">{t('reports.needsReached')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-row={r.key}>
                <th scope="row" data-label={keyLabel}>
                  {name(r.key)}
                </th>
                <td data-label={t('reports.money')}>{yuan(r.moneyFen, s.lang)}</td>
                <td data-label={t('reports.goods')}>{yuan(r.goodsFen, s.lang)}</td>
                <td data-label={t('reports.units')}>{num(r.units, s.lang)}</td>
                <td data-label={t('reports.people')} data-people={r.people}>
                  {num(r.people, s.lang)}
                </td>
                <td data-label={t('reports.needsReached')}>{num(r.needsReached, s.lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
  const { series, totals } = report;
  const fact = (key: string, value: string, data: string) => (
    <div>
      <dt>{t(key)}</dt>
      <dd data-total={data}>{value}</dd>
    </div>
  );
  return (
    <>
      <h1>{t('reports.title')}</h1>
      <p class="lead">{t('reports.intro')}</p>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      <section aria-labelledby="totals">
        <h2 id="totals">{t('reports.totals')}</h2>
        <dl class="report-totals">
          {fact('reports.money', yuan(totals.moneyFen, s.lang), 'money')}
          {fact('reports.goods', yuan(totals.goodsFen, s.lang), 'goods')}
          {fact('reports.units', num(totals.units, s.lang), 'units')}
          {fact('reports.people', num(totals.people, s.lang), 'people')}
          {fact('reports.needsReached', num(totals.needsReached, s.lang), 'needs')}
          {fact('reports.deliveries', num(totals.deliveries, s.lang), 'deliveries')}
        </dl>
        <p class="muted">{t('reports.howCounted')}</p>
      </section>
      <section aria-labelledby="over-time">
        <h2 id="over-time">{t('reports.overTime')}</h2>
        <div class="charts">
          <DailyChart title={t('reports.money')} points={series.map((p) => ({ day: p.day, value: p.moneyFen }))} format={(v) => yuan(v, s.lang)} />
          <DailyChart title={t('reports.goods')} points={series.map((p) => ({ day: p.day, value: p.goodsFen }))} format={(v) => yuan(v, s.lang)} />
          <DailyChart title={t('reports.units')} points={series.map((p) => ({ day: p.day, value: p.units }))} />
          <DailyChart title={t('reports.people')} points={series.map((p) => ({ day: p.day, value: p.people }))} />
        </div>
      </section>
      {table('by-campaign', t('reports.byCampaign'), t('reports.campaign'), report.byCampaign, (k) => k || t('reports.noCampaign'))}
      {table('by-hub', t('reports.byHub'), t('reports.hub'), report.byHub, (k) => hubName(k))}
      <section aria-labelledby="by-item">
        <h2 id="by-item">{t('reports.byItem')}</h2>
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">{t('field.item')}</th>
                <th scope="col">{t('reports.delivered')}</th>
                <th scope="col">{t('reports.needsReached')}</th>
              </tr>
            </thead>
            <tbody>
              {report.byItem.map((r) => (
                <tr key={r.code} data-item={r.code}>
                  <th scope="row" data-label={t('field.item')}>
                    {r.name} <small class="muted">{r.code}</small>
                  </th>
                  <td data-label={t('reports.delivered')}>
                    {num(r.delivered, s.lang)} {unitLabel(r.base, s.lang)}
                  </td>
                  <td data-label={t('reports.needsReached')}>{num(r.needsReached, s.lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
