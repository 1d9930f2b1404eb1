import { useState } from 'preact/hooks';
import { Notice } from '../components/ui.js';
import { ApiError } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { signIn, signOutEverywhere, t, useApp } from '../lib/store.js';

/**
 * "Sign out everywhere" (全部退出登录): revokes every token of this node,
 * the one in use too, after a confirmation, and returns to sign-in.
 */
export function SignOutEverywhere(props: { withHint?: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async () => {
    if (!window.confirm(t('signin.everywhereHint'))) return;
    setBusy(true);
    setError(undefined);
    try {
      await signOutEverywhere();
      navigate('/signin');
    } catch (err) {
      setError(t('signin.everywhereBad', { message: err instanceof ApiError ? `${err.code} ${err.message}` : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {props.withHint ? <p class="hint">{t('signin.everywhereHint')}</p> : null}
      <button type="button" disabled={busy} onClick={run}>
        {t('nav.signoutAll')}
      </button>
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </>
  );
}

export function SignInPage() {
  const s = useApp();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token.trim());
      navigate('/needs');
    } catch (err) {
      setError(t('signin.bad', { message: err instanceof ApiError ? `${err.code} ${err.message}` : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>{t('signin.title')}</h1>
      {s.signedIn ? (
        <>
          <Notice kind="ok">{t('signin.ok')}</Notice>
          <section class="narrow" aria-label={t('signin.everywhere')}>
            <SignOutEverywhere withHint />
          </section>
        </>
      ) : null}
      <p class="lead">{t('signin.intro')}</p>
      <form onSubmit={submit} class="record-form narrow" noValidate>
        {error ? (
          <div class="error-summary" role="alert">
            {error}
          </div>
        ) : null}
        <div class="field">
          <label for="token">{t('signin.token')}</label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
          {busy ? t('signin.checking') : t('signin.submit')}
        </button>
      </form>
    </>
  );
}
