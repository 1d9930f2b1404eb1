import { resolve } from 'node:path';
import { type HubLevel, hubLevel, regionCode, ShuniuError } from '@shuniu/protocol';
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
      ...nextSteps({
        dir: values.dir,
        hubId,
        level: level.data,
        region: values.region,
        ...(values.parent ? { parent: values.parent } : {}),
        ...(values.follow ? { follow: values.follow } : {}),
        ...(values.root ? { roots: values.root } : {}),
      }),
      '',
    ].join('\n'),
  );
  return 0;
}

/** The role a new hub takes in its network, from init's options (spec/node.md §7.1). */
export type InitRole = 'root' | 'child' | 'foundation' | 'follower' | 'member';

export function roleOf(o: { level: HubLevel; parent?: string; follow?: string[]; roots?: string[] }): InitRole {
  if (o.parent) return o.level === 'national' ? 'foundation' : 'child';
  if (o.follow?.length) return o.level === 'national' ? 'foundation' : 'follower';
  if (o.roots?.length) return o.level === 'national' ? 'foundation' : 'member';
  return 'root';
}

/** What the operator does next, for each role: the exact commands (spec/node.md §7.1). */
export function nextSteps(o: { dir: string; hubId: string; level: HubLevel; region: string; parent?: string; follow?: string[]; roots?: string[] }): string[] {
  const start = `shuniu start --dir ${o.dir}`;
  const upstream = o.parent ?? o.follow?.[0] ?? 'URL';
  const join = `shuniu join --dir ${o.dir} --parent ${upstream} --code CODE`;
  switch (roleOf(o)) {
    case 'root':
      return [
        `role: root (${o.level} ${o.region}). This hub is its own root of trust: there is no one to ask for admission.`,
        'next:',
        `  1. ${start}`,
        '  2. admit the hubs below you: give each a join code, and approve its request in the console (网络 → 接纳申请):',
        `       shuniu admit code --url URL --token TOKEN [--level city --region CODE]`,
        '     or admit a hub whose id you know: shuniu admit --child HUBID --level LEVEL --region CODE --url URL --token TOKEN',
        '  3. a national foundation that serves your region: admit it at level national (only a root can).',
        '  Hubs that follow you (shuniu init --follow) take this hub as their root.',
      ];
    case 'child':
      return [
        `role: child of ${o.parent} (${o.level} ${o.region}). Its records count only once the parent admits it.`,
        'next:',
        `  1. ${start}`,
        "  2. ask the parent's operator for a join code (they run: shuniu admit code, or 网络 → 生成接纳码 in the console), then:",
        `       ${join}`,
        "  3. the parent's operator approves the request; the admission reaches this node by federation.",
        `  (or give them this hub id to admit directly: shuniu admit --child ${o.hubId} --level ${o.level} --region ${o.region})`,
      ];
    case 'foundation':
      return [
        `role: national foundation (level national, seat ${o.region}). Its offers count only once a root admits it at level national:`,
        '  only a root (the province hub, not a city or county) can admit a national hub.',
        'next:',
        `  1. ${start}`,
        `  2. ask the root's operator for a join code at level national (they run: shuniu admit code --level national --url URL --token TOKEN), then:`,
        `       ${join}`,
        "  3. the root's operator approves it; until then the network holds this hub's offers and does not count them.",
        `  (or give them this hub id: shuniu admit --child ${o.hubId} --level national --region ${o.region})`,
      ];
    case 'follower':
      return [
        `role: follower of ${o.follow?.join(', ')}: a subscriber only. This node pulls and mirrors the network;`,
        '  its own records count nowhere until a hub admits it.',
        'next:',
        `  1. ${start}`,
        "  2. if the upstream's reads are not public, ask its operator for a subscriber token (shuniu token --scope subscriber).",
        "  To post needs or offers that count, ask the upstream's operator for a join code, then:",
        `       ${join}`,
      ];
    default:
      return [
        `role: member of the network of roots ${o.roots?.join(', ')}, not yet admitted.`,
        'next:',
        `  1. ${start}`,
        `  2. ask an admitting hub's operator for a join code, then: shuniu join --dir ${o.dir} --parent THEIR_URL --code CODE`,
      ];
  }
}
