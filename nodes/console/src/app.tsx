import { useEffect, useRef, useState } from 'preact/hooks';
import { hubName } from './components/cards.js';
import { type Route, useRoute } from './lib/router.js';
import { setLang, signOut, t, useApp } from './lib/store.js';
import { BundlesPage } from './pages/bundles.js';
import { CustodyPage } from './pages/custody.js';
import { DeliveryNotePage } from './pages/delivery-note.js';
import { ExchangePage } from './pages/exchange.js';
import { ImportPage } from './pages/import.js';
import { IntakePage, IntakeQueuePage, TrackPage } from './pages/intake.js';
import { MapPage } from './pages/map.js';
import { MatchingPage } from './pages/matching.js';
import { NeedsPage } from './pages/needs.js';
import { NetworkPage } from './pages/network.js';
import { OffersPage } from './pages/offers.js';
import { PublicPage } from './pages/public.js';
import { ReportsPage } from './pages/reports.js';
import { SignInPage, SignOutEverywhere } from './pages/signin.js';

const NAV = ['public', 'needs', 'offers', 'bundles', 'matching', 'custody', 'map', 'network', 'reports', 'exchange', 'import'] as const;

function page(route: Route, signedIn: boolean) {
  switch (route.path) {
    case '/public':
      return <PublicPage route={route} />;
    // Intake (spec/node.md §8.7): the form and the tracking page need no sign-in; the queue is the operator's.
    case '/intake':
      return <IntakePage />;
    case '/track':
      return <TrackPage route={route} />;
    case '/intake-queue':
      return <IntakeQueuePage />;
    case '/needs':
      return <NeedsPage route={route} />;
    case '/offers':
      return <OffersPage route={route} />;
    case '/bundles':
      return <BundlesPage route={route} />;
    case '/matching':
      return <MatchingPage />;
    case '/custody':
      return <CustodyPage route={route} />;
    case '/map':
      return <MapPage route={route} />;
    case '/network':
      return <NetworkPage />;
    case '/reports':
      return <ReportsPage />;
    case '/exchange':
      return <ExchangePage />;
    case '/import':
      return <ImportPage />;
    case '/delivery-note':
      return <DeliveryNotePage route={route} />;
    case '/signin':
      return <SignInPage />;
    default:
      return signedIn ? <NeedsPage route={route} /> : <PublicPage route={route} />;
  }
}

export function App() {
  const s = useApp();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // Moving between pages moves focus to the new page, as a page load would.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [route.path]);
  useEffect(() => {
    document.title = t('app.title');
  }, [s.lang]);
  // The latest record's note stays a few seconds, then clears.
  const [toast, setToast] = useState('');
  useEffect(() => {
    if (!s.lastRecord) return;
    setToast(t('live.new', { type: t(`record.${s.lastRecord.type}`), hub: hubName(s.lastRecord.hub) }));
    const timer = setTimeout(() => setToast(''), 6000);
    return () => clearTimeout(timer);
  }, [s.lastRecord]);
  const current = route.path === '/' ? (s.signedIn ? '/needs' : '/public') : route.path;
  const nodeName = s.node?.profile?.name ? (s.lang === 'en' && s.node.profile.name.en ? s.node.profile.name.en : s.node.profile.name.zh) : undefined;
  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        {t('app.skip')}
      </button>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            枢
          </span>
          <span>
            <strong>{t('app.title')}</strong>
            {nodeName ? <span class="node-name">{nodeName}</span> : null}
          </span>
        </div>
        <div class="top-actions">
          <span class={`live live-${s.live}`} role="status" aria-live="polite">
            <span class="live-dot" aria-hidden="true" />
            <span class="live-text">{t(`live.${s.live}`)}</span>
          </span>
          <button
            type="button"
            class="lang"
            aria-label={t('lang.label')}
            lang={s.lang === 'zh' ? 'en' : 'zh-CN'}
            onClick={() => setLang(s.lang === 'zh' ? 'en' : 'zh')}
          >
            {t('lang.switch')}
          </button>
          {s.signedIn ? (
            <>
              <button type="button" onClick={signOut}>
                {t('nav.signout')}
              </button>
              <SignOutEverywhere />
            </>
          ) : (
            <a class="button-link" href="#/signin">
              {t('nav.signin')}
            </a>
          )}
        </div>
      </header>
      <nav aria-label={t('nav.menu')} class="nav">
        <ul>
          {NAV.map((k) => (
            <li key={k}>
              <a href={`#/${k}`} aria-current={current === `/${k}` ? 'page' : undefined}>
                {t(`nav.${k}`)}
              </a>
            </li>
          ))}
          <li>
            <a href="#/intake" aria-current={current === '/intake' ? 'page' : undefined}>
              {t('nav.intake')}
            </a>
          </li>
          {s.signedIn ? (
            <li>
              <a href="#/intake-queue" aria-current={current === '/intake-queue' ? 'page' : undefined}>
                {t('nav.intakeQueue')}
              </a>
            </li>
          ) : null}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} ref={main}>
        {page(route, s.signedIn)}
      </main>
      <div class="toast" role="status" aria-live="polite">
        {toast}
      </div>
    </>
  );
}
