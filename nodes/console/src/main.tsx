import { render } from 'preact';
import { App } from './app.js';
import { setToken } from './lib/api.js';
import { loadDivisions } from './lib/regions.js';
import { takeTokenFromHash } from './lib/router.js';
import { getState, loadNode, refresh, savedToken, setLang, signIn, startLive, update } from './lib/store.js';
import './styles.css';

async function boot() {
  setLang(getState().lang);
  const fromLink = takeTokenFromHash();
  const token = fromLink ?? savedToken();
  // The places of all of China (a chunk of their own) before the first paint, so no code ever shows without its name.
  await loadDivisions();
  render(<App />, document.getElementById('app') as HTMLElement);
  void loadNode();
  void refresh();
  startLive();
  if (token) {
    try {
      await signIn(token);
    } catch {
      // An expired or foreign token: stay on the public pages and offer the sign-in form.
      setToken(undefined);
      update({ signedIn: false });
      if (fromLink) location.hash = '#/signin';
    }
  }
}

void boot();
