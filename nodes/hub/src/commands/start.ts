import { ShuniuError } from '@shuniu/protocol';
import { HubNode } from '../node.js';
import { args } from './io.js';

const USAGE = `usage: shuniu start --dir DIR [--port N] [--host H] [--public-url URL] [--pull-interval MS] [--quiet]
Serves the node until SIGINT/SIGTERM. Settings: DIR/config.json, then SHUNIU_* environment, then these flags.`;

const SIGN_IN_TTL_S = 8 * 3600;

/** `shuniu start`: serve a data directory (spec/node.md §Configuration). */
export async function run(argv: string[]): Promise<number> {
  const { values } = args({
    args: argv,
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      'pull-interval': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.dir) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new ShuniuError('E_ARGUMENT', `--${name} must be a non-negative integer`);
    return n;
  };
  const port = num(values.port, 'port');
  const pull = num(values['pull-interval'], 'pull-interval');
  const say = (m: string) => {
    if (!values.quiet) process.stderr.write(`${m}\n`);
  };
  const node = await HubNode.open(values.dir, {
    overrides: {
      ...(port !== undefined ? { port } : {}),
      ...(values.host ? { host: values.host } : {}),
      ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
      ...(pull !== undefined ? { federation: { pullIntervalMs: pull } } : {}),
    },
    events: { log: say, progress: progressBar(values.quiet === true) },
    log: say,
  });
  const url = await node.listen();
  process.stdout.write(`${node.hubId} ${url}\n`);
  // Like Jupyter: a sign-in link for whoever started the node, valid for one
  // working shift; `shuniu token` makes more.
  const token = await node.auth.issue('operator', SIGN_IN_TTL_S, 'console');
  process.stdout.write(`console: ${node.publicUrl()}/#token=${token}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await node.close();
  return 0;
}

/** A one-line progress bar on stderr for backfill pages. */
export function progressBar(quiet: boolean) {
  return (p: { peer: string; hub: string; have: number; head: number }) => {
    if (quiet || !process.stderr.isTTY) return;
    const width = 30;
    const done = p.head <= 0 ? 1 : Math.min(1, (p.have + 1) / (p.head + 1));
    const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '.');
    process.stderr.write(`\r${p.hub.slice(0, 8)} [${bar}] ${p.have + 1}/${p.head + 1} from ${p.peer}${done === 1 ? '\n' : ''}`);
  };
}
