import { ready } from '@shuniu/protocol';
import { HubNode } from '../node.js';
import { args } from './io.js';

const USAGE = `usage: shuniu erase --dir DIR [--reason TEXT] RECORD_ID
Erases the sealed part (private fields) of RECORD_ID on DIR's node (spec/node.md §8.6): the stored record keeps
its sealedHash and still verifies, and no later copy brings the sealed part back. When DIR's hub is the record's
author or one of its sealed part's recipients, a signed sealed.erased record asks every node to do the same
(sent to the peers when the node runs). Stop the node first, or use POST /v1/records/{id}/erase on a running node.`;

/** `shuniu erase`: the erasure route for a stopped node (spec/node.md §8.6, §11). */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args({
    args: argv,
    options: { dir: { type: 'string' }, reason: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  const id = positionals[0];
  if (values.help || !values.dir || !id) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const r = await erase(values.dir, id, values.reason);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  return 0;
}

/** Opens the node of `dir`, erases the sealed part of `id` (and publishes sealed.erased when this hub may), closes it. */
export async function erase(dir: string, id: string, reason?: string): Promise<{ id: string; erased: boolean; request?: string }> {
  await ready();
  const node = await HubNode.open(dir, { threads: 0, log: (m) => process.stderr.write(`${m}\n`) });
  try {
    if (!node.privacy) throw new Error('this node cannot erase sealed parts');
    return await node.privacy.erase(id, reason);
  } finally {
    await node.close();
  }
}
