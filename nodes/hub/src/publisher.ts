import { type Author, type BodyOf, bodySchemas, formatPath, type RecordType, type Sealed, ShuniuError, type SignedRecord } from '@shuniu/protocol';
import type { Ack, Ingestor } from './ingest.js';
import type { Store } from './store/types.js';

/**
 * Signs records as this hub and ingests them through the same path as a
 * push. Writes are serialized so the chain never forks, and the author's
 * head is re-read from the store after a failure so one lost write cannot
 * leave the chain waiting for a record that was never stored.
 */
export class Publisher {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly author: Author,
    private readonly store: Store,
    private readonly ingestor: Ingestor,
    /**
     * Several processes signing as this hub (PostgreSQL): a lock held from reading the
     * stored head to the COMMIT of the record signed on it, so the chain never forks.
     */
    private readonly lock?: { chainLock(): Promise<void>; chainUnlock(): void },
  ) {}

  /** `opts.sealed`: a sealed part (spec/records.md §7) attached to the record, its hash signed. */
  publish<T extends RecordType>(
    type: T,
    body: unknown,
    opts: { sealed?: { sealed: Sealed; sealedHash: string } } = {},
  ): Promise<{ id: string; record: SignedRecord; ack: Ack }> {
    const run = async () => {
      const parsed = bodySchemas[type].safeParse(body);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({
          code: i.code,
          path: ['body', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
          message: i.message,
        }));
        throw new ShuniuError('E_SCHEMA', `${formatPath(issues[0]?.path ?? [])}: ${issues[0]?.message}`, { issues, path: issues[0]?.path ?? [] });
      }
      if (this.lock) {
        await this.lock.chainLock();
        // Another process may have signed since: sign after the head as stored.
        try {
          this.resync();
        } catch (e) {
          this.lock.chainUnlock();
          throw e;
        }
      }
      let ack: Ack | undefined;
      try {
        // The caller's object is signed, not zod's copy (which can drop members such as "__proto__" in ext).
        const { record, id } = this.author.sign(type, body as BodyOf<T>, opts.sealed ?? {});
        try {
          [ack] = await this.ingestor.ingest([record], 'local');
        } finally {
          if (ack?.status !== 'accepted') this.resync();
        }
        return { id, record, ack: ack as Ack };
      } finally {
        this.lock?.chainUnlock();
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private resync(): void {
    const view = this.store.chainView(this.author.hub);
    if (view) {
      this.author.head = { seq: view.head.seq, id: view.head.id, hlc: view.head.hlc };
      this.author.clock.observe(view.head.hlc);
    }
  }
}
