import { hubLevel, ready, regionCode, ShuniuError, signingKeyPairFromSeed } from '@shuniu/protocol';
import { readConfig } from '../config.js';
import { readKeyFile } from '../files.js';
import { type JoinRequestFields, signJoinRequest } from '../join.js';
import { openDataDirStore } from '../store/open.js';
import { callNode } from './admit.js';
import { args } from './io.js';

const USAGE = `usage: shuniu join --dir DIR --parent URL --code CODE [--level LEVEL] [--region CODE] [--name NAME] [--public-url URL]
Asks the parent hub at URL to admit this hub (DIR's): sends a request signed with this hub's key,
with the join code the parent's operator gave you (single use, it expires). The request waits
until the parent's operator approves it; the admission then reaches this node by federation.
Level, region and name default to DIR's config.json; the URL the parent reaches this node at to
its hub.profile's endpoint (spec/node.md §7.1).`;

/** `shuniu join`: this hub's admission request to its parent (spec/node.md §7.1). */
export async function run(argv: string[]): Promise<number> {
  const { values } = args({
    args: argv,
    options: {
      dir: { type: 'string' },
      parent: { type: 'string' },
      code: { type: 'string' },
      level: { type: 'string' },
      region: { type: 'string' },
      name: { type: 'string' },
      'public-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.dir || !values.parent || !values.code) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  await ready();
  const dir = values.dir;
  const config = readConfig(dir);
  const keys = readKeyFile(dir);
  const level = values.level ?? config.level;
  const region = values.region ?? config.region;
  if (!hubLevel.safeParse(level).success) throw new ShuniuError('E_ARGUMENT', `--level must be one of ${hubLevel.options.join(', ')}`);
  if (!regionCode.safeParse(region).success) throw new ShuniuError('E_ARGUMENT', '--region must be a six-digit GB/T 2260 code');
  const wk = (await callNode(values.parent, 'GET', '/.well-known/shuniu', undefined)) as { hub: string; trust?: { roots?: string[] } };

  const store = openDataDirStore(dir);
  let inception: unknown;
  let endpoint: string | undefined;
  try {
    const first = store.log(keys.hub, -1, 1)[0];
    if (first?.seq !== 0) throw new ShuniuError('E_NOT_FOUND', `${dir} does not hold this hub's inception`);
    inception = JSON.parse(first.json);
    const profile = store.hubProfiles().find((h) => h.hub === keys.hub)?.profile as { endpoints?: string[] } | null | undefined;
    endpoint = values['public-url'] ?? config.publicUrl ?? profile?.endpoints?.[0];
    // The parent becomes a peer if it is not one yet: records flow both ways once it admits this hub.
    if (!store.peers().some((p) => p.url === values.parent)) store.upsertPeer({ url: values.parent, role: 'parent', hub: wk.hub });
  } finally {
    store.close();
  }
  const request: JoinRequestFields = {
    parent: wk.hub,
    child: keys.hub,
    level: level as JoinRequestFields['level'],
    region,
    name: values.name ?? config.name,
    ...(endpoint && /^https?:\/\//.test(endpoint) ? { url: endpoint } : {}),
  };
  const body = signJoinRequest(values.code, request, inception, signingKeyPairFromSeed(keys.signing).secretKey);
  const r = (await callNode(values.parent, 'POST', '/v1/join-requests', body)) as { id: string; state: string };
  process.stdout.write(`${r.id}\n`);
  const missingRoots = (wk.trust?.roots ?? []).filter((root) => !config.roots.includes(root));
  process.stderr.write(
    [
      `join request ${r.id} sent to ${wk.hub} at ${values.parent}: ${request.name}, level ${request.level}, region ${request.region}${request.url ? `, reached at ${request.url}` : ''}`,
      "next: the parent's operator approves it (console: 网络 → 接纳申请, or shuniu admit --request " + r.id + ').',
      'The admission then reaches this node by federation (GET /v1/state/hubs shows this hub admitted).',
      ...(missingRoots.length
        ? [
            `warning: this node does not trust the parent's roots (${missingRoots.join(', ')}): it will hold the network's records.`,
            '  A hub that joins a network is made with `shuniu init --parent URL`, which takes them (spec/node.md §7).',
          ]
        : []),
      '',
    ].join('\n'),
  );
  return 0;
}
