import { hubIdSchema, jcs, type KeyPair, openSealedPart, type RecordType, type Sealed, ShuniuError, type SignedRecord, seal } from '@shuniu/protocol';
import { z } from 'zod';
import type { Ingestor } from './ingest.js';
import type { Publisher } from './publisher.js';
import type { Store } from './store/types.js';

/** Record types the operator API may attach private fields to (spec/node.md §8.5). */
export const SEALABLE: ReadonlySet<RecordType> = new Set<RecordType>(['need.posted', 'need.updated', 'offer.posted', 'offer.updated']);

/** Largest private payload, as JCS bytes (spec/node.md §8.5). */
export const MAX_PRIVATE_BYTES = 64 * 1024;

const line = (max: number) => z.string().min(1).max(max);

/**
 * The private fields of a need or an offer (spec/node.md §8.5): sealed to the
 * chosen hubs, never in the public body.
 */
export const privateFields = z.strictObject({
  contact: z.strictObject({ name: line(200).optional(), phone: line(50).optional() }).optional(),
  address: line(500).optional(),
  beneficiaries: z
    .array(z.strictObject({ name: line(200), phone: line(50).optional(), note: line(500).optional() }))
    .max(1000)
    .optional(),
  note: line(2000).optional(),
});
export type PrivateFields = z.infer<typeof privateFields>;

export const sealToSchema = z.array(hubIdSchema).min(1).max(32);

/** Seals private fields to hubs, and opens or erases sealed parts on this node. */
export class Privacy {
  constructor(
    private readonly deps: {
      hubId: string;
      store: Store;
      ingestor: Ingestor;
      publisher: Publisher;
      encryption: KeyPair;
    },
  ) {}

  /** Own hub and its parent chain (the resolver's admission chain): the default recipients. */
  defaultRecipients(): string[] {
    const self = this.deps.hubId;
    const hubs = (this.deps.ingestor.engine.collection('hubs') ?? []) as { id: string; admissionChain?: string[] }[];
    const chain = hubs.find((h) => h.id === self)?.admissionChain ?? [];
    return [self, ...chain.filter((h) => h !== self)];
  }

  /** The sealed part of `fields` for `to` (default: own hub and its parent chain), with the encryption keys in force. */
  seal(fields: unknown, to?: unknown): { sealed: Sealed; sealedHash: string } {
    const parsed = privateFields.safeParse(fields);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new ShuniuError('E_SCHEMA', `private.${i?.path.join('.')}: ${i?.message}`);
    }
    const payload = fields as PrivateFields;
    if (Object.keys(payload).length === 0) throw new ShuniuError('E_SCHEMA', 'private: at least one private field');
    if (Buffer.byteLength(jcs(payload as never)) > MAX_PRIVATE_BYTES)
      throw new ShuniuError('E_TOO_LARGE', `private fields hold at most ${MAX_PRIVATE_BYTES} bytes`);
    let hubs: string[];
    if (to === undefined) hubs = this.defaultRecipients();
    else {
      const r = sealToSchema.safeParse(to);
      if (!r.success) throw new ShuniuError('E_SCHEMA', `sealTo: ${r.error.issues[0]?.message}`);
      hubs = [...new Set(r.data)];
    }
    const recipients = hubs.map((hub) => {
      const key = this.deps.store.chainView(hub)?.keys.encryptionKey;
      if (!key) throw new ShuniuError('E_ARGUMENT', `sealTo: this node holds no keys of hub ${hub}`);
      return { hub, encryptionKey: key };
    });
    return seal(payload as never, recipients);
  }

  /** The stored record `id`, as this node keeps it. */
  stored(id: string): SignedRecord {
    const row = this.deps.store.recordById(id);
    if (!row) throw new ShuniuError('E_NOT_FOUND', `no record ${id}`);
    return JSON.parse(row.json) as SignedRecord;
  }

  /** Opens the sealed part of `id` with this hub's encryption key (E_SEALED when it cannot). */
  open(id: string): { id: string; to: string[]; private: unknown } {
    const record = this.stored(id);
    const payload = openSealedPart(record, this.deps.hubId, this.deps.encryption);
    return { id, to: record.sealed?.to.map((t) => t.hub) ?? [], private: payload };
  }

  /**
   * Erases the sealed part of `id` here and, when this hub is the record's
   * author or a recipient its sealed part names, publishes a signed
   * sealed.erased so every node does the same (spec/records.md §7.3).
   */
  async erase(id: string, reason?: string): Promise<{ id: string; erased: boolean; request?: string }> {
    const record = this.stored(id);
    if (record.sealedHash === undefined) throw new ShuniuError('E_SEALED', `record ${id} never had a sealed part`);
    const self = this.deps.hubId;
    const authorised = record.hub === self || (record.sealed?.to.some((t) => t.hub === self) ?? false);
    const erased = this.deps.ingestor.eraseHere(id, reason ?? 'operator');
    if (!authorised) return { id, erased };
    const { id: request, ack } = await this.deps.publisher.publish('sealed.erased', { record: id, ...(reason ? { reason } : {}) });
    if (ack.status !== 'accepted') throw new ShuniuError('E_STORAGE', `the erasure request was not stored: ${ack.status}`);
    return { id, erased, request };
  }

  /**
   * Retention (spec/node.md §8.6): erases the sealed parts of needs closed
   * more than `days` days ago (by the need.closed record's hlc against this
   * node's clock), publishing sealed.erased for those this hub authored.
   * Returns the ids erased.
   */
  async retain(days: number, now: number): Promise<string[]> {
    if (days <= 0) return [];
    const limit = now - days * 86_400_000;
    const needs = (this.deps.ingestor.engine.collection('needs') ?? []) as { id: string; hub: string; closed?: { record: string } }[];
    const out: string[] = [];
    for (const n of needs) {
      if (!n.closed) continue;
      const row = this.deps.store.recordById(n.id);
      if (!row?.json.includes('"sealed":')) continue;
      const closed = this.deps.store.recordById(n.closed.record);
      if (!closed) continue;
      const at = (JSON.parse(closed.json) as SignedRecord).hlc.ms;
      if (at > limit) continue;
      if (n.hub === this.deps.hubId) await this.erase(n.id, 'retention');
      else this.deps.ingestor.eraseHere(n.id, 'retention');
      out.push(n.id);
    }
    return out;
  }
}
