import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShuniuError } from '@shuniu/protocol';
import { DB_FILE } from '../config.js';
import { BUNDLE_MEDIA_TYPE, type ImportResult, importBundle, parseHeads, writeBundle } from '../export/bundle.js';
import { nodeRequest } from '../export/client.js';
import { readKeyFile } from '../files.js';
import { SqliteStore } from '../store/sqlite.js';
import { args, readText } from './io.js';

const USAGE = `usage: shuniu bundle heads  (--url URL [--token T] | --dir DIR) [--out FILE]
       shuniu bundle export [--since-heads FILE] [--strip-sealed] (--url URL [--token T] | --dir DIR) [--out FILE]
       shuniu bundle import FILE (--url URL [--token T] | --dir DIR)
Offline transfer (spec/node.md §13): carry the records a peer lacks on a phone or USB stick.
  heads    this node's heads file (what it holds), to carry to the node that will write the bundle
  export   a gzip'd bundle of the records the peer lacks, given its heads file (every record without one);
           on stdout unless --out. --strip-sealed leaves sealed parts (encrypted private fields) out
  import   verifies and stores a bundle through the node's normal ingest; prints the outcome as JSON
           (exit status 1 if any record was refused)
--url talks to a running node (operator token: --token or $SHUNIU_TOKEN); --dir works on a stopped
node's data directory.`;

/** `shuniu bundle heads|export|import` (spec/node.md §13). */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = args({
    args: rest,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string' },
      'since-heads': { type: 'string' },
      'strip-sealed': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (values.help || (sub !== 'heads' && sub !== 'export' && sub !== 'import')) {
    process.stdout.write(`${USAGE}\n`);
    return values.help || sub === '--help' ? 0 : 2;
  }
  if ((values.url === undefined) === (values.dir === undefined)) throw new ShuniuError('E_ARGUMENT', 'give either --url or --dir');
  const token = values.token ?? process.env.SHUNIU_TOKEN;
  const emit = (bytes: Uint8Array | string) => {
    if (values.out) writeFileSync(values.out, bytes);
    else process.stdout.write(bytes);
  };

  if (sub === 'heads') {
    let heads: Record<string, number>;
    if (values.url) heads = JSON.parse(Buffer.from((await nodeRequest(values.url, 'GET', '/v1/heads', { token })).bytes).toString('utf8')).heads;
    else heads = withStore(values.dir as string, (s) => s.heads());
    emit(`${JSON.stringify({ heads })}\n`);
    return 0;
  }

  if (sub === 'export') {
    const headsText = values['since-heads'] !== undefined ? readText(values['since-heads']) : undefined;
    const since = headsText !== undefined ? parseHeads(headsText) : {};
    let bytes: Uint8Array;
    let count: string | null;
    if (values.url) {
      const q = values['strip-sealed'] ? '?stripSealed=true' : '';
      const r = await nodeRequest(values.url, 'POST', `/v1/bundle/export${q}`, {
        token,
        body: JSON.stringify({ heads: since }),
        contentType: 'application/json',
      });
      bytes = r.bytes;
      count = r.headers.get('shuniu-bundle-records');
    } else {
      const dir = values.dir as string;
      const hub = readKeyFile(dir).hub;
      const b = withStore(dir, (s) => writeBundle(s, hub, { since, stripSealed: values['strip-sealed'] === true }));
      bytes = b.bytes;
      count = String(b.header.records);
    }
    emit(bytes);
    process.stderr.write(`bundle: ${count ?? '?'} records, ${bytes.byteLength} bytes\n`);
    return 0;
  }

  const file = positionals[0];
  if (file === undefined) throw new ShuniuError('E_ARGUMENT', 'shuniu bundle import FILE: which file?');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  let result: ImportResult;
  if (values.url) {
    const r = await nodeRequest(values.url, 'POST', '/v1/bundle/import', { token, body: bytes, contentType: BUNDLE_MEDIA_TYPE });
    result = JSON.parse(Buffer.from(r.bytes).toString('utf8')) as ImportResult;
  } else {
    // Loaded on demand: the node (SQLite, workers) only for an import into a data directory.
    const { HubNode } = await import('../node.js');
    const node = await HubNode.open(values.dir as string, { log: (m) => process.stderr.write(`${m}\n`) });
    try {
      result = await importBundle(node.ingestor, bytes, { batch: node.config.limits.batchRecords });
    } finally {
      await node.close();
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.refused.length > 0 ? 1 : 0;
}

function withStore<T>(dir: string, fn: (s: SqliteStore) => T): T {
  const store = new SqliteStore(join(dir, DB_FILE));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}
