import { hubLevel, regionCode, ShuniuError } from '@shuniu/protocol';
import { initDataDir } from '../node.js';
import { args } from './io.js';

const USAGE = `usage: shuniu init --dir DIR --name NAME --level national|province|city|county|org --region CODE
                   [--parent URL] [--follow URL ...] [--root HUBID ...] [--port N] [--host H] [--public-url URL]
Makes DIR: hub.key.json (mode 0600), config.json, hub.db holding hub.inception and hub.profile.
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
  process.stderr.write(`initialised ${values.dir}: hub ${hubId}\nnext: ask the parent's operator to admit it, then \`shuniu start --dir ${values.dir}\`\n`);
  return 0;
}
