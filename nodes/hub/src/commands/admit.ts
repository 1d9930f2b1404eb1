import { ERROR_CODES, type ErrorCode, hubIdSchema, hubLevel, regionCode, ShuniuError } from '@shuniu/protocol';
import { regionName } from '../regions.js';
import { args } from './io.js';
import { parseTtl } from './token.js';

/** A region code with its place name: 420100 (武汉市). */
const place = (code: string) => (regionName(code) === code ? code : `${code} (${regionName(code)})`);

const USAGE = `usage: shuniu admit --child HUBID --level LEVEL --region CODE [--child-url URL]   admit a child (signs hub.admitted)
       shuniu admit --revoke --child HUBID [--reason TEXT]                     withdraw that admission (hub.admission.revoked)
       shuniu admit code [--level LEVEL] [--region CODE] [--ttl 24h] [--note TEXT]   a join code for a new hub
       shuniu admit requests                                                   join codes and the requests they carry
       shuniu admit --request ID [--level LEVEL] [--region CODE]               approve a pending join request (signs hub.admitted)
       shuniu admit --request ID --refuse [--reason TEXT]                      refuse it
every form also takes --url URL (this hub's running node) and --token TOKEN (operator; default $SHUNIU_TOKEN).
LEVEL is national|province|city|county|org. A hub at level national (a foundation) only a root may admit.
The child sends its request with: shuniu join --dir DIR --parent URL --code CODE (spec/node.md §7.1).`;

/** A call to a node's operator API; a problem document becomes a ShuniuError with its code. */
export async function callNode(base: string, method: string, path: string, body: unknown, token?: string): Promise<unknown> {
  const u = new URL(path, base);
  let res: Response;
  try {
    res = await fetch(u, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot reach ${u.origin}: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text();
  if (!res.ok) {
    let p: { code?: string; detail?: string } = {};
    try {
      p = JSON.parse(text) as typeof p;
    } catch {
      // Not a problem document: the status says it.
    }
    const code = (ERROR_CODES as readonly string[]).includes(p.code ?? '') ? (p.code as ErrorCode) : 'E_ARGUMENT';
    throw new ShuniuError(code, `${method} ${u.pathname}: HTTP ${res.status} ${p.detail ?? text.slice(0, 300)}`);
  }
  return text === '' ? undefined : JSON.parse(text);
}

type View = {
  id: string;
  state: string;
  level: string | null;
  region: string | null;
  note: string | null;
  expiresMs: number;
  request: { child: string; name: string; level: string; region: string; url?: string } | null;
  admission: string | null;
  reason: string | null;
};

/** `shuniu admit`: admissions, their revocation, join codes and join requests, against a running node (spec/node.md §7, §7.1). */
export async function run(argv: string[]): Promise<number> {
  const sub = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
  const { values } = args({
    args: sub ? argv.slice(1) : argv,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      child: { type: 'string' },
      level: { type: 'string' },
      region: { type: 'string' },
      'child-url': { type: 'string' },
      revoke: { type: 'boolean' },
      reason: { type: 'string' },
      request: { type: 'string' },
      refuse: { type: 'boolean' },
      ttl: { type: 'string' },
      note: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const usage = (code: number) => {
    process.stdout.write(`${USAGE}\n`);
    return code;
  };
  if (values.help) return usage(0);
  if (!values.url) return usage(2);
  const url = values.url;
  const token = values.token ?? process.env.SHUNIU_TOKEN;
  if (values.level !== undefined && !hubLevel.safeParse(values.level).success)
    throw new ShuniuError('E_ARGUMENT', `--level must be one of ${hubLevel.options.join(', ')}`);
  if (values.region !== undefined && !regionCode.safeParse(values.region).success)
    throw new ShuniuError('E_ARGUMENT', '--region must be a six-digit GB/T 2260 code such as 420102');
  const out = (s: string) => process.stdout.write(`${s}\n`);

  if (sub === 'code') {
    const ttl = values.ttl === undefined ? undefined : parseTtl(values.ttl);
    const r = (await callNode(
      url,
      'POST',
      '/v1/join-codes',
      {
        ...(values.level ? { level: values.level } : {}),
        ...(values.region ? { region: values.region } : {}),
        ...(values.note ? { note: values.note } : {}),
        ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
      },
      token,
    )) as View & { code: string };
    out(r.code);
    process.stderr.write(
      [
        `join code ${r.id}: single use, expires ${new Date(r.expiresMs).toISOString()}${r.level ? `, level ${r.level}` : ''}${r.region ? `, region ${place(r.region)}` : ''}`,
        "give it to the new hub's operator (by a channel you trust), who runs:",
        `  shuniu join --dir DIR --parent ${url} --code ${r.code}`,
        `then approve the request here (console: 网络 → 接纳申请) or: shuniu admit --request ${r.id} --url ${url}`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  if (sub === 'requests') {
    const r = (await callNode(url, 'GET', '/v1/join-codes', undefined, token)) as { codes: View[] };
    if (r.codes.length === 0) process.stderr.write('no join codes\n');
    for (const v of r.codes) {
      const q = v.request;
      out(
        [
          v.id,
          v.state.padEnd(9),
          q
            ? `${q.name}  ${q.child}  ${q.level} ${place(q.region)}${q.url ? `  ${q.url}` : ''}`
            : `code for ${v.level ?? 'any level'} ${v.region ? place(v.region) : 'any region'}, expires ${new Date(v.expiresMs).toISOString()}`,
          v.admission ? `admission ${v.admission}` : '',
          v.reason ? `reason: ${v.reason}` : '',
          v.note ? `(${v.note})` : '',
        ]
          .filter(Boolean)
          .join('  '),
      );
    }
    return 0;
  }
  if (sub !== undefined) {
    process.stderr.write(`shuniu admit: unknown subcommand "${sub}"\n`);
    return usage(2);
  }
  if (values.request !== undefined) {
    const id = encodeURIComponent(values.request);
    if (values.refuse) {
      const r = (await callNode(url, 'POST', `/v1/join-requests/${id}/refuse`, values.reason ? { reason: values.reason } : {}, token)) as { request: View };
      out(`refused ${r.request.request?.name ?? ''} ${r.request.request?.child ?? values.request}`);
      return 0;
    }
    const r = (await callNode(
      url,
      'POST',
      `/v1/join-requests/${id}/approve`,
      { ...(values.level ? { level: values.level } : {}), ...(values.region ? { region: values.region } : {}) },
      token,
    )) as { id: string; record: { body: { child: string; level: string; region: string } }; request: View };
    const b = r.record.body;
    out(`admitted ${r.request.request?.name ?? ''} ${b.child} at level ${b.level}, region ${place(b.region)}: hub.admitted ${r.id}`);
    return 0;
  }
  if (!values.child) return usage(2);
  if (!hubIdSchema.safeParse(values.child).success) throw new ShuniuError('E_ARGUMENT', '--child must be a hub id (43 base64url characters)');
  if (values.revoke) {
    const r = (await callNode(
      url,
      'POST',
      `/v1/admissions/${encodeURIComponent(values.child)}/revoke`,
      values.reason ? { reason: values.reason } : {},
      token,
    )) as { id: string };
    out(`revoked the admission of ${values.child}: hub.admission.revoked ${r.id}`);
    return 0;
  }
  if (!values.level || !values.region) return usage(2);
  const r = (await callNode(
    url,
    'POST',
    '/v1/admissions',
    { child: values.child, level: values.level, region: values.region, ...(values['child-url'] ? { url: values['child-url'] } : {}) },
    token,
  )) as { id: string };
  out(`admitted ${values.child} at level ${values.level}, region ${place(values.region)}: hub.admitted ${r.id}`);
  return 0;
}
