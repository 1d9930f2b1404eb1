import { type Catalogue, type MatchFilters, type Proposal, propose } from '@shuniu/match';
import { parseIJson, ShuniuError, type Urgency } from '@shuniu/protocol';
import type { ResolvedState } from '@shuniu/resolve';
import { eastAsianWidth } from 'get-east-asian-width';
import { regionName } from '../regions.js';
import { args, readText } from './io.js';

const HELP = `usage: shuniu match (--url URL | --state FILE) [options]

Proposes allocations for a node's resolved state (spec/matching.md) and prints
them as a table of names: requester, place, item, donor and the hub that must
sign each (the offer's author). Nothing is signed: the signer signs the ones
it accepts as allocations. --json gives the ids.

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
  let signers: SignerNames = {};
  if (values.state !== undefined) {
    const state = parseIJson(readText(values.state)) as unknown as ResolvedState;
    if (typeof state !== 'object' || state === null || typeof state.needs !== 'object' || typeof state.offers !== 'object' || typeof state.clock !== 'number')
      throw new ShuniuError('E_ARGUMENT', `${values.state} is not a resolved state (needs, offers, clock)`);
    const catalogue = values.catalogue === undefined ? undefined : (parseIJson(readText(values.catalogue)) as unknown as Catalogue);
    proposals = propose({ ...state, conflicts: state.conflicts ?? {} }, { catalogue, filters });
    signers = signersOfState(state);
  } else {
    ({ proposals, signers } = await fetchProposals(values.url as string, values));
  }
  if (values.json) process.stdout.write(`${JSON.stringify(proposals, null, 2)}\n`);
  else process.stdout.write(table(proposals, signers));
  return 0;
}

async function fetchProposals(
  base: string,
  v: { region?: string; item?: string; urgency?: string; offer?: string[]; need?: string[]; token?: string; limit?: string; offset?: string },
): Promise<{ proposals: Proposal[]; signers: SignerNames }> {
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
  const page = JSON.parse(text) as {
    proposals: Proposal[];
    signers?: Record<string, { name?: { zh: string; en?: string } }>;
    total?: number;
    offset?: number;
    next?: number | null;
  };
  if (typeof page.next === 'number')
    process.stderr.write(`proposals ${page.offset ?? 0}–${page.next - 1} of ${page.total ?? '?'}: --offset ${page.next} for the next page\n`);
  const signers: SignerNames = {};
  for (const [id, h] of Object.entries(page.signers ?? {})) {
    const n = hubLabel(h.name);
    if (n !== undefined) signers[id] = n;
  }
  return { proposals: page.proposals, signers };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Columns a terminal gives a string: CJK characters take two (so that Chinese names line up). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += eastAsianWidth(ch.codePointAt(0) as number);
  return w;
}

const padEnd = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - displayWidth(s)));
const padStart = (s: string, w: number) => ' '.repeat(Math.max(0, w - displayWidth(s))) + s;

/** Names of the hubs that sign proposals, by hub id (from a page's `signers` or a state's hubs). */
export type SignerNames = Record<string, string>;

/**
 * Proposals as an aligned text table that can be reviewed alone, one line
 * each, with a total line: who needs (requester, place), what (item name),
 * how much, from whom (donor), who must sign (the offer's hub, by name).
 * Ids are in --json.
 */
export function table(ps: readonly Proposal[], signers: SignerNames = {}): string {
  if (ps.length === 0) return 'no proposals\n';
  const head = ['urgency', 'requester', 'region', 'item', 'quantity', 'donor', 'signer', 'coverage', 'arrival', 'limited by'];
  const rows = ps.map((p) => [
    p.urgency,
    p.requester ?? p.need,
    regionName(p.region),
    p.itemName ?? p.item,
    `${p.quantity} ${p.unit}`,
    p.donor ?? p.offer,
    p.signer === undefined ? '' : (signers[p.signer] ?? p.signer),
    `${pct(p.coverage.before)} → ${pct(p.coverage.after)}`,
    `${p.arrival.slice(0, 16).replace('T', ' ')}${p.onTime ? '' : ' late'}`,
    p.limit === 'need' ? 'need gap' : 'fair share',
  ]);
  const width = head.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] as string))));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => (i === 4 ? padStart(c, width[i] as number) : padEnd(c, width[i] as number)))
      .join('  ')
      .trimEnd()}\n`;
  const total = ps.reduce((a, p) => a + p.quantity, 0);
  return line(head) + rows.map(line).join('') + `${ps.length} proposals, ${total} base units\n`;
}

/** A hub's display name for the table: its Chinese name, with the English one when there is one. */
function hubLabel(name: { zh: string; en?: string } | undefined): string | undefined {
  return name === undefined ? undefined : name.zh;
}

/** Signer names from a resolved state's hubs (their latest hub.profile). */
function signersOfState(state: ResolvedState): SignerNames {
  const out: SignerNames = {};
  for (const [id, h] of Object.entries(state.hubs ?? {})) {
    const n = hubLabel(h.profile?.name);
    if (n !== undefined) out[id] = n;
  }
  return out;
}
