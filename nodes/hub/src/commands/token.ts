import { ready, ShuniuError } from '@shuniu/protocol';
import { TokenAuth } from '../auth.js';
import { readKeyFile } from '../files.js';
import { args } from './io.js';

/** Parses 90s, 30m, 1h, 7d into seconds. */
export function parseTtl(s: string): number {
  const m = /^(\d+)([smhd])$/.exec(s);
  if (!m) throw new ShuniuError('E_ARGUMENT', '--ttl must look like 90s, 30m, 1h or 7d');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** `shuniu token`: a bearer token for this node's API (spec/node.md §Tokens). */
export async function run(argv: string[]): Promise<number> {
  const { values } = args({
    args: argv,
    options: { dir: { type: 'string' }, scope: { type: 'string' }, ttl: { type: 'string' }, subject: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || !values.dir || !values.scope) {
    process.stdout.write('usage: shuniu token --dir DIR --scope operator|subscriber [--ttl 1h] [--subject NAME]\nPrints a JWT (EdDSA) for this node.\n');
    return values.help ? 0 : 2;
  }
  if (values.scope !== 'operator' && values.scope !== 'subscriber') throw new ShuniuError('E_ARGUMENT', '--scope must be operator or subscriber');
  await ready();
  const keyFile = readKeyFile(values.dir);
  const scope = values.scope as 'operator' | 'subscriber';
  const auth = TokenAuth.fromSigningSeed(keyFile.hub, keyFile.signing);
  process.stdout.write(`${await auth.issue(scope, parseTtl(values.ttl ?? '1h'), values.subject ?? scope)}\n`);
  return 0;
}
