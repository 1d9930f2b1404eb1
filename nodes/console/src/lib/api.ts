/**
 * Calls to the node that serves the console (same origin): the HTTP API of
 * spec/node.md. Errors come back as RFC 9457 problem documents carrying the
 * protocol's error code and, for E_SCHEMA, zod's issues.
 */
export interface Issue {
  code: string;
  path: (string | number)[];
  message: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

let token: string | undefined;

/** Sets the operator token sent as a bearer on every call (undefined signs out). */
export function setToken(t: string | undefined): void {
  token = t;
}

export function getToken(): string | undefined {
  return token;
}

/** The node's base URL: the page's own origin, or `?node=` in development. */
export const base = '';

/**
 * One JSON call. `auth: false` leaves the token out (public reads).
 *
 * @example const { needs } = await api<{ needs: NeedState[] }>('/v1/state/needs')
 */
export async function api<T>(path: string, init: { method?: string; body?: unknown; auth?: boolean; token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const bearer = init.token ?? (init.auth === false ? undefined : token);
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(base + path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? null : JSON.stringify(init.body) });
  } catch (cause) {
    throw new ApiError(0, 'E_NETWORK', `the node cannot be reached (${(cause as Error).message})`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  if (!res.ok) {
    const p = (json ?? {}) as { code?: string; detail?: string; title?: string; issues?: Issue[] };
    throw new ApiError(res.status, p.code ?? `HTTP_${res.status}`, p.detail ?? p.title ?? res.statusText, Array.isArray(p.issues) ? p.issues : []);
  }
  return json as T;
}

/** Publishes an operator write (POST /v1/needs etc.) and returns the new record id. */
export async function publish(path: string, body: unknown): Promise<{ id: string; warnings?: Issue[] }> {
  return api<{ id: string; warnings?: Issue[] }>(path, { method: 'POST', body });
}
