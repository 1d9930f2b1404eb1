import { gunzipSync, gzipSync } from 'node:zlib';
import { formatTimestamp, hubIdSchema, parseIJson, ShuniuError } from '@shuniu/protocol';
import { z } from 'zod';
import type { Ack, Ingestor } from '../ingest.js';
import { withoutSealed } from '../store/sqlite.js';
import type { Store } from '../store/types.js';

/**
 * Offline bundles (spec/node.md §13): the records a peer lacks, given its
 * heads, in one gzip'd JSON-lines file carried by phone or USB stick. The
 * first line is the header; every other line is one signed record as stored.
 * An import goes through the node's normal ingest (every record verified).
 */

export const BUNDLE_FORMAT = 'shuniu-bundle';
export const BUNDLE_VERSION = 1;
/** Media type of a bundle file. */
export const BUNDLE_MEDIA_TYPE = 'application/gzip';
/** Most bytes a bundle may decompress to (a gzip bomb is refused with E_TOO_LARGE). */
export const BUNDLE_MAX_BYTES = 256 * 1024 * 1024;

const headsSchema = z.record(hubIdSchema, z.int().min(0).max(Number.MAX_SAFE_INTEGER));

export const bundleHeaderSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  version: z.int(),
  /** The hub of the node that wrote the bundle. */
  hub: hubIdSchema,
  created: z.string(),
  /** The writer's heads when it wrote the bundle. */
  heads: headsSchema,
  /** The heads the bundle was cut against (the peer's, as given): records at or below them are left out. */
  since: headsSchema,
  /** Number of record lines that follow. */
  records: z.int().min(0),
  /** True when sealed parts were left out. */
  stripped: z.boolean().optional(),
});
export type BundleHeader = z.infer<typeof bundleHeaderSchema>;

/**
 * Reads a heads file: `{"heads": {hub: seq}}` as `GET /v1/heads` answers, or
 * the bare map. Anything else is E_SCHEMA (E_JSON/E_IJSON when not I-JSON).
 */
export function parseHeads(text: string): Record<string, number> {
  const v = parseIJson(text);
  const map = v !== null && typeof v === 'object' && !Array.isArray(v) && 'heads' in v ? (v as { heads: unknown }).heads : v;
  const r = headsSchema.safeParse(map);
  if (!r.success) throw new ShuniuError('E_SCHEMA', `not a heads file: ${r.error.issues[0]?.message ?? 'bad shape'}`, { issues: r.error.issues as never });
  return r.data;
}

export interface WriteOptions {
  /** The peer's heads: only records above them are written. Absent: every record. */
  since?: Record<string, number>;
  /** Leave sealed parts (private fields, encrypted) out of the bundle. */
  stripSealed?: boolean;
  now?: number;
}

/**
 * Writes a bundle of the records `since` lacks: every stored record of a hub
 * above the peer's head for it (all of a hub the peer does not name), and
 * every fork proof, in this node's ingest order (so an importer meets each
 * inception and admission before the records that need them).
 */
export function writeBundle(store: Store, hubId: string, o: WriteOptions = {}): { bytes: Buffer; header: BundleHeader } {
  const since = o.since ?? {};
  const offChain = new Set(store.forks().map((f) => f.other));
  const lines: string[] = [];
  const heads = store.heads();
  let after = 0;
  for (;;) {
    const rows = store.since(after, 5000);
    if (rows.length === 0) break;
    for (const r of rows) {
      const have = since[r.hub];
      if (have === undefined || r.seq > have || offChain.has(r.id)) lines.push(o.stripSealed ? withoutSealed(r.json) : r.json);
    }
    after = (rows[rows.length - 1] as { ord: number }).ord;
  }
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    hub: hubId,
    created: formatTimestamp(Math.floor((o.now ?? Date.now()) / 1000) * 1000),
    heads,
    since,
    records: lines.length,
    ...(o.stripSealed ? { stripped: true } : {}),
  };
  const text = `${JSON.stringify(header)}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
  return { bytes: gzipSync(Buffer.from(text, 'utf8')), header };
}

/**
 * Opens a bundle: its header and its record lines (texts, not yet parsed).
 * Not gzip: E_ARGUMENT; larger than `maxBytes` once decompressed: E_TOO_LARGE;
 * a header that is not JSON: E_JSON/E_IJSON; not a bundle header: E_SCHEMA;
 * another format version: E_VERSION; fewer or more lines than the header
 * counts (a cut or padded file): E_ARGUMENT.
 */
export function readBundle(bytes: Uint8Array, maxBytes = BUNDLE_MAX_BYTES): { header: BundleHeader; lines: string[] } {
  let text: string;
  try {
    text = gunzipSync(bytes, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError)
      throw new ShuniuError('E_TOO_LARGE', `the bundle decompresses to more than ${maxBytes} bytes`, { cause });
    throw new ShuniuError('E_ARGUMENT', `not a bundle: not a gzip file (${(cause as Error).message})`, { cause });
  }
  const nl = text.indexOf('\n');
  const head = parseIJson(nl < 0 ? text : text.slice(0, nl));
  if (head !== null && typeof head === 'object' && 'version' in head && (head as { format?: unknown }).format === BUNDLE_FORMAT) {
    const v = (head as { version: unknown }).version;
    if (v !== BUNDLE_VERSION)
      throw new ShuniuError('E_VERSION', `bundle format version ${JSON.stringify(v)} is not spoken here (this node reads ${BUNDLE_VERSION})`);
  }
  const parsed = bundleHeaderSchema.safeParse(head);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new ShuniuError('E_SCHEMA', `not a bundle header: $.${i?.path.join('.') ?? ''} ${i?.message ?? ''}`, { issues: parsed.error.issues as never });
  }
  const lines = nl < 0 ? [] : text.slice(nl + 1).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== parsed.data.records)
    throw new ShuniuError('E_ARGUMENT', `the bundle holds ${lines.length} record lines, its header says ${parsed.data.records}: cut or altered file`);
  return { header: parsed.data, lines };
}

export interface ImportResult {
  header: BundleHeader;
  summary: Record<string, number>;
  /** Records not stored or held: their line (1-based, after the header), code and message. */
  refused: { line: number; status: string; id?: string; code: string; message: string }[];
}

/**
 * Imports a bundle through the node's ingest, in batches of `batch` records:
 * each record parsed, its schema, signature and chain checked, exactly as a
 * pushed one (spec/node.md §3.1). Records that fail are reported by line with
 * their code; the rest are stored (or held).
 */
export async function importBundle(ingestor: Ingestor, bytes: Uint8Array, o: { batch?: number; maxBytes?: number } = {}): Promise<ImportResult> {
  const { header, lines } = readBundle(bytes, o.maxBytes);
  const batch = o.batch ?? 2000;
  const summary: Record<string, number> = { accepted: 0, duplicate: 0, held: 0, blocked: 0, rejected: 0 };
  const refused: ImportResult['refused'] = [];
  // Bundled records count as from the bundle's writer for echo suppression and the holding area's shares.
  const source = `bundle:${header.hub}`;
  for (let i = 0; i < lines.length; i += batch) {
    const slice = lines.slice(i, i + batch);
    const acks: Ack[] = await ingestor.ingest(slice, source, source);
    for (const a of acks) {
      summary[a.status] = (summary[a.status] ?? 0) + 1;
      if (a.status === 'rejected' || a.status === 'blocked')
        refused.push({ line: i + a.index + 1, status: a.status, ...(a.id !== undefined ? { id: a.id } : {}), code: a.code, message: a.message });
    }
  }
  return { header, summary, refused };
}
