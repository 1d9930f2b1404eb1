import { useState } from 'preact/hooks';
import { Notice } from '../components/ui.js';
import { ApiError } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { signIn, t, useApp } from '../lib/store.js';

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
      {s.signedIn ? <Notice kind="ok">{t('signin.ok')}</Notice> : null}
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
