import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readSheet, type SheetKind, ShuniuError, sheetLine, sheetSummary } from '@shuniu/protocol';
import { nodeRequest } from '../export/client.js';
import { readCells } from '../import/sheet-file.js';
import { regionName, regionTable } from '../regions.js';
import { args } from './io.js';

const USAGE = `usage: shuniu import needs|offers FILE [--dry-run] [--url URL --token T] [--within CODE] [--campaign NAME] [--skip-errors]
Reads needs or offers from a spreadsheet (.xlsx, or .csv in UTF-8 or GBK) with Chinese headers in any order
(医院名称/单位名称/需求单位, 物资名称, 数量, 单位, 规格, 联系人, 联系电话, 地址, 所在区县, 截止日期, …): items are
mapped to the relief-item catalogue, regions resolved from names (GB/T 2260), contact, phone and address
sealed as private fields (spec/node.md §8.5).
  --dry-run      print one line per row, "ok <row> <item> <quantity> <region>" or "error <row> <reason>", and a summary; post nothing
  --url, --token the node whose operator API posts them (token: or $SHUNIU_TOKEN)
  --within CODE  only places in this GB/T 2260 area (a code or prefix such as 42); it also settles short names
  --campaign     the campaign the records belong to
  --skip-errors  post the good rows even when some rows have errors (otherwise nothing is posted)`;

/** `shuniu import needs|offers FILE`: a spreadsheet's rows as needs or offers, checked (dry run) or posted through a node. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args({
    args: argv,
    options: {
      'dry-run': { type: 'boolean' },
      url: { type: 'string' },
      token: { type: 'string' },
      within: { type: 'string' },
      campaign: { type: 'string' },
      'skip-errors': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const [kind, file] = positionals;
  if (values.help || (kind !== 'needs' && kind !== 'offers') || !file) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const within = values.within ?? '';
  if (within && !/^[1-9][0-9]([0-9]{2}){0,2}$/.test(within.replace(/(00)+$/, '')))
    throw new ShuniuError('E_ARGUMENT', `--within ${within}: a GB/T 2260 code or prefix`);
  if (!values['dry-run'] && !values.url) throw new ShuniuError('E_ARGUMENT', 'shuniu import: --url URL (and --token) to post, or --dry-run to check');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const res = readSheet(await readCells(bytes, basename(file)), {
    kind: kind as SheetKind,
    regions: regionTable(),
    within: within.replace(/(00)+$/, ''),
    now: Date.now(),
    ...(values.campaign ? { campaign: values.campaign } : {}),
  });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (values['dry-run']) {
    for (const r of res.rows) out(sheetLine(r, regionName));
    if (res.ignored.length) out(`ignored columns: ${res.ignored.join(', ')}`);
    out(`${sheetSummary(res)} (dry run: nothing posted)`);
    return res.rows.some((r) => !r.ok) ? 1 : 0;
  }
  const bad = res.rows.filter((r) => !r.ok);
  if (bad.length && !values['skip-errors']) {
    for (const r of bad) out(sheetLine(r, regionName));
    out(`${sheetSummary(res)}: nothing posted (fix the rows, or --skip-errors to post the ${res.rows.length - bad.length} good ones)`);
    return 1;
  }
  const token = values.token ?? process.env.SHUNIU_TOKEN;
  let posted = 0;
  let failed = 0;
  for (const r of res.rows) {
    if (!r.ok) {
      out(sheetLine(r, regionName));
      continue;
    }
    const body = JSON.stringify({ ...r.body, ...(r.private ? { private: r.private } : {}) });
    try {
      const { bytes: answer } = await nodeRequest(values.url as string, 'POST', `/v1/${kind}`, { token, body, contentType: 'application/json' });
      const { id } = JSON.parse(Buffer.from(answer).toString('utf8')) as { id: string };
      out(`posted ${r.row} ${id}`);
      posted++;
    } catch (e) {
      // One row the node refuses (E_SCHEMA, E_TOO_LARGE …) is reported and the import goes on; an unreachable node stops it.
      if (e instanceof ShuniuError && /cannot reach/.test(e.message)) throw e;
      out(`error ${r.row} ${e instanceof ShuniuError ? `${e.code} ${e.message}` : String(e)}`);
      failed++;
    }
  }
  out(`${sheetSummary(res)}; posted ${posted} ${kind}${failed ? `, ${failed} refused by the node` : ''}`);
  return failed || bad.length ? 1 : 0;
}
