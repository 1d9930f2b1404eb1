/// <reference path="./libpq.d.ts" />
import { createRequire } from 'node:module';
import type { ChainView, HubKeys, SignedRecord, Verified } from '@shuniu/protocol';
import { ShuniuError } from '@shuniu/protocol';
import type PQ from 'libpq';
import { PG_MIGRATIONS } from './pg-migrations.js';
import { hasSealed, INTAKE_COLUMNS, intakeRowOf, PEER_COLUMNS, recordRow as sqliteRecordRow, withoutSealed } from './sqlite.js';
import type { FeedFilter, FeedRow, HeldFilter, HeldLimits, HeldLink, HeldRow, HoldOutcome, IntakeRow, PeerRow, SqlDb, Store, StoredRecord } from './types.js';

type Row = Record<string, unknown>;

let pqClass: typeof PQ | undefined;
/**
 * libpq's bindings, loaded on first use (a node on SQLite never loads them) through require:
 * imported as ESM the package prints its include directory on stdout.
 */
export function libpq(): typeof PQ {
  if (pqClass === undefined) {
    try {
      pqClass = createRequire(import.meta.url)('libpq') as typeof PQ;
    } catch (e) {
      // An optional dependency: its build needs libpq's headers (Debian: libpq-dev), which a machine on SQLite may lack.
      throw new ShuniuError(
        'E_STORAGE',
        `the PostgreSQL store needs the libpq package, which is not built here (${(e as Error).message.split('\n')[0]}): install libpq-dev (apt-get install -y libpq-dev) and run pnpm install again`,
        { cause: e },
      );
    }
  }
  return pqClass;
}
type Param = string | number | boolean | null | undefined;

/** Advisory lock keys (one database serves one hub). */
const WRITE_LOCK = 0x5348_0001; // every write transaction: ords are committed in order, the chain never forks
const CHAIN_LOCK = 0x5348_0002; // this hub's own publisher: sign and store one record at a time, across processes
const MIGRATE_LOCK = 0x5348_0003;
/** The channel every commit is announced on (payload: the highest ord it stored). */
export const COMMIT_CHANNEL = 'shuniu_commit';

/**
 * Closes a connection. libpq's bindings close their socket watcher with uv_close and no callback:
 * the handle lives inside the connection object, so the object is kept reachable until libuv has
 * finished closing it (a later turn of the event loop), or a GC in between frees memory libuv still reads.
 */
const closing = new Set<PQ>();
export function finishConnection(pq: PQ): void {
  pq.finish();
  closing.add(pq);
  setTimeout(() => closing.delete(pq), 1000).unref();
}

/** Whether a store setting names PostgreSQL (a libpq connection URI). */
export function isPostgresUrl(s: string | undefined): s is string {
  return s !== undefined && /^postgres(ql)?:\/\//.test(s);
}

/** PQtransactionStatus: idle, active, in a transaction, in a failed one, connection bad. */
const TX_INTRANS = 2;
const TX_INERROR = 3;
const TX_UNKNOWN = 4;

/** int2, int4, int8, oid, float4, float8, numeric: read as numbers. */
const NUMERIC = new Set([20, 21, 23, 26, 700, 701, 1700]);

function param(v: Param): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/**
 * A record's row: its ord, the columns of SqliteStore's recordRow (feed filter columns pulled out
 * of the body) and superseded, in the order of INSERT_RECORDS's arrays.
 */
function recordRow(ord: number, v: Verified, meta: { source: string; now: number; json?: string }, superseded: 0 | 1): Param[] {
  return [ord, ...(sqliteRecordRow(v, meta) as Param[]), superseded];
}

/**
 * The record rows appended in one transaction, sent as one statement: one array per column
 * (element types in RECORD_ARRAYS), unnested into rows by the server. The records' JSON texts
 * ('joined') go as one text, joined by U+001F, which no JSON text holds unescaped (RFC 8259 §7):
 * quoting them as array elements escaped every `"` in them, on the node (a tenth of its main
 * thread in bench national) and again, reading them, on the server.
 */
const RECORD_ARRAYS = ['bigint', 'text', 'text', 'bigint', 'text', 'text', 'text', 'text', 'text', 'bigint', 'joined', 'integer'] as const;
const INSERT_RECORDS = `INSERT INTO records (ord, id, hub, seq, type, region, urgency, grp, source, received_ms, json, superseded)
  SELECT * FROM unnest(${RECORD_ARRAYS.map((t, i) => (t === 'joined' ? `string_to_array($${i + 1}::text, chr(31))` : `$${i + 1}::${t}[]`)).join(', ')})`;
/** The separator of a 'joined' column. */
const SEP = '\x1f';
/** The chain heads a transaction moved (one row a hub), as arrays after the records' (see FINISH_WRITES). */
const HUB_ARRAYS = ['text', 'bigint', 'text', 'bigint', 'bigint', 'text', 'text', 'text'] as const;
/**
 * The end of a write transaction in one statement before its COMMIT: the records not sent yet, the
 * chain heads it moved, and the NOTIFY of its highest ord (none when its payload is NULL).
 */
const FINISH_WRITES = `WITH r AS (${INSERT_RECORDS}),
  h AS (INSERT INTO hubs (hub, head_seq, head_id, hlc_ms, hlc_c, signing_key, encryption_key, recovery_commitment)
    SELECT * FROM unnest(${HUB_ARRAYS.map((t, i) => `$${RECORD_ARRAYS.length + i + 1}::${t}[]`).join(', ')})
    ON CONFLICT (hub) DO UPDATE SET head_seq = EXCLUDED.head_seq, head_id = EXCLUDED.head_id, hlc_ms = EXCLUDED.hlc_ms, hlc_c = EXCLUDED.hlc_c,
      signing_key = EXCLUDED.signing_key, encryption_key = EXCLUDED.encryption_key, recovery_commitment = EXCLUDED.recovery_commitment)
  SELECT pg_notify($${RECORD_ARRAYS.length + HUB_ARRAYS.length + 1}, $${RECORD_ARRAYS.length + HUB_ARRAYS.length + 2}::text)
  WHERE $${RECORD_ARRAYS.length + HUB_ARRAYS.length + 2}::text IS NOT NULL`;

/** One array literal a column of `rows`, typed as `types` (text quoted), or a 'joined' column's texts joined by SEP. */
function columns(rows: Param[][], types: readonly string[]): string[] {
  return types.map((t, c) => {
    const values = rows.map((r) => r[c] as Param);
    return t === 'joined' ? joined(values as string[]) : arrayLiteral(values, t === 'text');
  });
}

/** JSON texts joined by SEP (see RECORD_ARRAYS). */
export function joined(texts: string[]): string {
  for (const t of texts) {
    // Never from a JSON text (the strict parser refuses it raw, JSON.stringify escapes it): a fault here, not the sender's.
    if (typeof t !== 'string' || t.length === 0 || t.includes(SEP)) throw new Error('a record text to store is empty or holds U+001F unescaped');
  }
  return texts.join(SEP);
}

/** A PostgreSQL array literal of `values` (text elements quoted, `\` and `"` escaped; null as NULL). */
function arrayLiteral(values: Param[], quote: boolean): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (!quote) out += String(v);
    else {
      const t = String(v);
      out += `"${t.includes('"') || t.includes('\\') ? t.replace(/["\\]/g, '\\$&') : t}"`;
    }
  }
  return `${out}}`;
}

/** `?` placeholders (SQLite style, outside quotes) as `$1, $2, …`. */
function numbered(sql: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

/**
 * The PostgreSQL store (spec/node.md §Storage, docs/deploy.md): the same
 * calls as SqliteStore, synchronous, through libpq's blocking API (the
 * `libpq` package, built against Debian's libpq). Several node processes may
 * share one database:
 * - every write transaction takes one advisory lock first, so ords are
 *   assigned and committed in one order (a cursor never skips a record
 *   committed late) and this hub's chain has one writer at a time;
 * - every commit that stored records is announced with NOTIFY; the other
 *   processes (LISTEN, and a poll by ord as a fallback) read what they did not
 *   write and hand it to `onForeign` (the resolver and live feed catch up);
 * - `lease` names the one process that works a peer's push queue, until
 *   its lease expires unrenewed (its holder died).
 * A lost connection is reopened at the next call; while the server is down
 * every call fails with E_STORAGE (503).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private pq: PQ | undefined;
  private listener: PQ | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private readonly prepared = new Set<string>();
  private names = new Map<string, string>();
  private depth = 0;
  /** Highest ord this process wrote or has handed to `onForeign`. */
  private knownOrd = 0;
  /**
   * Highest ord in the database during the transaction under way: read under the write lock
   * when it begins, then moved on by each row this transaction stores (ords are given here,
   * in order, under the lock: nobody else writes meanwhile).
   */
  private txMax = 0;
  /**
   * Record rows appended in the transaction under way and not sent yet: sent as one
   * statement (INSERT_RECORDS) before the next statement of any kind, so every read sees them.
   */
  private pendingRecords: Param[][] = [];
  /** Whether a transaction was begun and its write lock taken by `tryBegin`, for the next `transaction` call. */
  private begun = false;
  private readonly foreign = new Set<(from: number, to: number) => void>();
  private closed = false;
  /** SQL adapter for the token and join-code tables (`?` placeholders). */
  readonly db: SqlDb;

  constructor(
    readonly url: string,
    opts: { pollMs?: number } = {},
  ) {
    this.connect();
    this.migrate();
    this.knownOrd = this.readMaxOrd();
    this.db = {
      prepare: (sql: string) => {
        const text = numbered(sql);
        return {
          run: (...args: unknown[]) => ({ changes: this.run(text, args as Param[]) }),
          get: (...args: unknown[]) => this.one(text, args as Param[]),
          all: (...args: unknown[]) => this.all(text, args as Param[]),
        };
      },
      exec: (sql: string) => {
        this.exec(sql);
      },
    };
    const pollMs = opts.pollMs ?? 1000;
    if (pollMs > 0) {
      this.poll = setInterval(() => this.catchUp(), pollMs);
      this.poll.unref();
    }
  }

  // --- connection ---------------------------------------------------------

  private connect(): PQ {
    if (this.closed) throw new ShuniuError('E_STORAGE', 'the store is closed');
    const pq = new (libpq())();
    try {
      pq.connectSync(this.url);
    } catch (e) {
      finishConnection(pq);
      throw new ShuniuError('E_STORAGE', `cannot reach PostgreSQL: ${String((e as Error).message ?? e).trim()}`, { cause: e });
    }
    // Notices (CREATE … IF NOT EXISTS) would go to stderr.
    pq.exec('SET client_min_messages = warning');
    this.pq = pq;
    this.prepared.clear();
    return pq;
  }

  private conn(): PQ {
    const pq = this.pq;
    if (pq && pq.transactionStatus() !== TX_UNKNOWN) return pq;
    if (this.depth > 0) throw new ShuniuError('E_STORAGE', 'the connection to PostgreSQL was lost inside a transaction');
    if (pq) finishConnection(pq);
    this.pq = undefined;
    return this.connect();
  }

  /** Runs one statement (prepared once per connection); the connection holds its result. */
  private query(sql: string, params: Param[]): PQ {
    if (this.pendingRecords.length > 0) this.flushRecords();
    const pq = this.conn();
    let name = this.names.get(sql);
    if (name === undefined) {
      name = `s${this.names.size + 1}`;
      this.names.set(sql, name);
    }
    if (!this.prepared.has(name)) {
      pq.prepare(name, sql, params.length);
      if (pq.resultStatus() !== 'PGRES_COMMAND_OK') this.fail(pq, sql);
      this.prepared.add(name);
    }
    pq.execPrepared(name, params.map(param));
    const st = pq.resultStatus();
    if (st !== 'PGRES_TUPLES_OK' && st !== 'PGRES_COMMAND_OK') this.fail(pq, sql);
    return pq;
  }

  private fail(pq: PQ, sql: string): never {
    const msg = (pq.resultErrorMessage() || pq.errorMessage()).trim();
    const state = pq.resultErrorFields()?.sqlState;
    const lost = pq.transactionStatus() === TX_UNKNOWN;
    if (lost) {
      this.prepared.clear();
      throw new ShuniuError('E_STORAGE', `PostgreSQL is unreachable: ${msg}`);
    }
    // 57P01 admin shutdown, 57P02/57P03 crash / cannot connect now, 53xxx out of resources, 08xxx connection.
    if (state && /^(57P0|53|08)/.test(state)) throw new ShuniuError('E_STORAGE', `PostgreSQL cannot serve: ${msg}`);
    const err = new Error(`${msg} (${state ?? '?'}) in: ${sql.slice(0, 120)}`) as Error & { code?: string };
    if (state) err.code = state;
    throw err;
  }

  private rows(pq: PQ): Row[] {
    const n = pq.ntuples();
    const f = pq.nfields();
    const names: string[] = [];
    const nums: boolean[] = [];
    for (let c = 0; c < f; c++) {
      names.push(pq.fname(c));
      nums.push(NUMERIC.has(pq.ftype(c)));
    }
    const out: Row[] = new Array(n);
    for (let r = 0; r < n; r++) {
      const row: Row = {};
      for (let c = 0; c < f; c++) {
        const k = names[c] as string;
        if (pq.getisnull(r, c)) row[k] = null;
        else row[k] = nums[c] ? Number(pq.getvalue(r, c)) : pq.getvalue(r, c);
      }
      out[r] = row;
    }
    return out;
  }

  private all(sql: string, params: Param[] = []): Row[] {
    return this.rows(this.query(sql, params));
  }

  private one(sql: string, params: Param[] = []): Row | undefined {
    const pq = this.query(sql, params);
    if (pq.ntuples() === 0) return undefined;
    return this.rows(pq)[0];
  }

  private run(sql: string, params: Param[] = []): number {
    const pq = this.query(sql, params);
    return Number(pq.cmdTuples() || 0);
  }

  private exists(sql: string, params: Param[]): boolean {
    return this.query(sql, params).ntuples() > 0;
  }

  /** Several statements, no parameters (migrations, transaction control). */
  private exec(sql: string): void {
    if (this.pendingRecords.length > 0) this.flushRecords();
    const pq = this.conn();
    pq.exec(sql);
    const st = pq.resultStatus();
    if (st !== 'PGRES_TUPLES_OK' && st !== 'PGRES_COMMAND_OK') this.fail(pq, sql);
  }

  private migrate(): void {
    this.exec('CREATE TABLE IF NOT EXISTS shuniu_schema (version INTEGER NOT NULL)');
    this.exec('BEGIN');
    try {
      this.exec(`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK})`);
      const cur = (this.one('SELECT COALESCE(MAX(version), 0) AS v FROM shuniu_schema')?.v as number) ?? 0;
      for (const m of PG_MIGRATIONS) {
        if (m.version <= cur) continue;
        this.exec(m.sql);
        this.run('INSERT INTO shuniu_schema (version) VALUES ($1)', [m.version]);
      }
      this.exec('COMMIT');
    } catch (e) {
      this.rollbackQuietly();
      throw e;
    }
  }

  schemaVersion(): number {
    return (this.one('SELECT COALESCE(MAX(version), 0) AS v FROM shuniu_schema')?.v as number) ?? 0;
  }

  private rollbackQuietly(): void {
    try {
      if (this.pq && this.pq.transactionStatus() !== TX_UNKNOWN) this.pq.exec('ROLLBACK');
    } catch {
      // the connection is gone: so is the transaction
    }
  }

  // --- transactions, other processes --------------------------------------

  transaction<T>(fn: () => T): T {
    if (this.depth > 0) {
      const sp = `sp${this.depth}`;
      this.flushHubs();
      this.exec(`SAVEPOINT ${sp}`);
      const savedMax = this.txMax;
      this.depth++;
      try {
        const out = fn();
        this.flushHubs();
        this.exec(`RELEASE SAVEPOINT ${sp}`);
        return out;
      } catch (e) {
        // What the savepoint stored is undone: its unsent rows go, and their ords are given again.
        this.pendingHubs.clear();
        this.pendingRecords = [];
        this.txMax = savedMax;
        const tx = this.pq?.transactionStatus();
        if (tx === TX_INERROR || tx === TX_INTRANS) this.exec(`ROLLBACK TO SAVEPOINT ${sp}`);
        throw e;
      } finally {
        this.depth--;
      }
    }
    // Begun and locked by tryBegin (txMax read under the lock), unless its connection has broken since.
    const locked = this.begun && this.pq?.transactionStatus() === TX_INTRANS;
    if (this.begun && !locked) this.rollbackQuietly();
    this.begun = false;
    if (!locked) this.exec('BEGIN');
    this.depth = 1;
    let committed = false;
    try {
      // Under the lock nobody else writes: what is past knownOrd now was committed by another process.
      // (The lock and the read are two statements: each statement reads the database as it is when it starts.)
      if (!locked) this.exec(`SELECT pg_advisory_xact_lock(${WRITE_LOCK}); SELECT COALESCE(MAX(ord), 0) AS m FROM records`);
      const before = locked ? this.txMax : Number((this.pq as PQ).getvalue(0, 0));
      this.txMax = before;
      const out = fn();
      this.finishWrites(this.txMax > before ? this.txMax : null);
      this.exec('COMMIT');
      committed = true;
      if (before > this.knownOrd) this.announce(this.knownOrd, before);
      if (this.txMax > this.knownOrd) this.knownOrd = this.txMax;
      return out;
    } finally {
      this.depth = 0;
      if (!committed) {
        this.pendingHubs.clear();
        this.pendingRecords = [];
        this.rollbackQuietly();
      }
    }
  }

  /**
   * Begins the next transaction if the write lock is free now (another process may hold it
   * for its commit): true when it is begun and locked, and the next `transaction` call, which
   * must come before anything else uses the store, runs in it; false when the lock is held, so
   * the caller can wait without blocking its event loop and try again.
   */
  tryBegin(): boolean {
    if (this.depth > 0 || this.begun) return true;
    this.exec(`BEGIN; SELECT pg_try_advisory_xact_lock(${WRITE_LOCK}) AS ok`);
    const pq = this.pq as PQ;
    if (pq.ntuples() === 1 && pq.getvalue(0, 0) === 't') {
      try {
        this.txMax = this.readMaxOrd();
      } catch (e) {
        this.rollbackQuietly();
        throw e;
      }
      this.begun = true;
      return true;
    }
    this.rollbackQuietly();
    return false;
  }

  /** Ends a transaction `tryBegin` began that no `transaction` call took up (its caller failed first): the lock is released. */
  cancelBegin(): void {
    if (!this.begun) return;
    this.begun = false;
    this.rollbackQuietly();
  }

  /**
   * Calls `fn(from, to)` whenever records with `from < ord <= to` were committed by
   * another process (seen at this process's next transaction, on NOTIFY, or by the poll).
   */
  onForeign(fn: (from: number, to: number) => void): () => void {
    this.foreign.add(fn);
    this.listen();
    return () => this.foreign.delete(fn);
  }

  private announce(from: number, to: number): void {
    this.knownOrd = to;
    for (const fn of this.foreign) fn(from, to);
  }

  /** Reads what other processes committed since the last look (outside a transaction only). */
  catchUp(): void {
    if (this.depth > 0 || this.closed || this.foreign.size === 0) return;
    try {
      const max = this.readMaxOrd();
      if (max > this.knownOrd) this.announce(this.knownOrd, max);
      if (!this.listener) this.listen();
    } catch {
      // PostgreSQL is down: the next poll tries again
    }
  }

  private listen(): void {
    if (this.listener || this.closed) return;
    const l = new (libpq())();
    try {
      l.connectSync(this.url);
      l.exec(`LISTEN ${COMMIT_CHANNEL}`);
      if (l.resultStatus() !== 'PGRES_COMMAND_OK') throw new Error(l.resultErrorMessage());
    } catch {
      finishConnection(l);
      return;
    }
    this.listener = l;
    let pending = false;
    l.on('readable', () => {
      if (!l.consumeInput()) {
        // The listening connection broke: dropped here, made again by the next poll.
        finishConnection(l);
        if (this.listener === l) this.listener = undefined;
        return;
      }
      let any = false;
      while (l.notifies()) any = true;
      if (any && !pending) {
        pending = true;
        setImmediate(() => {
          pending = false;
          this.catchUp();
        });
      }
    });
    l.startReader();
  }

  lease(name: string, holder: string, ttlMs: number): boolean {
    // The database's clock, not this machine's: processes on several machines agree on expiry.
    const row = this.one(
      `WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms)
       INSERT INTO leases (name, holder, expires_ms) SELECT $1, $2, ms + $3 FROM now
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_ms = EXCLUDED.expires_ms
       WHERE leases.holder = EXCLUDED.holder OR leases.expires_ms <= (SELECT ms FROM now)
       RETURNING holder`,
      [name, holder, ttlMs],
    );
    return row?.holder === holder;
  }

  /** Gives up a lease (its holder stops). */
  unlease(name: string, holder: string): void {
    this.run('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  /**
   * This hub's own chain lock (a session advisory lock): one publisher in all
   * processes signs and stores at a time. Released with `chainUnlock` or when the process dies.
   */
  async chainLock(signal?: AbortSignal): Promise<void> {
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      if (this.one(`SELECT pg_try_advisory_lock(${CHAIN_LOCK}) AS ok`)?.ok === 't') return;
      if (signal?.aborted) throw new ShuniuError('E_STORAGE', 'stopped while waiting for the chain lock');
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  chainUnlock(): void {
    try {
      this.query(`SELECT pg_advisory_unlock(${CHAIN_LOCK})`, []);
    } catch {
      // a lost connection released it
    }
  }

  // --- Store --------------------------------------------------------------

  private readonly pendingHubs = new Map<string, Param[]>();

  private flushHubs(): void {
    if (this.pendingHubs.size === 0) return;
    for (const row of this.pendingHubs.values()) this.upsertHub(row);
    this.pendingHubs.clear();
  }

  private upsertHub(row: Param[]): void {
    this.run(
      `INSERT INTO hubs (hub, head_seq, head_id, hlc_ms, hlc_c, signing_key, encryption_key, recovery_commitment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (hub) DO UPDATE SET head_seq = $2, head_id = $3, hlc_ms = $4, hlc_c = $5, signing_key = $6, encryption_key = $7, recovery_commitment = $8`,
      row,
    );
  }

  chainView(hub: string): ChainView | undefined {
    // A head this transaction moved is read from its row not sent yet (see upsertHub's columns), without a statement.
    const p = this.pendingHubs.get(hub);
    const h = p
      ? { head_seq: p[1], head_id: p[2], hlc_ms: p[3], hlc_c: p[4], signing_key: p[5], encryption_key: p[6], recovery_commitment: p[7] }
      : this.one('SELECT * FROM hubs WHERE hub = $1', [hub]);
    if (!h) return undefined;
    return {
      keys: { signingKey: h.signing_key as string, encryptionKey: h.encryption_key as string, recoveryCommitment: h.recovery_commitment as string },
      head: { seq: h.head_seq as number, id: h.head_id as string, hlc: { ms: h.hlc_ms as number, c: h.hlc_c as number } },
      idAt: (seq) => this.one('SELECT id FROM records WHERE hub = $1 AND seq = $2 AND superseded = 0', [hub, seq])?.id as string | undefined,
      keysAt: (seq) => {
        const row = this.one(
          "SELECT json FROM records WHERE hub = $1 AND seq < $2 AND superseded = 0 AND type IN ('hub.inception', 'hub.keys.rotated') ORDER BY seq DESC LIMIT 1",
          [hub, seq],
        );
        if (!row) return undefined;
        const b = (JSON.parse(row.json as string) as SignedRecord).body as HubKeys;
        return { signingKey: b.signingKey, encryptionKey: b.encryptionKey, recoveryCommitment: b.recoveryCommitment };
      },
    };
  }

  signingKeysOf(hub: string): string[] {
    const out = new Set<string>();
    for (const row of this.all("SELECT json FROM records WHERE hub = $1 AND type IN ('hub.inception', 'hub.keys.rotated')", [hub]))
      out.add(((JSON.parse(row.json as string) as SignedRecord).body as HubKeys).signingKey);
    return [...out];
  }

  hasRecord(id: string): boolean {
    return this.exists('SELECT 1 FROM records WHERE id = $1', [id]);
  }

  /**
   * Sends the record rows appended since the last statement, in one INSERT. Its failure (a row
   * already stored) fails whichever call sent it, inside the transaction, which then rolls back.
   */
  private flushRecords(): void {
    const rows = this.pendingRecords;
    if (rows.length === 0) return;
    this.pendingRecords = [];
    this.query(INSERT_RECORDS, columns(rows, RECORD_ARRAYS));
  }

  /** Sends the records and chain heads not sent yet and the NOTIFY of `notify` (an ord, or null) in one statement (FINISH_WRITES). */
  private finishWrites(notify: number | null): void {
    if (this.pendingRecords.length === 0 && this.pendingHubs.size === 0 && notify === null) return;
    const rows = this.pendingRecords;
    this.pendingRecords = [];
    const hubs = [...this.pendingHubs.values()];
    this.pendingHubs.clear();
    this.query(FINISH_WRITES, [...columns(rows, RECORD_ARRAYS), ...columns(hubs, HUB_ARRAYS), COMMIT_CHANNEL, notify]);
  }

  /** Queues a record row under the next ord (see txMax); sent by flushRecords. */
  private addRecordRow(v: Verified, meta: { source: string; now: number; json?: string }, superseded: 0 | 1): number {
    const ord = ++this.txMax;
    this.pendingRecords.push(recordRow(ord, v, meta, superseded));
    return ord;
  }

  appendRecord(v: Verified, keys: HubKeys, meta: { source: string; recovery: boolean; now: number; json?: string }): number {
    // Ords are given under the write lock: outside a transaction (tests, init) this is one.
    if (this.depth === 0) return this.transaction(() => this.appendRecord(v, keys, meta));
    const r = v.record;
    if (meta.recovery) this.run('UPDATE records SET superseded = 1 WHERE hub = $1 AND seq >= $2 AND superseded = 0', [r.hub, r.seq]);
    const ord = this.addRecordRow(v, meta, 0);
    this.pendingHubs.set(r.hub, [r.hub, r.seq, v.id, r.hlc.ms, r.hlc.c, keys.signingKey, keys.encryptionKey, keys.recoveryCommitment]);
    if (r.type === 'hub.profile') {
      this.flushHubs();
      this.run('UPDATE hubs SET profile = $1 WHERE hub = $2', [JSON.stringify(r.body), r.hub]);
    }
    return ord;
  }

  appendOffChain(v: Verified, meta: { source: string; now: number }): number {
    if (this.depth === 0) return this.transaction(() => this.appendOffChain(v, meta));
    return this.addRecordRow(v, meta, 1);
  }

  hasFork(hub: string): boolean {
    return this.exists('SELECT 1 FROM forks WHERE hub = $1 LIMIT 1', [hub]);
  }

  recordById(id: string): StoredRecord | undefined {
    return this.one('SELECT ord, id, hub, seq, type, json FROM records WHERE id = $1', [id]) as StoredRecord | undefined;
  }

  log(hub: string, after: number, limit: number): StoredRecord[] {
    return this.all('SELECT ord, id, hub, seq, type, json FROM records WHERE hub = $1 AND seq > $2 AND superseded = 0 ORDER BY seq LIMIT $3', [
      hub,
      after,
      limit,
    ]) as unknown as StoredRecord[];
  }

  logPage(hub: string, after: number, limit: number): { count: number; lastSeq: number | null; joined: Uint8Array } {
    const r = this.one(
      "SELECT COUNT(*) AS n, MAX(seq) AS last, string_agg(json, ',' ORDER BY seq) AS joined FROM (SELECT seq, json FROM records WHERE hub = $1 AND seq > $2 AND superseded = 0 ORDER BY seq LIMIT $3) t",
      [hub, after, limit],
    ) as { n: number; last: number | null; joined: string | null };
    return { count: r.n, lastSeq: r.last, joined: r.joined === null ? new Uint8Array(0) : Buffer.from(r.joined) };
  }

  feedPage(after: number, limit: number, f: FeedFilter, scan: number): { rows: FeedRow[]; through: number } {
    const top = Math.min(after + scan, this.maxOrd());
    if (top <= after) return { rows: [], through: after };
    const where = ['ord > $1', 'ord <= $2'];
    const args: Param[] = [after, top];
    if (f.region) {
      args.push(`${f.region.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`region LIKE $${args.length}`);
    }
    for (const [col, vals] of [
      ['type', f.types],
      ['urgency', f.urgency],
      ['grp', f.group],
    ] as const) {
      if (vals && vals.length > 0) {
        args.push(JSON.stringify(vals));
        where.push(`${col} IN (SELECT jsonb_array_elements_text($${args.length}::jsonb))`);
      }
    }
    args.push(limit);
    const rows = this.all(
      `SELECT ord, id, hub, seq, type, region, urgency, grp, json FROM records WHERE ${where.join(' AND ')} ORDER BY ord LIMIT $${args.length}`,
      args,
    ) as unknown as FeedRow[];
    return { rows, through: rows.length === limit ? (rows[rows.length - 1] as FeedRow).ord : top };
  }

  since(ord: number, limit: number): StoredRecord[] {
    return this.all('SELECT ord, id, hub, seq, type, source, json FROM records WHERE ord > $1 ORDER BY ord LIMIT $2', [
      ord,
      limit,
    ]) as unknown as StoredRecord[];
  }

  outbound(ord: number, skip: string | readonly string[], limit: number): { rows: StoredRecord[]; through: number } {
    const rows = this.all(
      'SELECT ord, id, hub, seq, type, json FROM records WHERE ord > $1 AND source NOT IN (SELECT jsonb_array_elements_text($2::jsonb)) ORDER BY ord LIMIT $3',
      [ord, JSON.stringify(typeof skip === 'string' ? [skip] : skip), limit],
    ) as unknown as StoredRecord[];
    const through = rows.length === limit ? (rows[rows.length - 1] as StoredRecord).ord : Math.max(ord, this.maxOrd());
    return { rows, through };
  }

  offChain(ord: number, limit: number): StoredRecord[] {
    return this.all('SELECT ord, id, hub, seq, type, json FROM records WHERE superseded = 1 AND ord > $1 ORDER BY ord LIMIT $2', [
      ord,
      limit,
    ]) as unknown as StoredRecord[];
  }

  offChainSummary(): { count: number; last: number } {
    const r = this.one('SELECT COUNT(*) AS count, COALESCE(MAX(ord), 0) AS last FROM records WHERE superseded = 1');
    return { count: Number(r?.count ?? 0), last: Number(r?.last ?? 0) };
  }

  /**
   * The highest ord committed as this process knows it. Inside a transaction: what it read under
   * the write lock and has stored since. Outside, while it listens for other processes' commits:
   * the last one it has handed to onForeign (its resolver holds everything up to there; NOTIFY or
   * the poll moves it on), so nothing reads past what its resolver and listeners were given.
   */
  maxOrd(): number {
    if (this.depth > 0 || this.begun) return this.txMax;
    if (this.listener && this.foreign.size > 0) return this.knownOrd;
    return this.readMaxOrd();
  }

  private readMaxOrd(): number {
    return (this.one('SELECT COALESCE(MAX(ord), 0) AS m FROM records')?.m as number) ?? 0;
  }

  heads(): Record<string, number> {
    this.flushHubs();
    const out: Record<string, number> = {};
    for (const r of this.all('SELECT hub, head_seq FROM hubs')) out[r.hub as string] = r.head_seq as number;
    return out;
  }

  hubProfiles(): { hub: string; headSeq: number; keys: HubKeys; profile: unknown }[] {
    this.flushHubs();
    return this.all('SELECT * FROM hubs ORDER BY hub').map((h) => ({
      hub: h.hub as string,
      headSeq: h.head_seq as number,
      keys: { signingKey: h.signing_key as string, encryptionKey: h.encryption_key as string, recoveryCommitment: h.recovery_commitment as string },
      profile: h.profile ? JSON.parse(h.profile as string) : null,
    }));
  }

  hold(row: HeldRow & { sender: string; link?: Omit<HeldLink, 'id' | 'hub' | 'seq'> }, now: number, limits: HeldLimits): HoldOutcome {
    const bytes = Buffer.byteLength(row.json);
    let room = this.heldRoom(row.sender, bytes, limits);
    if (room !== 'held' && limits.ttlMs > 0 && this.run('DELETE FROM held WHERE received_ms < $1', [now - limits.ttlMs]) > 0)
      room = this.heldRoom(row.sender, bytes, limits);
    if (room === 'held') {
      const { link } = row;
      this.run(
        `INSERT INTO held (id, hub, seq, json, source, sender, received_ms, bytes, chain) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET
           json = CASE WHEN strpos(held.json, '"sealed":') = 0 AND strpos(EXCLUDED.json, '"sealed":') > 0 THEN EXCLUDED.json ELSE held.json END,
           bytes = CASE WHEN strpos(held.json, '"sealed":') = 0 AND strpos(EXCLUDED.json, '"sealed":') > 0 THEN EXCLUDED.bytes ELSE held.bytes END,
           chain = COALESCE(held.chain, EXCLUDED.chain)`,
        [
          row.id,
          row.hub,
          row.seq,
          row.json,
          row.source,
          row.sender,
          now,
          bytes,
          link ? JSON.stringify({ ...link.keys, ms: link.hlc.ms, c: link.hlc.c }) : null,
        ],
      );
    }
    return room;
  }

  private heldRoom(sender: string, bytes: number, limits: HeldLimits): HoldOutcome {
    const mine = this.one('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM held WHERE sender = $1', [sender]) as { n: number; b: number };
    if (mine.n >= limits.perSender) return 'sender';
    if (mine.b + bytes > limits.perSenderBytes) return 'senderBytes';
    const all = this.one('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM held') as { n: number; b: number };
    if (all.n >= limits.max) return 'full';
    if (all.b + bytes > limits.maxBytes) return 'fullBytes';
    return 'held';
  }

  heldLink(id: string): HeldLink | undefined {
    const r = this.one('SELECT id, hub, seq, chain FROM held WHERE id = $1 AND chain IS NOT NULL', [id]) as
      | { id: string; hub: string; seq: number; chain: string }
      | undefined;
    if (!r) return undefined;
    const c = JSON.parse(r.chain) as { signingKey: string; encryptionKey: string; recoveryCommitment: string; ms: number; c: number };
    return {
      id: r.id,
      hub: r.hub,
      seq: r.seq,
      keys: { signingKey: c.signingKey, encryptionKey: c.encryptionKey, recoveryCommitment: c.recoveryCommitment },
      hlc: { ms: c.ms, c: c.c },
    };
  }

  hasHeld(id: string): boolean {
    return this.exists('SELECT 1 FROM held WHERE id = $1', [id]);
  }

  heldSummary(): { sender: string; records: number; bytes: number; oldestMs: number }[] {
    return this.all(
      'SELECT sender, COUNT(*) AS records, COALESCE(SUM(bytes), 0) AS bytes, MIN(received_ms) AS "oldestMs" FROM held GROUP BY sender ORDER BY bytes DESC',
    ) as { sender: string; records: number; bytes: number; oldestMs: number }[];
  }

  purgeHeld(f: HeldFilter): { records: number; bytes: number } {
    const where: string[] = [];
    const args: Param[] = [];
    if (f.hub !== undefined) {
      args.push(f.hub);
      where.push(`hub = $${args.length}`);
    }
    if (f.sender !== undefined) {
      args.push(f.sender);
      where.push(`sender = $${args.length}`);
    }
    if (f.before !== undefined) {
      args.push(f.before);
      where.push(`received_ms < $${args.length}`);
    }
    const cond = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    return this.transaction(() => {
      const t = this.one(`SELECT COUNT(*) AS records, COALESCE(SUM(bytes), 0) AS bytes FROM held${cond}`, args) as { records: number; bytes: number };
      this.run(`DELETE FROM held${cond}`, args);
      return t;
    });
  }

  heldFor(hub: string, seq: number): HeldRow[] {
    return this.all('SELECT id, hub, seq, json, source FROM held WHERE hub = $1 AND seq = $2', [hub, seq]) as unknown as HeldRow[];
  }

  dropHeld(id: string): void {
    this.run('DELETE FROM held WHERE id = $1', [id]);
  }

  dropHeldOf(hub: string): number {
    return this.run('DELETE FROM held WHERE hub = $1', [hub]);
  }

  heldCount(): number {
    return this.one('SELECT COUNT(*) AS n FROM held')?.n as number;
  }

  heldHubs(): { hub: string; seq: number }[] {
    return this.all('SELECT hub, MIN(seq) AS seq FROM held GROUP BY hub') as { hub: string; seq: number }[];
  }

  addFork(hub: string, seq: number, existing: string, other: Verified, now: number): void {
    this.run('INSERT INTO forks (hub, seq, existing, other, json, received_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [
      hub,
      seq,
      existing,
      other.id,
      JSON.stringify(other.record),
      now,
    ]);
  }

  forks(): { hub: string; seq: number; existing: string; other: string }[] {
    return this.all('SELECT hub, seq, existing, other FROM forks ORDER BY hub, seq') as { hub: string; seq: number; existing: string; other: string }[];
  }

  isBlocked(hub: string): boolean {
    return this.exists('SELECT 1 FROM blocked WHERE hub = $1', [hub]);
  }

  block(hub: string, reason: string, now: number): void {
    this.run('INSERT INTO blocked (hub, reason, since_ms) VALUES ($1, $2, $3) ON CONFLICT (hub) DO UPDATE SET reason = $2, since_ms = $3', [hub, reason, now]);
  }

  unblock(hub: string): void {
    this.run('DELETE FROM blocked WHERE hub = $1', [hub]);
  }

  blocked(): { hub: string; reason: string | null }[] {
    return this.all('SELECT hub, reason FROM blocked ORDER BY hub') as { hub: string; reason: string | null }[];
  }

  peers(): PeerRow[] {
    return this.all('SELECT * FROM peers ORDER BY url').map((r) => ({
      url: r.url as string,
      role: r.role as PeerRow['role'],
      hub: (r.hub as string | null) ?? null,
      push: r.push === 1,
      pull: r.pull === 1,
      cursor: r.cursor as number,
      failures: r.failures as number,
      nextAttemptMs: r.next_attempt_ms as number,
      parked: r.parked === 1,
      lastError: (r.last_error as string | null) ?? null,
    }));
  }

  upsertPeer(p: { url: string; role: PeerRow['role']; hub?: string | null; push?: boolean; pull?: boolean }): void {
    this.run(
      `INSERT INTO peers (url, role, hub, push, pull) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (url) DO UPDATE SET role = $2, hub = COALESCE($3, peers.hub), push = $4, pull = $5, parked = 0, failures = 0, next_attempt_ms = 0`,
      [p.url, p.role, p.hub ?? null, p.push === false ? 0 : 1, p.pull === false ? 0 : 1],
    );
  }

  removePeer(url: string): void {
    this.run('DELETE FROM peers WHERE url = $1', [url]);
  }

  updatePeer(url: string, patch: Partial<Pick<PeerRow, 'cursor' | 'failures' | 'nextAttemptMs' | 'parked' | 'lastError' | 'hub'>>): void {
    const sets: string[] = [];
    const args: Param[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = PEER_COLUMNS[k];
      if (!col || v === undefined) continue;
      args.push(typeof v === 'boolean' ? (v ? 1 : 0) : (v as Param));
      sets.push(`${col} = $${args.length}`);
    }
    if (sets.length === 0) return;
    args.push(url);
    this.run(`UPDATE peers SET ${sets.join(', ')} WHERE url = $${args.length}`, args);
  }

  restoreSealed(id: string, json: string, source: string): number | undefined {
    if (this.depth === 0) return this.transaction(() => this.restoreSealed(id, json, source));
    const row = this.one('SELECT json FROM records WHERE id = $1', [id]);
    if (!row || hasSealed(row.json as string)) return undefined;
    const ord = this.txMax + 1;
    if (this.run('UPDATE records SET ord = $1, json = $2, source = $3 WHERE id = $4', [ord, json, source, id]) > 0) this.txMax = ord;
    return ord;
  }

  addErasure(record: string, byHub: string, request: string, reason: string, now: number): void {
    this.run('INSERT INTO erasures (record, by_hub, request, reason, at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
      record,
      byHub,
      request,
      reason,
      now,
    ]);
  }

  erasuresOf(record: string): string[] {
    return this.all('SELECT by_hub FROM erasures WHERE record = $1', [record]).map((r) => r.by_hub as string);
  }

  eraseSealed(id: string): boolean {
    let erased = false;
    const row = this.one('SELECT json FROM records WHERE id = $1', [id]);
    if (row && hasSealed(row.json as string)) {
      this.run('UPDATE records SET json = $1 WHERE id = $2', [withoutSealed(row.json as string), id]);
      erased = true;
    }
    const held = this.one('SELECT json FROM held WHERE id = $1', [id]);
    if (held && hasSealed(held.json as string)) {
      this.run('UPDATE held SET json = $1 WHERE id = $2', [withoutSealed(held.json as string), id]);
      erased = true;
    }
    for (const f of this.all('SELECT hub, seq, other, json FROM forks WHERE other = $1', [id])) {
      if (!hasSealed(f.json as string)) continue;
      this.run('UPDATE forks SET json = $1 WHERE hub = $2 AND seq = $3 AND other = $4', [
        withoutSealed(f.json as string),
        f.hub as string,
        f.seq as number,
        f.other as string,
      ]);
      erased = true;
    }
    return erased;
  }

  storedSealed(after: number, limit: number): { ord: number; id: string; record: SignedRecord }[] {
    const out: { ord: number; id: string; record: SignedRecord }[] = [];
    for (const r of this.all("SELECT ord, id, json FROM records WHERE ord > $1 AND type IN ('need.posted', 'offer.posted') ORDER BY ord LIMIT $2", [
      after,
      limit,
    ])) {
      if (hasSealed(r.json as string)) out.push({ ord: r.ord as number, id: r.id as string, record: JSON.parse(r.json as string) as SignedRecord });
    }
    return out;
  }

  flushDeleted(): void {
    // Old row versions are reclaimed by (auto)vacuum; the WAL and base backups keep them until
    // they are recycled (docs/deploy.md: erasure on PostgreSQL).
  }

  addIntake(row: IntakeRow, maxRows: number, maxBytes: number): 'added' | 'rows' | 'bytes' {
    return this.transaction((): 'added' | 'rows' | 'bytes' => {
      const t = this.one("SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM intake WHERE state IN ('pending', 'verified')") as { n: number; b: number };
      if (t.n >= maxRows) return 'rows';
      if (t.b + row.bytes > maxBytes) return 'bytes';
      this.run(
        `INSERT INTO intake (id, token_hash, state, need, private, bytes, submitted_ms, verified_ms, decided_ms, record, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [row.id, row.tokenHash, row.state, row.need, row.private, row.bytes, row.submittedMs, row.verifiedMs, row.decidedMs, row.record, row.reason],
      );
      return 'added';
    });
  }

  intake(key: string, by: 'id' | 'token' = 'id'): IntakeRow | undefined {
    const r = this.one(`SELECT * FROM intake WHERE ${by === 'id' ? 'id' : 'token_hash'} = $1`, [key]);
    return r ? intakeRowOf(r) : undefined;
  }

  intakeList(states: readonly IntakeRow['state'][], limit: number): IntakeRow[] {
    const rows =
      states.length === 0
        ? this.all('SELECT * FROM intake ORDER BY submitted_ms DESC, id LIMIT $1', [limit])
        : this.all('SELECT * FROM intake WHERE state IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY submitted_ms DESC, id LIMIT $2', [
            JSON.stringify(states),
            limit,
          ]);
    return rows.map(intakeRowOf);
  }

  updateIntake(id: string, patch: Partial<Pick<IntakeRow, 'state' | 'need' | 'private' | 'verifiedMs' | 'decidedMs' | 'record' | 'reason'>>): void {
    const sets: string[] = [];
    const args: Param[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = INTAKE_COLUMNS[k];
      if (!col || v === undefined) continue;
      args.push(v as Param);
      sets.push(`${col} = $${args.length}`);
    }
    if (patch.private === null) sets.push('bytes = octet_length(need)');
    if (sets.length === 0) return;
    args.push(id);
    this.run(`UPDATE intake SET ${sets.join(', ')} WHERE id = $${args.length}`, args);
  }

  checkpoint(): { ord: number; snapshot: string } | undefined {
    return this.one('SELECT ord, snapshot FROM checkpoint WHERE k = 1') as { ord: number; snapshot: string } | undefined;
  }

  saveCheckpoint(ord: number, snapshot: string): void {
    this.run('INSERT INTO checkpoint (k, ord, snapshot) VALUES (1, $1, $2) ON CONFLICT (k) DO UPDATE SET ord = $1, snapshot = $2', [ord, snapshot]);
  }

  clearCheckpoint(): void {
    this.run('DELETE FROM checkpoint');
  }

  /** Copies every table of a SQLite store into this empty database (a node moved to PostgreSQL). */
  importFrom(db: SqlDb): number {
    const tables = ['records', 'hubs', 'admissions', 'held', 'forks', 'peers', 'blocked', 'checkpoint', 'tokens', 'erasures', 'join_codes', 'intake'];
    let n = 0;
    this.transaction(() => {
      // Under the write lock: a second process starting at the same time finds it done.
      if (this.txMax > 0) return;
      for (const t of tables) {
        for (const r of db.prepare(`SELECT * FROM ${t}`).all() as Row[]) {
          const cols = Object.keys(r);
          this.run(
            `INSERT INTO ${t} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
            cols.map((c) => r[c] as Param),
          );
          n++;
        }
      }
      this.txMax = this.readMaxOrd();
    });
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    if (this.listener) {
      finishConnection(this.listener);
      this.listener = undefined;
    }
    this.foreign.clear();
    if (this.pq) finishConnection(this.pq);
    this.pq = undefined;
  }
}
