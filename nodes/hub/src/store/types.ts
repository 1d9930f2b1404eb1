import type { ChainView, Hlc, HubKeys, SignedRecord, Verified } from '@shuniu/protocol';

/** One stored record and where it sits in this node's ingest order. */
export interface StoredRecord {
  ord: number;
  id: string;
  hub: string;
  seq: number;
  type: string;
  json: string;
  /** "local", or the peer it came from (only filled by `since`). */
  source?: string;
}

/** Filters of the node feed (spec/node.md §Feed). Empty means no filter. */
export interface FeedFilter {
  region?: string;
  types?: string[];
  urgency?: string[];
  group?: string[];
}

/** A feed row with the columns the feed filters on (null when the record has none). */
export interface FeedRow extends StoredRecord {
  region: string | null;
  urgency: string | null;
  grp: string | null;
}

export interface PeerRow {
  url: string;
  role: 'parent' | 'child' | 'follow' | 'peer';
  hub: string | null;
  push: boolean;
  pull: boolean;
  cursor: number;
  failures: number;
  nextAttemptMs: number;
  parked: boolean;
  lastError: string | null;
}

export interface HeldRow {
  id: string;
  hub: string;
  seq: number;
  json: string;
  source: string;
}

/**
 * A held record that was verified along its hub's held chain, from the
 * hub's inception (spec/node.md §3.1): what it leaves in force, against which
 * the hub's next record is checked before it may be held.
 */
export interface HeldLink {
  id: string;
  hub: string;
  seq: number;
  keys: HubKeys;
  hlc: Hlc;
}

/** Bounds of the holding area (spec/node.md §3.1): records and bytes, per sender and in all. */
export interface HeldLimits {
  max: number;
  perSender: number;
  maxBytes: number;
  perSenderBytes: number;
  ttlMs: number;
}

/** What `Store.hold` did: held, or which bound refused it. */
export type HoldOutcome = 'held' | 'sender' | 'full' | 'senderBytes' | 'fullBytes';

/** Which held records to drop (spec/node.md §3.1, `shuniu held purge`); all given conditions must hold. */
export interface HeldFilter {
  hub?: string;
  sender?: string;
  /** Received before this time (ms). */
  before?: number;
}

/**
 * A need submitted through the public intake form (spec/node.md §8.7). `need`
 * and `private` are JSON texts; `private` is null once the submission is
 * published (its fields then sealed in the signed need) or rejected.
 */
export interface IntakeRow {
  id: string;
  /** SHA-256 of the tracking token (base64url); the token itself is never stored. */
  tokenHash: string;
  state: 'pending' | 'verified' | 'published' | 'rejected';
  need: string;
  private: string | null;
  /** UTF-8 bytes of `need` and `private` together. */
  bytes: number;
  submittedMs: number;
  verifiedMs: number | null;
  decidedMs: number | null;
  /** The signed need.posted record's id, once published. */
  record: string | null;
  reason: string | null;
}

/**
 * The SQL the token and join-code tables are kept with (`?` placeholders): a
 * better-sqlite3 database, or the PostgreSQL store's adapter.
 */
export interface SqlDb {
  prepare(sql: string): { run(...args: unknown[]): { changes: number }; get(...args: unknown[]): unknown; all(...args: unknown[]): unknown[] };
  exec(sql: string): unknown;
}

/**
 * What the node needs from a store. Narrow on purpose: a PostgreSQL store
 * implements the same calls. Every write happens inside `transaction`, and
 * nothing is acknowledged before it returns.
 */
export interface Store {
  transaction<T>(fn: () => T): T;
  chainView(hub: string): ChainView | undefined;
  hasRecord(id: string): boolean;
  /** Every signing key a hub announced in the records held here (inception and rotations, on any branch). */
  signingKeysOf(hub: string): string[];
  /**
   * Appends a verified record; a recovery rotation first marks the records it cuts off as superseded.
   * `meta.json`, when the caller has it, is the record's text exactly as JSON.stringify(v.record)
   * writes it (stored as it is, instead of serialising the record again).
   */
  appendRecord(v: Verified, keys: HubKeys, meta: { source: string; recovery: boolean; now: number; json?: string }): number;
  recordById(id: string): StoredRecord | undefined;
  log(hub: string, after: number, limit: number): StoredRecord[];
  /**
   * The same records as `log`, as one UTF-8 buffer: their texts joined by commas in seq order
   * (built by SQLite, so no row object or string per record), with their count and last seq.
   */
  logPage(hub: string, after: number, limit: number): { count: number; lastSeq: number | null; joined: Uint8Array };
  /**
   * A bounded feed page: records with `after < ord <= after + scan` matching the filter, at most
   * `limit`, and `through`, the highest ord looked at (the last row's when `limit` were found, else
   * after + scan or the highest ord stored): a cursor that moves past rows that did not match.
   */
  feedPage(after: number, limit: number, filter: FeedFilter, scan: number): { rows: FeedRow[]; through: number };
  /** Records after `ord`, any filter, for push queues and replay. */
  since(ord: number, limit: number): StoredRecord[];
  /**
   * Records stored beside the chains (fork proofs, a forked hub's other branch, what a recovery
   * cut off: `superseded`) after `ord`, at most `limit`, in ingest order; a pull fetches them
   * (spec/node.md §9.3).
   */
  offChain(ord: number, limit: number): StoredRecord[];
  /** How many records are stored beside the chains, and the highest ingest order among them (0 when none). */
  offChainSummary(): { count: number; last: number };
  /**
   * A push queue's next batch: at most `limit` records after `ord` whose
   * source is not `skip` (the peer itself: its URL, for pulled records, and
   * `hub:<id>` for records it pushed signed), in ingest order, and `through`,
   * the ord the queue's cursor moves to once they are delivered (past the
   * skipped ones too; `ord` when there is nothing after it).
   */
  outbound(ord: number, skip: string | readonly string[], limit: number): { rows: StoredRecord[]; through: number };
  maxOrd(): number;
  heads(): Record<string, number>;
  hubProfiles(): { hub: string; headSeq: number; keys: HubKeys; profile: unknown }[];
  /**
   * Keeps a record aside until its chain or its admission arrives (spec/node.md
   * §3.1). `sender` is who sent it (a push's `hub:<id>` when signed by a peer,
   * else `addr:<ip>`; a pull's peer URL): one sender may hold at most `perSender` records, all senders
   * together `max`. Says which limit refused it, if one did.
   */
  /**
   * Holds a record unless the sender's share or the area is full; when one
   * is, held records received before `now - ttlMs` are dropped first (ttlMs > 0).
   */
  hold(row: HeldRow & { sender: string; link?: Omit<HeldLink, 'id' | 'hub' | 'seq'> }, now: number, limits: HeldLimits): HoldOutcome;
  /** A held record verified along its hub's held chain (`link` given to `hold`), by id. */
  heldLink(id: string): HeldLink | undefined;
  hasHeld(id: string): boolean;
  /** Held records and their stored bytes per sender, most bytes first, and when the oldest arrived. */
  heldSummary(): { sender: string; records: number; bytes: number; oldestMs: number }[];
  /** Drops the held records matching every condition of `f` (all of them for `{}`); how many and their bytes. */
  purgeHeld(f: HeldFilter): { records: number; bytes: number };
  heldFor(hub: string, seq: number): HeldRow[];
  dropHeld(id: string): void;
  /** Drops every held record of a hub (it was blocked, spec/node.md §7); how many there were. */
  dropHeldOf(hub: string): number;
  heldCount(): number;
  heldHubs(): { hub: string; seq: number }[];
  addFork(hub: string, seq: number, existing: string, other: Verified, now: number): void;
  /**
   * Stores a validly signed record that is not on the author's chain as this
   * node holds it (the other side of a fork, or what follows it): kept as
   * proof, in the feed and push queues so every node gets the same set, but
   * never a chain head.
   */
  appendOffChain(v: Verified, meta: { source: string; now: number }): number;
  /** Whether the node holds a fork proof for the hub. */
  hasFork(hub: string): boolean;
  forks(): { hub: string; seq: number; existing: string; other: string }[];
  isBlocked(hub: string): boolean;
  block(hub: string, reason: string, now: number): void;
  unblock(hub: string): void;
  blocked(): { hub: string; reason: string | null }[];
  peers(): PeerRow[];
  upsertPeer(p: { url: string; role: PeerRow['role']; hub?: string | null; push?: boolean; pull?: boolean }): void;
  removePeer(url: string): void;
  updatePeer(url: string, patch: Partial<Pick<PeerRow, 'cursor' | 'failures' | 'nextAttemptMs' | 'parked' | 'lastError' | 'hub'>>): void;
  /**
   * A stored record that lost its sealed part (or arrived without it) gets it back from a later
   * copy (spec/node.md §3.1): its text is replaced and it moves to a new, highest ingest order,
   * so feeds and push queues carry it again. Undefined (nothing changed) when the stored text
   * already has a sealed part or no such record is stored. The caller checks the erasures.
   */
  restoreSealed(id: string, json: string, source: string): number | undefined;
  /** Records an erasure of `record`'s sealed part: `byHub` '' for this node's own (operator, retention). */
  addErasure(record: string, byHub: string, request: string, reason: string, now: number): void;
  /** The hubs that asked to erase `record`'s sealed part ('' = this node itself). */
  erasuresOf(record: string): string[];
  /** Removes the sealed part of `id` wherever this node keeps its text (records, held, forks); whether one was there. */
  eraseSealed(id: string): boolean;
  /** Stored need.posted and offer.posted records after `after` that still carry a sealed part (for retention). */
  storedSealed(after: number, limit: number): { ord: number; id: string; record: SignedRecord }[];
  /** After an erasure: gets the old pages out of the write-ahead log. */
  flushDeleted(): void;
  /**
   * Adds a pending intake submission (spec/node.md §8.7) unless the queue of
   * undecided ones (pending and verified) already holds `maxRows` rows or the
   * row would take it past `maxBytes`; says which bound refused it.
   */
  addIntake(row: IntakeRow, maxRows: number, maxBytes: number): 'added' | 'rows' | 'bytes';
  /** One intake submission by its id, or (`by: 'token'`) by its tracking token's hash. */
  intake(key: string, by?: 'id' | 'token'): IntakeRow | undefined;
  /** Intake submissions in the given states (all when empty), newest first, at most `limit`. */
  intakeList(states: readonly IntakeRow['state'][], limit: number): IntakeRow[];
  /** Changes a submission's state and decision columns; `private: null` drops its private fields. */
  updateIntake(id: string, patch: Partial<Pick<IntakeRow, 'state' | 'need' | 'private' | 'verifiedMs' | 'decidedMs' | 'record' | 'reason'>>): void;
  /**
   * Stores several node processes share (PostgreSQL): a lease on `name` for `holder`, taken when
   * free or expired, renewed when `holder` has it, for ttlMs by the database's clock. False while
   * another holder's runs. Absent: one process per store, nothing to share.
   */
  lease?(name: string, holder: string, ttlMs: number): boolean;
  checkpoint(): { ord: number; snapshot: string } | undefined;
  saveCheckpoint(ord: number, snapshot: string): void;
  clearCheckpoint(): void;
  close(): void;
}
