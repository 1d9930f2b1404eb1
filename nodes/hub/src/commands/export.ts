import { ShuniuError } from '@shuniu/protocol';
import { nodeRequest } from '../export/client.js';
import { HXL_KINDS } from '../export/hxl.js';
import { args } from './io.js';

const USAGE = `usage: shuniu export hxl needs|offers|allocations|deliveries --url URL [--token T] [--region CODE]
       shuniu export epcis --url URL [--token T] [--region CODE]
Exports for partners' tools (spec/node.md §14), on stdout:
  hxl     CSV with HXL hashtags on the second row (HDX, HXL Proxy, 3W sheets)
  epcis   an EPCIS 2.0 JSON-LD document of custody handoffs, receipts and deliveries
--token (or $SHUNIU_TOKEN): a subscriber or operator token where the node's reads are not public.
--region: only objects in a GB/T 2260 region (code or prefix).`;

/** `shuniu export hxl KIND | epcis`: reads the node's export route and writes it to stdout. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args({
    args: argv,
    options: { url: { type: 'string' }, token: { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [format, kind] = positionals;
  if (values.help || (format !== 'hxl' && format !== 'epcis')) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (!values.url) throw new ShuniuError('E_ARGUMENT', 'shuniu export: --url URL is required');
  let path: string;
  if (format === 'hxl') {
    if (kind === undefined || !(HXL_KINDS as readonly string[]).includes(kind))
      throw new ShuniuError('E_ARGUMENT', `shuniu export hxl: which table? ${HXL_KINDS.join(', ')}`);
    path = `/v1/export/hxl/${kind}`;
  } else path = '/v1/export/epcis';
  if (values.region) path += `?region=${encodeURIComponent(values.region)}`;
  const { bytes } = await nodeRequest(values.url, 'GET', path, { token: values.token ?? process.env.SHUNIU_TOKEN });
  process.stdout.write(bytes);
  return 0;
}
