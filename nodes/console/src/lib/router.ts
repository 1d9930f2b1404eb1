import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`#/needs?region=420902`): the node serves one page at `/` and needs no server routing. */
export interface Route {
  path: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  const path = (q < 0 ? h : h.slice(0, q)) || '/';
  return { path: path.startsWith('/') ? path : `/${path}`, params: new URLSearchParams(q < 0 ? '' : h.slice(q + 1)) };
}

export function href(path: string, params?: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== '') p.set(k, v);
  const qs = p.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(path: string, params?: Record<string, string | undefined>, replace = false): void {
  const h = href(path, params);
  if (replace) history.replaceState(null, '', h);
  else location.hash = h;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/**
 * Takes a sign-in token from the fragment (`#token=…`, as printed by
 * `shuniu start` and the demo) and removes it from the address bar and the
 * history, so it is not left in bookmarks or screenshots.
 */
export function takeTokenFromHash(): string | undefined {
  const m = location.hash.match(/^#(?:\/[^?]*\?)?(?:.*&)?token=([A-Za-z0-9_.-]+)/);
  if (!m) return undefined;
  const route = parseHash(location.hash.startsWith('#token=') ? '' : location.hash);
  route.params.delete('token');
  const rest = route.params.toString();
  const path = route.path === '/' ? '/needs' : route.path;
  history.replaceState(null, '', `${location.pathname}${location.search}#${path}${rest ? `?${rest}` : ''}`);
  return m[1];
}
