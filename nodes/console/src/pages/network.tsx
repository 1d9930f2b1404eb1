import { useCallback, useEffect, useState } from 'preact/hooks';
import { hubName } from '../components/cards.js';
import { Badge, Notice } from '../components/ui.js';
import { ApiError, api } from '../lib/api.js';
import { shortId, when } from '../lib/format.js';
import { regionLabel, regionName } from '../lib/regions.js';
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
      {s.signedIn ? <JoinRequests /> : null}
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

/** A join code and the admission request it carries (GET /v1/join-codes, spec/node.md §7.1). */
interface JoinView {
  id: string;
  state: 'open' | 'expired' | 'pending' | 'admitted' | 'refused' | 'cancelled';
  level: string | null;
  region: string | null;
  note: string | null;
  expiresMs: number;
  request: { child: string; name: string; level: string; region: string; url?: string; requestedMs: number } | null;
  admission: string | null;
}

const LEVELS = ['national', 'province', 'city', 'county', 'org'] as const;

/**
 * Admission requests (spec/node.md §7.1): make a join code for a new hub,
 * then approve (the node signs hub.admitted) or refuse what it sends.
 */
function JoinRequests() {
  const s = useApp();
  const [codes, setCodes] = useState<JoinView[]>();
  const [error, setError] = useState<string>();
  const [made, setMade] = useState<{ code: string; expiresMs: number; parent: string }>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [level, setLevel] = useState('');
  const [region, setRegion] = useState('');
  const [note, setNote] = useState('');
  const fail = (e: unknown) => setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
  const load = useCallback(() => {
    api<{ codes: JoinView[] }>('/v1/join-codes')
      .then((r) => {
        setCodes(r.codes);
        setError(undefined);
      })
      .catch(fail);
  }, []);
  useEffect(load, [s.feedVersion, load]);
  // A request carries no record (nothing on the live feed): the list is read again every 10 s while the page is open.
  useEffect(() => {
    const every = setInterval(load, 10_000);
    return () => clearInterval(every);
  }, [load]);
  const act = async (fn: () => Promise<string>) => {
    setBusy(true);
    setDone(undefined);
    try {
      setDone(await fn());
      setError(undefined);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
      load();
    }
  };
  const make = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const r = await api<{ code: string; expiresMs: number; parent: string }>('/v1/join-codes', {
        method: 'POST',
        body: { ...(level ? { level } : {}), ...(region ? { region } : {}), ...(note ? { note } : {}) },
      });
      setMade(r);
      return '';
    });
  };
  const decide = (v: JoinView, how: 'approve' | 'refuse') =>
    act(async () => {
      const r = await api<{ id?: string }>(`/v1/join-requests/${encodeURIComponent(v.id)}/${how}`, { method: 'POST', body: {} });
      const name = v.request?.name ?? v.id;
      return how === 'approve' ? t('network.join.approved', { name, id: shortId(r.id) }) : t('network.join.refused', { name });
    });
  const pending = (codes ?? []).filter((c) => c.state === 'pending');
  const open = (codes ?? []).filter((c) => c.state === 'open');
  return (
    <section aria-labelledby="join-h" class="join-requests">
      <h2 id="join-h">{t('network.join')}</h2>
      <p class="muted small">{t('network.join.intro')}</p>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      {done ? <Notice kind="ok">{done}</Notice> : null}
      <h3>{t('network.join.pending')}</h3>
      {codes && pending.length === 0 ? <p class="muted">{t('network.join.none')}</p> : null}
      {pending.length ? (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">{t('network.join.hub')}</th>
                <th scope="col">{t('network.join.standing')}</th>
                <th scope="col">{t('network.join.when')}</th>
                <th scope="col">
                  <span class="sr-only">{t('network.join')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {pending.map((v) => (
                <tr key={v.id} data-join-request={v.id}>
                  <td data-label={t('network.join.hub')}>
                    <strong>{v.request?.name}</strong> <code class="muted small">{shortId(v.request?.child)}</code>
                    {v.request?.url ? <div class="muted small">{v.request.url}</div> : null}
                    {v.note ? <div class="muted small">{v.note}</div> : null}
                  </td>
                  <td data-label={t('network.join.standing')}>
                    {t(`level.${v.request?.level}`)} · {regionName(v.request?.region, s.lang)} <code class="muted small">{v.request?.region}</code>
                  </td>
                  <td data-label={t('network.join.when')}>{when(v.request?.requestedMs, s.lang)}</td>
                  <td>
                    <button type="button" class="primary" disabled={busy} onClick={() => void decide(v, 'approve')}>
                      {t('network.join.approve')}
                    </button>{' '}
                    <button type="button" disabled={busy} onClick={() => void decide(v, 'refuse')}>
                      {t('network.join.refuse')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <h3>{t('network.join.make')}</h3>
      <form class="join-code-form" onSubmit={make}>
        <label>
          {t('network.join.level')}{' '}
          <select id="join-level" value={level} onChange={(e) => setLevel((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t('network.join.any')}</option>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {t(`level.${l}`)}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          {t('network.join.region')}{' '}
          <input
            id="join-region"
            inputMode="numeric"
            pattern="[1-9][0-9]{5}"
            size={8}
            value={region}
            onInput={(e) => setRegion((e.currentTarget as HTMLInputElement).value.trim())}
          />
          {region && regionName(region, s.lang) !== region ? <span class="muted small"> {regionName(region, s.lang)}</span> : null}
        </label>{' '}
        <label>
          {t('network.join.note')} <input id="join-note" maxLength={500} value={note} onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)} />
        </label>{' '}
        <button type="submit" class="primary" disabled={busy}>
          {t('network.join.make')}
        </button>
      </form>
      {made ? (
        <div class="notice notice-ok join-code" role="status">
          <p>{t('network.join.code', { expires: when(made.expiresMs, s.lang) })}</p>
          <p>
            <code class="join-code-text">{made.code}</code>
          </p>
          <p class="small">{t('network.join.give')}</p>
          <pre class="small">{`shuniu join --dir DIR --parent ${location.origin} --code ${made.code}`}</pre>
        </div>
      ) : null}
      {open.length ? (
        <>
          <h3>{t('network.join.open')}</h3>
          <ul>
            {open.map((v) => (
              <li key={v.id} data-join-code={v.id}>
                <code class="small">{v.id}</code> · {v.level ? t(`level.${v.level}`) : t('network.join.any')} ·{' '}
                {v.region ? regionLabel(v.region, s.lang) : t('network.join.any')}
                {v.note ? ` · ${v.note}` : ''} · {t('network.join.expires')} {when(v.expiresMs, s.lang)}{' '}
                <button
                  type="button"
                  disabled={busy}
                  onClick={() =>
                    void act(async () => {
                      await api(`/v1/join-codes/${encodeURIComponent(v.id)}`, { method: 'DELETE' });
                      return '';
                    })
                  }
                >
                  {t('network.join.cancel')}
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
