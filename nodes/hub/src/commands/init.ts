import { resolve } from 'node:path';
import { hubLevel, regionCode, ShuniuError } from '@shuniu/protocol';
import { RECOVERY_KEY_FILE } from '../files.js';
import { initDataDir } from '../node.js';
import { args } from './io.js';

const USAGE = `usage: shuniu init --dir DIR --name NAME --level national|province|city|county|org --region CODE
                   [--parent URL] [--follow URL ...] [--root HUBID ...] [--port N] [--host H] [--public-url URL]
Makes DIR (mode 0700, every file in it 0600): hub.key.json (the node's signing and encryption seeds),
recovery.key.json (the recovery seed: move it offline, the node never needs it), config.json, and
hub.db holding hub.inception and hub.profile.
With --parent or --follow, the upstream node's trust roots become this node's (trust on first use);
without any, the hub is its own root.`;

/** `shuniu init`: a new hub and its data directory (spec/node.md §Data directory). */
export async function run(argv: string[]): Promise<number> {
  const { values } = args({
    args: argv,
    options: {
      dir: { type: 'string' },
      name: { type: 'string' },
      level: { type: 'string' },
      region: { type: 'string' },
      parent: { type: 'string' },
      follow: { type: 'string', multiple: true },
      root: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.dir || !values.name || !values.level || !values.region) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const level = hubLevel.safeParse(values.level);
  if (!level.success) throw new ShuniuError('E_ARGUMENT', `--level must be one of ${hubLevel.options.join(', ')}`);
  if (!regionCode.safeParse(values.region).success) throw new ShuniuError('E_ARGUMENT', '--region must be a six-digit GB/T 2260 code such as 420902');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new ShuniuError('E_ARGUMENT', '--port must be 0…65535');
  const { hubId } = await initDataDir({
    dir: values.dir,
    name: values.name,
    level: level.data,
    region: values.region,
    ...(values.parent ? { parent: values.parent } : {}),
    ...(values.follow ? { follow: values.follow } : {}),
    ...(values.root ? { roots: values.root } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
  });
  process.stdout.write(`${hubId}\n`);
  const recovery = resolve(values.dir, RECOVERY_KEY_FILE);
  process.stderr.write(
    [
      `initialised ${values.dir}: hub ${hubId}`,
      '',
      `RECOVERY KEY: ${recovery}`,
      '  Whoever holds this file can take this hub back from anyone who copies the data directory, and',
      '  can take it from you. Move it off this server NOW, before the node holds anything worth stealing:',
      `    1. copy it to two offline places (a USB key in a safe, a printout of \`cat ${recovery}\`);`,
      `    2. delete it here: shred -u ${recovery}`,
      '  The node never needs it to run. After a theft: shuniu recover --dir DIR --recovery-key FILE (spec/keys.md §5).',
      '',
      `next: ask the parent's operator to admit it, then \`shuniu start --dir ${values.dir}\``,
      '',
    ].join('\n'),
  );
  return 0;
}
