import { ready, ShuniuError } from '@shuniu/protocol';
import { ensureTokenKeyFile, fileTokenKey, rotateTokenKeyFile, type Scope, TokenAuth, tokenLimitsOf } from '../auth.js';
import { readConfig } from '../config.js';
import { readKeyFile } from '../files.js';
import { tokenView } from '../http/routes/tokens.js';
import { openDataDirStore } from '../store/open.js';
import { TokenRecords } from '../tokens.js';
import { args } from './io.js';

/** Parses 90s, 30m, 1h, 7d into seconds (not bounded here: the node's limits are, see TokenAuth.checkTtl). */
export function parseTtl(s: string): number {
  const m = /^(\d+)([smhd])$/.exec(s);
  if (!m) throw new ShuniuError('E_ARGUMENT', '--ttl must look like 90s, 30m, 1h or 7d');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const USAGE = `usage: shuniu token --dir DIR --scope operator|subscriber [--ttl 1h] [--subject NAME] [--note TEXT]
       shuniu token list --dir DIR
       shuniu token revoke --dir DIR (JTI | --all)
       shuniu token rotate-key --dir DIR
Issues a JWT (EdDSA) for this node and records it; lists, revokes, or replaces the token key
(every earlier token stops working). Works beside a running node: it reads the same database
and key file on every request.`;

/** Opens DIR's tokens table for `fn` (the same database a running node uses). */
export function withTokens<T>(dir: string, fn: (records: TokenRecords) => T): T {
  const store = openDataDirStore(dir);
  try {
    return fn(new TokenRecords(store.db));
  } finally {
    store.close();
  }
}

/** Issues and records a token for DIR's node, within its configured lifetime limits. */
export async function issueToken(dir: string, scope: Scope, ttlSeconds: number, subject: string = scope, note?: string): Promise<string> {
  await ready();
  const hub = readKeyFile(dir).hub;
  const limits = tokenLimitsOf(readConfig(dir).tokens);
  ensureTokenKeyFile(dir);
  const store = openDataDirStore(dir);
  try {
    return await new TokenAuth(hub, fileTokenKey(dir), { records: new TokenRecords(store.db), limits }).issue(scope, ttlSeconds, subject, note);
  } finally {
    store.close();
  }
}

/** Revokes one token (false: no such token), refused by a running node at its next request. */
export function revokeToken(dir: string, jti: string): boolean {
  return withTokens(dir, (r) => r.revoke(jti));
}

/** Revokes every token of DIR's node; returns how many were live. */
export function revokeAllTokens(dir: string): number {
  return withTokens(dir, (r) => r.revokeAll());
}

export function listTokens(dir: string) {
  ensureTokenKeyFile(dir);
  const kid = fileTokenKey(dir)().kid;
  return withTokens(dir, (r) => r.list().map((t) => tokenView(t, kid)));
}

/** `shuniu token`: issue, list, revoke bearer tokens, or rotate the token key (spec/node.md §8). */
export async function run(argv: string[]): Promise<number> {
  const sub = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
  const rest = sub ? argv.slice(1) : argv;
  const { values, positionals } = args({
    args: rest,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string' },
      subject: { type: 'string' },
      note: { type: 'string' },
      all: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const usage = (code: number) => {
    process.stdout.write(`${USAGE}\n`);
    return code;
  };
  if (values.help) return usage(0);
  if (!values.dir) return usage(2);
  const dir = values.dir;
  switch (sub) {
    case undefined: {
      if (!values.scope) return usage(2);
      if (values.scope !== 'operator' && values.scope !== 'subscriber') throw new ShuniuError('E_ARGUMENT', '--scope must be operator or subscriber');
      const ttlText = values.ttl ?? '1h';
      const ttl = parseTtl(ttlText);
      const limits = tokenLimitsOf(readConfig(dir).tokens);
      const max = limits[values.scope];
      if (!(ttl <= max))
        throw new ShuniuError(
          'E_ARGUMENT',
          `--ttl ${ttlText} is longer than a ${values.scope} token may live on this node: at most ${max} s (${max / 86400} days; config.json tokens.maxTtl${values.scope === 'operator' ? 'Operator' : 'Subscriber'}Seconds)`,
        );
      process.stdout.write(`${await issueToken(dir, values.scope, ttl, values.subject ?? values.scope, values.note)}\n`);
      return 0;
    }
    case 'list': {
      const rows = listTokens(dir);
      for (const t of rows)
        process.stdout.write(
          `${t.jti}  ${t.scope.padEnd(10)}  ${t.state.padEnd(11)}  exp ${new Date(t.exp * 1000).toISOString()}  ${t.sub}${t.note ? `  ${t.note}` : ''}\n`,
        );
      if (rows.length === 0) process.stderr.write('no tokens issued\n');
      return 0;
    }
    case 'revoke': {
      if (values.all) {
        process.stdout.write(`revoked ${revokeAllTokens(dir)} token(s)\n`);
        return 0;
      }
      const jti = positionals[0];
      if (!jti || positionals.length !== 1) return usage(2);
      if (!revokeToken(dir, jti)) throw new ShuniuError('E_NOT_FOUND', `no token ${jti} in ${dir}`);
      process.stdout.write(`revoked ${jti}\n`);
      return 0;
    }
    case 'rotate-key': {
      const kid = rotateTokenKeyFile(dir);
      process.stdout.write(`new token key ${kid}: every token issued before now no longer verifies\n`);
      return 0;
    }
    default:
      process.stderr.write(`shuniu token: unknown subcommand "${sub}"\n`);
      return usage(2);
  }
}
