import type { HubState, ShipmentState } from '@shuniu/resolve';
import { useEffect, useRef, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import { hubName } from '../components/cards.js';
import { Notice } from '../components/ui.js';
import { api } from '../lib/api.js';
import { qty, when } from '../lib/format.js';
import type { Route } from '../lib/router.js';
import { getState, t, useApp } from '../lib/store.js';

interface HandoffRecord {
  body: {
    shipment: string;
    carrier?: { name: string; kind: string };
    waybill?: string;
    expectedArrival: string;
    lines: { item: { code: string; name: string }; quantity: number; unit: { name: string; base: string; size: number }; lot?: string; expiry?: string }[];
  };
  hlc: { ms: number };
}

/**
 * Where the receiving hub signs for a shipment: its node's console, custody
 * page, receipt form opened for this shipment. The hub's first endpoint from
 * its profile; this console's own origin when the receiver is this node or
 * names none.
 */
export function receiptUrl(receiver: HubState | undefined, shipmentId: string, self: string | undefined): string {
  const endpoint = receiver?.id !== self ? receiver?.profile?.endpoints[0] : undefined;
  const base = (endpoint ?? `${location.origin}${location.pathname}`).replace(/\/+$/, '');
  return `${base}/#/custody?receive=${encodeURIComponent(shipmentId)}`;
}

/** 送货单: a printable delivery note for one shipment, its receipt link as a QR code. */
export function DeliveryNotePage({ route }: { route: Route }) {
  const s = useApp();
  const id = route.params.get('shipment') ?? '';
  const sh: ShipmentState | undefined = (s.shipments ?? []).find((x) => x.id === id || x.handoff === id);
  const [record, setRecord] = useState<HandoffRecord>();
  const [receiver, setReceiver] = useState<HubState>();
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState<string>();
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    if (!sh) return;
    let live = true;
    Promise.all([api<HandoffRecord>(`/v1/records/${encodeURIComponent(sh.handoff)}`), api<{ hubs: HubState[] }>('/v1/state/hubs?limit=5000')])
      .then(([r, h]) => {
        if (!live) return;
        setRecord(r);
        setReceiver(h.hubs.find((x) => x.id === sh.to));
        setUrl(
          receiptUrl(
            h.hubs.find((x) => x.id === sh.to),
            sh.id,
            getState().node?.hub,
          ),
        );
      })
      .catch((e) => live && setError(String((e as Error).message ?? e)));
    return () => {
      live = false;
    };
  }, [sh?.id, sh?.handoff]);

  useEffect(() => {
    if (!url || !canvas.current) return;
    QRCode.toCanvas(canvas.current, url, { errorCorrectionLevel: 'M', margin: 4, scale: 5 }).catch((e: unknown) => setError(String(e)));
  }, [url]);

  if (!s.shipments) return <p class="muted">{t('common.loading')}</p>;
  if (!sh)
    return (
      <div class="page">
        <h1>{t('note.title')}</h1>
        <Notice kind="warn">{t('note.unknown', { id })}</Notice>
      </div>
    );
  const { lang } = s;
  const body = record?.body;
  return (
    <article class="delivery-note" data-shipment={sh.id} aria-labelledby="note-h">
      <div class="no-print actions">
        <a href="#/custody">← {t('nav.custody')}</a>
        <button type="button" class="primary" onClick={() => window.print()}>
          {t('note.print')}
        </button>
      </div>
      <header class="note-head">
        <div>
          <h1 id="note-h">{t('note.title')}</h1>
          <p>
            {t('note.shipment')} <strong data-field="shipment">{sh.shipment}</strong>
          </p>
          <dl class="note-meta">
            <dt>{t('note.from')}</dt>
            <dd>{hubName(sh.from)}</dd>
            <dt>{t('note.to')}</dt>
            <dd>{hubName(sh.to) || receiver?.profile?.name.zh}</dd>
            <dt>{t('note.shipped')}</dt>
            <dd>{record ? when(record.hlc.ms, lang) : '…'}</dd>
            <dt>{t('note.expected')}</dt>
            <dd>{when(sh.expectedArrival, lang)}</dd>
            {body?.carrier ? (
              <>
                <dt>{t('note.carrier')}</dt>
                <dd>
                  {body.carrier.name} ({t(`carrierKind.${body.carrier.kind}`)})
                </dd>
              </>
            ) : null}
            {body?.waybill ? (
              <>
                <dt>{t('note.waybill')}</dt>
                <dd>{body.waybill}</dd>
              </>
            ) : null}
          </dl>
        </div>
        <figure class="note-qr">
          <canvas ref={canvas} data-qr={url ?? ''} aria-label={t('note.qrLabel')} />
          <figcaption>
            {t('note.scan')}
            <br />
            <code class="small">{sh.id}</code>
          </figcaption>
        </figure>
      </header>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      <table class="note-lines">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('note.item')}</th>
            <th scope="col">{t('note.code')}</th>
            <th scope="col">{t('note.quantity')}</th>
            <th scope="col">{t('note.lot')}</th>
            <th scope="col">{t('note.expiry')}</th>
            <th scope="col">{t('note.received')}</th>
          </tr>
        </thead>
        <tbody>
          {sh.lines.map((l, i) => (
            <tr key={`${l.item.code}-${i}`}>
              <td>{i + 1}</td>
              <td>{l.item.name}</td>
              <td>
                <code>{l.item.code}</code>
              </td>
              <td>{qty(l.shipped, l.unit, lang)}</td>
              <td>{l.lot ?? ''}</td>
              <td>{l.expiry ? when(l.expiry, lang) : ''}</td>
              <td class="blank" />
            </tr>
          ))}
        </tbody>
      </table>
      <div class="note-sign">
        <p>{t('note.signSender')} ________________</p>
        <p>{t('note.signCarrier')} ________________</p>
        <p>{t('note.signReceiver')} ________________</p>
      </div>
      <p class="muted small">{t('note.footer', { handoff: sh.handoff })}</p>
    </article>
  );
}
