import { ERROR_CODES, type ErrorCode, ShuniuError } from '@shuniu/protocol';

/**
 * One request to a node for the export and bundle commands: the answer's
 * bytes, or the node's problem document as a ShuniuError with its code.
 */
export async function nodeRequest(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  o: { token?: string | undefined; body?: Uint8Array | string; contentType?: string } = {},
): Promise<{ bytes: Uint8Array; headers: Headers }> {
  let u: URL;
  try {
    u = new URL(path, base);
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `not a URL: ${base}`, { cause });
  }
  let res: Response;
  try {
    res = await fetch(u, {
      method,
      headers: { ...(o.contentType ? { 'content-type': o.contentType } : {}), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      ...(o.body !== undefined ? { body: o.body } : {}),
    });
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot reach ${u.origin}: ${(cause as Error).message}`, { cause });
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) {
    const text = Buffer.from(bytes).toString('utf8');
    let p: { code?: string; detail?: string } = {};
    try {
      p = JSON.parse(text) as typeof p;
    } catch {
      // Not a problem document: the status says it.
    }
    const code = (ERROR_CODES as readonly string[]).includes(p.code ?? '') ? (p.code as ErrorCode) : 'E_ARGUMENT';
    throw new ShuniuError(code, `${method} ${u.pathname}: HTTP ${res.status} ${p.detail ?? text.slice(0, 300)}`);
  }
  return { bytes, headers: res.headers };
}
