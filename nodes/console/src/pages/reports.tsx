import { useEffect, useState } from 'preact/hooks';
import { hubName } from '../components/cards.js';
import { LineChart } from '../components/chart.js';
import { Notice } from '../components/ui.js';
import { api } from '../lib/api.js';
import { num, yuan } from '../lib/format.js';
import { buildReport, type DeliveryRecord, type ReportRow, toCsv } from '../lib/reports.js';
import { t, useApp } from '../lib/store.js';

/** Reads every custody.delivered record from the node's feed (bounded: at most 40 pages of 5,000). */
async function loadDeliveries(): Promise<DeliveryRecord[]> {
  const out: DeliveryRecord[] = [];
  let after = 0;
  for (let page = 0; page < 40; page++) {
    const r = await api<{ records: { ord: number; record: DeliveryRecord }[]; cursor: number; head?: number }>(
      `/v1/feed?types=custody.delivered&limit=5000&after=${after}`,
    );
    for (const x of r.records) out.push(x.record);
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
  const [deliveries, setDeliveries] = useState<DeliveryRecord[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    loadDeliveries()
      .then((d) => live && setDeliveries(d))
      .catch((e) => live && setError(String(e)));
    return () => {
      live = false;
    };
  }, [s.feedVersion]);
  const report = buildReport(s.offers ?? [], s.needs ?? [], deliveries ?? []);
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
              [keyLabel, 'money_cny', 'goods_cny', 'units_supported', 'people_reached'],
              rows.map((r) => [name(r.key), r.moneyFen / 100, r.goodsFen / 100, r.units, r.people]),
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
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row" data-label={keyLabel}>
                  {name(r.key)}
                </th>
                <td data-label={t('reports.money')}>{yuan(r.moneyFen, s.lang)}</td>
                <td data-label={t('reports.goods')}>{yuan(r.goodsFen, s.lang)}</td>
                <td data-label={t('reports.units')}>{num(r.units, s.lang)}</td>
                <td data-label={t('reports.people')}>{num(r.people, s.lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
  const series = report.series;
  return (
    <>
      <h1>{t('reports.title')}</h1>
      <p class="lead">{t('reports.intro')}</p>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      <section aria-labelledby="over-time">
        <h2 id="over-time">{t('reports.overTime')}</h2>
        <div class="charts">
          <LineChart title={t('reports.money')} points={series.map((p) => ({ day: p.day, value: p.moneyFen }))} format={(v) => yuan(v, s.lang)} />
          <LineChart title={t('reports.goods')} points={series.map((p) => ({ day: p.day, value: p.goodsFen }))} format={(v) => yuan(v, s.lang)} />
          <LineChart title={t('reports.units')} points={series.map((p) => ({ day: p.day, value: p.units }))} />
          <LineChart title={t('reports.people')} points={series.map((p) => ({ day: p.day, value: p.people }))} />
        </div>
      </section>
      {table('by-campaign', t('reports.byCampaign'), t('reports.campaign'), report.byCampaign, (k) => k || t('reports.noCampaign'))}
      {table('by-hub', t('reports.byHub'), t('reports.hub'), report.byHub, (k) => hubName(k))}
    </>
  );
}
