import { useEffect, useState } from 'preact/hooks';
import { hubName } from '../components/cards.js';
import { Badge, Notice } from '../components/ui.js';
import { ApiError, api } from '../lib/api.js';
import { shortId, when } from '../lib/format.js';
import { regionName } from '../lib/regions.js';
import { getState, t, useApp } from '../lib/store.js';

/** A row of GET /v1/peers (nodes/hub/src/store/types.ts PeerRow). */
interface Peer {
  url: string;
  role: string;
  hub: string | null;
  push: boolean;
  pull: boolean;
  cursor: number;
  failures: number;
  nextAttemptMs: number;
  parked: boolean;
  lastError: string | null;
}

export function NetworkPage() {
  const s = useApp();
  const [peers, setPeers] = useState<Peer[]>();
  const [peerError, setPeerError] = useState<string>();
  const [hash, setHash] = useState<{ stateHash: string; records: number }>();
  const [heads, setHeads] = useState<Record<string, number>>({});
  useEffect(() => {
    let live = true;
    api<{ stateHash: string; records: number }>('/v1/state/hash')
      .then((h) => live && setHash(h))
      .catch(() => undefined);
    api<{ heads: Record<string, number> }>('/v1/heads')
      .then((h) => live && setHeads(h.heads))
      .catch(() => undefined);
    if (s.signedIn)
      api<{ peers: Peer[] }>('/v1/peers')
        .then((r) => {
          if (live) {
            setPeers(r.peers);
            setPeerError(undefined);
          }
        })
        .catch((e) => live && setPeerError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)));
    return () => {
      live = false;
    };
  }, [s.feedVersion, s.signedIn]);
  return (
    <>
      <h1>{t('network.title')}</h1>
      {hash ? (
        <p class="muted small">
          {t('network.state')}: <code>{hash.stateHash.slice(0, 16)}…</code> · {hash.records}
        </p>
      ) : null}
      <section aria-labelledby="peers-h">
        <h2 id="peers-h">{t('network.peers')}</h2>
        {!s.signedIn ? <Notice kind="warn">{t('common.needSignin')}</Notice> : null}
        {peerError ? <Notice kind="warn">{peerError}</Notice> : null}
        {peers?.length === 0 ? <p class="muted">{t('common.none')}</p> : null}
        {peers?.length ? (
          <div class="table-wrap">
            <table class="responsive">
              <thead>
                <tr>
                  <th scope="col">{t('network.peer.url')}</th>
                  <th scope="col">{t('network.peer.role')}</th>
                  <th scope="col">{t('network.peer.cursor')}</th>
                  <th scope="col">{t('network.peer.lag')}</th>
                  <th scope="col">{t('network.peer.state')}</th>
                  <th scope="col">{t('network.peer.error')}</th>
                </tr>
              </thead>
              <tbody>
                {peers.map((p) => (
                  <tr key={p.url} data-peer={p.url}>
                    <td data-label={t('network.peer.url')}>
                      <code>{p.url}</code>
                      {p.hub ? <div class="muted small">{hubName(p.hub)}</div> : null}
                    </td>
                    <td data-label={t('network.peer.role')}>
                      {t(`role.${p.role}`)}
                      {p.push ? ' ↑' : ''}
                      {p.pull ? ' ↓' : ''}
                    </td>
                    <td data-label={t('network.peer.cursor')}>{p.cursor}</td>
                    <td data-label={t('network.peer.lag')}>{hash && p.push ? Math.max(0, hash.records - p.cursor) : '—'}</td>
                    <td data-label={t('network.peer.state')}>
                      {p.parked ? (
                        <Badge kind="danger">{t('network.peer.parked')}</Badge>
                      ) : p.failures ? (
                        <Badge kind="warn">{t('network.peer.retrying', { n: p.failures })}</Badge>
                      ) : (
                        <Badge kind="ok">{t('network.peer.ok')}</Badge>
                      )}
                      {p.nextAttemptMs > Date.now() ? <div class="muted small">{when(p.nextAttemptMs, s.lang)}</div> : null}
                    </td>
                    <td data-label={t('network.peer.error')}>{p.lastError ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <section aria-labelledby="hubs-h">
        <h2 id="hubs-h">{t('network.hubs')}</h2>
        {s.missing.hubs ? <Notice kind="warn">{t('common.notAvailable', { what: s.missing.hubs })}</Notice> : null}
        <ul class="hubs">
          {(s.hubs ?? []).map((h) => (
            <li key={h.id}>
              <strong>{hubName(h.id)}</strong> <code class="muted">{shortId(h.id)}</code> · {h.level ?? ''} {regionName(h.region, s.lang)}
              {h.status && h.status !== 'active' ? <Badge kind="danger">{h.status}</Badge> : null}
              {h.trusted === false ? <Badge kind="warn">{getState().lang === 'zh' ? '未获接纳' : 'not admitted'}</Badge> : null}
              <span class="muted small">
                {' '}
                · {t('network.heads')} {heads[h.id] ?? h.head ?? '—'}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <Conflicts />
    </>
  );
}

function Conflicts() {
  const s = useApp();
  const list = s.conflicts ?? [];
  return (
    <section aria-labelledby="conflicts-h">
      <h2 id="conflicts-h">{t('network.conflicts')}</h2>
      {s.missing.conflicts ? <Notice kind="warn">{t('common.notAvailable', { what: s.missing.conflicts })}</Notice> : null}
      {s.conflicts && list.length === 0 ? <p class="muted">{t('network.conflictsNone')}</p> : null}
      {list.map((c) => (
        <article class="card conflict" key={c.id} data-conflict={c.id}>
          <h3>
            <Badge kind="danger">{c.rule}</Badge> <code class="small">{c.id.split('/')[0]?.slice(0, 8)}</code>
          </h3>
          <p class="small">
            {Object.entries(c.detail)
              .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
              .join(' · ')}
          </p>
          <p class="small">{c.hubs.map((h) => hubName(h)).join(', ')}</p>
          <h4>{t('network.records')}</h4>
          <ul>
            {c.records.map((r) => (
              <li key={r}>
                <RecordPeek id={r} />
              </li>
            ))}
          </ul>
        </article>
      ))}
    </section>
  );
}

/** A record id that opens to its signed JSON (GET /v1/records/:id). */
function RecordPeek({ id }: { id: string }) {
  const [json, setJson] = useState<string>();
  return (
    <details
      onToggle={(e) => {
        if ((e.currentTarget as HTMLDetailsElement).open && json === undefined)
          api<unknown>(`/v1/records/${id}`)
            .then((r) => setJson(JSON.stringify(r, null, 2)))
            .catch((err) => setJson(String(err)));
      }}
    >
      <summary>
        <code>{shortId(id)}</code>
      </summary>
      <pre class="record-json">{json ?? t('common.loading')}</pre>
    </details>
  );
}
