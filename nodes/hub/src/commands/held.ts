import { heldFilterOf, heldView } from '../held.js';
import { openDataDirStore } from '../store/open.js';
import { args } from './io.js';

const USAGE = `usage: shuniu held --dir DIR
       shuniu held purge --dir DIR (--hub HUB | --sender SENDER | --older-than DURATION)... | --all
Shows the holding area (out-of-order and not yet admitted records, spec/node.md §3.1): records and
bytes per sender. purge drops the held records matching every option given (--all: every one);
DURATION looks like 90s, 30m, 12h or 7d; SENDER as shown (hub:<id>, addr:<ip>, a peer URL).
A held record was never acknowledged as accepted: if it is genuine, it comes back with its
predecessors or admission. Works beside a running node (DELETE /v1/held does the same over HTTP).`;

/** `shuniu held [purge]` (spec/node.md §3.3, §11). */
export async function run(argv: string[]): Promise<number> {
  const purge = argv[0] === 'purge';
  const rest = purge ? argv.slice(1) : argv;
  const { values } = args({
    args: rest,
    options: {
      dir: { type: 'string' },
      hub: { type: 'string' },
      sender: { type: 'string' },
      'older-than': { type: 'string' },
      all: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.dir) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const store = openDataDirStore(values.dir);
  try {
    if (!purge) {
      process.stdout.write(`${JSON.stringify(heldView(store))}\n`);
      return 0;
    }
    const filter = heldFilterOf({ hub: values.hub, sender: values.sender, olderThan: values['older-than'], all: values.all === true }, Date.now());
    const purged = store.purgeHeld(filter);
    process.stdout.write(`${JSON.stringify({ purged })}\n`);
    return 0;
  } finally {
    store.close();
  }
}
