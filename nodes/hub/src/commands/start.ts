import { join } from 'node:path';
import { ShuniuError } from '@shuniu/protocol';
import { writePrivateFile } from '../files.js';
import { HubNode } from '../node.js';
import { args } from './io.js';

const USAGE = `usage: shuniu start --dir DIR [--port N] [--host H] [--public-url URL] [--store sqlite|postgres://…] [--pull-interval MS] [--print-link] [--quiet]
Serves the node until SIGINT/SIGTERM. Settings: DIR/config.json, then SHUNIU_* environment, then these flags.
The console sign-in link (an operator token) is printed only on a terminal or with --print-link;
otherwise it is written to DIR/signin-link.txt (0600) and only that path is printed.`;

/** Where `start` leaves the sign-in link when stdout is not a terminal (spec/node.md §11). */
export const SIGNIN_LINK_FILE = 'signin-link.txt';

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
      store: { type: 'string' },
      'pull-interval': { type: 'string' },
      quiet: { type: 'boolean' },
      'print-link': { type: 'boolean' },
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
      ...(values.store ? { store: values.store } : {}),
      ...(pull !== undefined ? { federation: { pullIntervalMs: pull } } : {}),
    },
    events: { log: say, progress: progressBar(values.quiet === true) },
    log: say,
  });
  const url = await node.listen();
  process.stdout.write(`${node.hubId} ${url}\n`);
  // Like Jupyter: a sign-in link for whoever started the node, valid for one
  // working shift; `shuniu token` makes more.
  // Never into logs: stdout of a service goes to journald or the container's log, so there the link goes to a private file.
  const token = await node.auth.issue('operator', Math.min(SIGN_IN_TTL_S, node.auth.limits.operator), 'console', 'sign-in link of shuniu start');
  const link = `${node.publicUrl()}/#token=${token}`;
  if (values['print-link'] || process.stdout.isTTY) process.stdout.write(`console: ${link}\n`);
  else {
    const file = join(values.dir, SIGNIN_LINK_FILE);
    writePrivateFile(file, `${link}\n`);
    process.stdout.write(`console: sign-in link in ${file}\n`);
  }
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
