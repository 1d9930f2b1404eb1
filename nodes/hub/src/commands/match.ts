import { type Catalogue, type MatchFilters, type Proposal, propose } from '@shuniu/match';
import { parseIJson, ShuniuError, type Urgency } from '@shuniu/protocol';
import type { ResolvedState } from '@shuniu/resolve';
import { args, readText } from './io.js';

const HELP = `usage: shuniu match (--url URL | --state FILE) [options]

Proposes allocations for a node's resolved state (spec/matching.md) and prints
them as a table. Nothing is signed: sign the ones you accept as allocations.

  --url URL          a running node: GET URL/v1/match/proposals (needs a token)
  --token TOKEN      operator or subscriber token for --url (default: $SHUNIU_TOKEN)
  --limit N          proposals per page from --url (default 500, at most 5000)
  --offset N         first proposal of the page from --url (the answer's \`next\`)
  --state FILE       a ResolvedState as JSON (e.g. saved from the resolver)
  --catalogue FILE   catalogue JSON {"items":[{"code","base","units"}]} (with --state)
  --region PREFIX    GB/T 2260 prefix of the need's region (4201 = Wuhan)
  --item CODE        item code
  --urgency LIST     critical,high,normal,low
  --offer ID         offer id (repeatable)
  --need ID          need id (repeatable)
  --json             print the proposals as JSON instead of a table`;

/** `shuniu match`: prints the matching engine's proposals. Returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values } = args({
    args: argv,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      state: { type: 'string' },
      catalogue: { type: 'string' },
      region: { type: 'string' },
      item: { type: 'string' },
      urgency: { type: 'string' },
      offer: { type: 'string', multiple: true },
      need: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if ((values.url === undefined) === (values.state === undefined)) {
    process.stderr.write(`shuniu match: give exactly one of --url and --state\n\n${HELP}\n`);
    return 2;
  }
  const filters: MatchFilters = {};
  if (values.region) filters.region = values.region;
  if (values.item) filters.item = values.item;
  if (values.urgency) filters.urgency = values.urgency.split(',') as Urgency[];
  if (values.offer) filters.offers = values.offer;
  if (values.need) filters.needs = values.need;

  let proposals: Proposal[];
  if (values.state !== undefined) {
    const state = parseIJson(readText(values.state)) as unknown as ResolvedState;
    if (typeof state !== 'object' || state === null || typeof state.needs !== 'object' || typeof state.offers !== 'object' || typeof state.clock !== 'number')
      throw new ShuniuError('E_ARGUMENT', `${values.state} is not a resolved state (needs, offers, clock)`);
    const catalogue = values.catalogue === undefined ? undefined : (parseIJson(readText(values.catalogue)) as unknown as Catalogue);
    proposals = propose({ ...state, conflicts: state.conflicts ?? {} }, { catalogue, filters });
  } else {
    proposals = await fetchProposals(values.url as string, values);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(proposals, null, 2)}\n`);
  else process.stdout.write(table(proposals));
  return 0;
}

async function fetchProposals(
  base: string,
  v: { region?: string; item?: string; urgency?: string; offer?: string[]; need?: string[]; token?: string; limit?: string; offset?: string },
): Promise<Proposal[]> {
  const u = new URL('/v1/match/proposals', base);
  if (v.limit) u.searchParams.set('limit', v.limit);
  if (v.offset) u.searchParams.set('offset', v.offset);
  const token = v.token ?? process.env.SHUNIU_TOKEN;
  if (v.region) u.searchParams.set('region', v.region);
  if (v.item) u.searchParams.set('item', v.item);
  if (v.urgency) u.searchParams.set('urgency', v.urgency);
  for (const o of v.offer ?? []) u.searchParams.append('offer', o);
  for (const n of v.need ?? []) u.searchParams.append('need', n);
  let res: Response;
  try {
    res = await fetch(u, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot reach ${u.origin}: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text();
  if (!res.ok) throw new ShuniuError(res.status === 404 ? 'E_NOT_FOUND' : 'E_ARGUMENT', `${u.pathname}: HTTP ${res.status} ${text.slice(0, 300)}`);
  const page = JSON.parse(text) as { proposals: Proposal[]; total?: number; offset?: number; next?: number | null };
  if (typeof page.next === 'number')
    process.stderr.write(`proposals ${page.offset ?? 0}–${page.next - 1} of ${page.total ?? '?'}: --offset ${page.next} for the next page\n`);
  return page.proposals;
}

// Record ids are 43 characters; eight tell them apart on one screen.
const short = (id: string) => (id.length > 16 ? `${id.slice(0, 8)}…` : id);
const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Proposals as an aligned text table, one line each, with a total line. */
export function table(ps: readonly Proposal[]): string {
  if (ps.length === 0) return 'no proposals\n';
  const head = ['urgency', 'need', 'region', 'item', 'quantity', 'offer', 'coverage', 'arrival', 'limited by'];
  const rows = ps.map((p) => [
    p.urgency,
    short(p.need),
    p.region,
    p.item,
    `${p.quantity} ${p.unit}`,
    short(p.offer),
    `${pct(p.coverage.before)} → ${pct(p.coverage.after)}`,
    `${p.arrival.slice(0, 16).replace('T', ' ')}${p.onTime ? '' : ' late'}`,
    p.limit === 'need' ? 'need gap' : 'fair share',
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => (i === 4 ? c.padStart(width[i] as number) : c.padEnd(width[i] as number)))
      .join('  ')
      .trimEnd()}\n`;
  const total = ps.reduce((a, p) => a + p.quantity, 0);
  return line(head) + rows.map(line).join('') + `${ps.length} proposals, ${total} base units\n`;
}
