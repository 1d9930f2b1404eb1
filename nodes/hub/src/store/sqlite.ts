import type { ChainView, HubKeys, SignedRecord, Verified } from '@shuniu/protocol';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import type { FeedFilter, FeedRow, HeldFilter, HeldLimits, HeldLink, HeldRow, HoldOutcome, IntakeRow, PeerRow, Store, StoredRecord } from './types.js';

type Row = Record<string, unknown>;

/** Whether a stored record text carries a sealed part (a top-level `sealed` member). */
export function hasSealed(json: string): boolean {
  if (!json.includes('"sealed":')) return false;
  return (JSON.parse(json) as { sealed?: unknown }).sealed !== undefined;
}

/** The stored record text without its sealed part (sealedHash kept: the record still verifies). */
export function withoutSealed(json: string): string {
  if (!json.includes('"sealed":')) return json;
  const r = JSON.parse(json) as { sealed?: unknown };
  if (r.sealed === undefined) return json;
  delete r.sealed;
  return JSON.stringify(r);
}

/**
 * The INSERT parameters of a record, in the order of the statements' columns (id, hub, seq, type,
 * region, urgency, grp, source, received_ms, json): bound by position, ~1 µs a record cheaper than
 * binding an object's members by name.
 */
/** A record's row: id, hub, seq, type, the feed's filter columns, source, received, text (the PostgreSQL store adds its ord and superseded around it). */
export function recordRow(v: Verified, meta: { source: string; now: number; json?: string }): unknown[] {
  const r = v.record;
  // Columns the feed filters on, pulled out of the body at insert time.
  const b = r.body as Record<string, unknown>;
  const region = typeof b.region === 'string' ? b.region : null;
  const urgency = typeof b.urgency === 'string' ? b.urgency : null;
  const ben = b.beneficiaries as { group?: unknown } | undefined;
  const grp = ben && typeof ben.group === 'string' ? ben.group : null;
  return [v.id, r.hub, r.seq, r.type, region, urgency, grp, meta.source, meta.now, meta.json ?? JSON.stringify(r)];
}

/**
 * The SQLite store (better-sqlite3, WAL). synchronous=FULL: WAL with NORMAL
 * may lose the last transactions on power loss, and we acknowledge records
 * as stored, so every COMMIT is fsynced (spec/node.md §Durability).
 */
export class SqliteStore implements Store {
  readonly db: Database.Database;
  private readonly st: Record<string, Database.Statement>;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // Erased sealed parts (and every other deleted content) are overwritten with zeros, not left in free space (spec/node.md §8.6).
    this.db.pragma('secure_delete = ON');
    this.migrate();
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      hub: p('SELECT * FROM hubs WHERE hub = ?'),
      idAt: p('SELECT id FROM records WHERE hub = ? AND seq = ? AND superseded = 0'),
      keysBefore: p(
        "SELECT json FROM records WHERE hub = ? AND seq < ? AND superseded = 0 AND type IN ('hub.inception', 'hub.keys.rotated') ORDER BY seq DESC LIMIT 1",
      ),
      has: p('SELECT 1 FROM records WHERE id = ?'),
      keyRecords: p("SELECT json FROM records WHERE hub = ? AND type IN ('hub.inception', 'hub.keys.rotated')"),
      insert: p('INSERT INTO records (id, hub, seq, type, region, urgency, grp, source, received_ms, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      insertOffChain: p(
        'INSERT INTO records (id, hub, seq, type, region, urgency, grp, source, received_ms, json, superseded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)',
      ),
      hasFork: p('SELECT 1 FROM forks WHERE hub = ? LIMIT 1'),
      supersede: p('UPDATE records SET superseded = 1 WHERE hub = ? AND seq >= ? AND superseded = 0'),
      upsertHub: p(
        `INSERT INTO hubs (hub, head_seq, head_id, hlc_ms, hlc_c, signing_key, encryption_key, recovery_commitment) VALUES (@hub, @seq, @id, @ms, @c, @sk, @ek, @rc)
         ON CONFLICT(hub) DO UPDATE SET head_seq = @seq, head_id = @id, hlc_ms = @ms, hlc_c = @c, signing_key = @sk, encryption_key = @ek, recovery_commitment = @rc`,
      ),
      profile: p('UPDATE hubs SET profile = ? WHERE hub = ?'),
      byId: p('SELECT ord, id, hub, seq, type, json FROM records WHERE id = ?'),
      log: p('SELECT ord, id, hub, seq, type, json FROM records WHERE hub = ? AND seq > ? AND superseded = 0 ORDER BY seq LIMIT ?'),
      logPage: p(
        "SELECT COUNT(*) AS n, MAX(seq) AS last, CAST(group_concat(json, ',' ORDER BY seq) AS BLOB) AS joined FROM (SELECT seq, json FROM records WHERE hub = ? AND seq > ? AND superseded = 0 ORDER BY seq LIMIT ?)",
      ),
      since: p('SELECT ord, id, hub, seq, type, source, json FROM records WHERE ord > ? ORDER BY ord LIMIT ?'),
      offChain: p('SELECT ord, id, hub, seq, type, json FROM records WHERE superseded = 1 AND ord > ? ORDER BY ord LIMIT ?'),
      offChainSummary: p('SELECT COUNT(*) AS count, COALESCE(MAX(ord), 0) AS last FROM records WHERE superseded = 1'),
      outbound: p('SELECT ord, id, hub, seq, type, json FROM records WHERE ord > ? AND source NOT IN (SELECT value FROM json_each(?)) ORDER BY ord LIMIT ?'),
      maxOrd: p('SELECT COALESCE(MAX(ord), 0) AS m FROM records'),
      heads: p('SELECT hub, head_seq FROM hubs'),
      hubs: p('SELECT * FROM hubs ORDER BY hub'),
      // A copy held without its sealed part takes it from a later copy that has one (spec/node.md §3.1).
      hold: p(
        // One write of the row with its bytes and chain link (an UPDATE after it would rewrite the whole text again).
        `INSERT INTO held (id, hub, seq, json, source, sender, received_ms, bytes, chain) VALUES (@id, @hub, @seq, @json, @source, @sender, @now, @bytes, @chain)
         ON CONFLICT(id) DO UPDATE SET
           json = CASE WHEN instr(held.json, '"sealed":') = 0 AND instr(excluded.json, '"sealed":') > 0 THEN excluded.json ELSE held.json END,
           bytes = CASE WHEN instr(held.json, '"sealed":') = 0 AND instr(excluded.json, '"sealed":') > 0 THEN excluded.bytes ELSE held.bytes END,
           chain = COALESCE(held.chain, excluded.chain)`,
      ),
      heldCountBy: p('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM held WHERE sender = ?'),
      heldTotals: p('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM held'),
      // Bytes of the text as stored (the insert may have kept an earlier copy); a chain link is never taken away.
      heldLink: p('SELECT id, hub, seq, chain FROM held WHERE id = ? AND chain IS NOT NULL'),
      hasHeld: p('SELECT 1 FROM held WHERE id = ?'),
      heldSummary: p(
        'SELECT sender, COUNT(*) AS records, COALESCE(SUM(bytes), 0) AS bytes, MIN(received_ms) AS oldestMs FROM held GROUP BY sender ORDER BY bytes DESC',
      ),
      heldFor: p('SELECT id, hub, seq, json, source FROM held WHERE hub = ? AND seq = ?'),
      dropHeld: p('DELETE FROM held WHERE id = ?'),
      dropHeldOf: p('DELETE FROM held WHERE hub = ?'),
      expireHeld: p('DELETE FROM held WHERE received_ms < ?'),
      heldCount: p('SELECT COUNT(*) AS n FROM held'),
      heldHubs: p('SELECT hub, MIN(seq) AS seq FROM held GROUP BY hub'),
      addFork: p('INSERT OR IGNORE INTO forks (hub, seq, existing, other, json, received_ms) VALUES (?, ?, ?, ?, ?, ?)'),
      forks: p('SELECT hub, seq, existing, other FROM forks ORDER BY hub, seq'),
      isBlocked: p('SELECT 1 FROM blocked WHERE hub = ?'),
      block: p('INSERT OR REPLACE INTO blocked (hub, reason, since_ms) VALUES (?, ?, ?)'),
      unblock: p('DELETE FROM blocked WHERE hub = ?'),
      blocked: p('SELECT hub, reason FROM blocked ORDER BY hub'),
      peers: p('SELECT * FROM peers ORDER BY url'),
      upsertPeer: p(
        `INSERT INTO peers (url, role, hub, push, pull) VALUES (@url, @role, @hub, @push, @pull)
         ON CONFLICT(url) DO UPDATE SET role = @role, hub = COALESCE(@hub, hub), push = @push, pull = @pull, parked = 0, failures = 0, next_attempt_ms = 0`,
      ),
      removePeer: p('DELETE FROM peers WHERE url = ?'),
      restoreSealed: p('UPDATE records SET ord = (SELECT MAX(ord) FROM records) + 1, json = ?, source = ? WHERE id = ?'),
      bumpSequence: p("UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT MAX(ord) FROM records)) WHERE name = 'records'"),
      addErasure: p('INSERT OR IGNORE INTO erasures (record, by_hub, request, reason, at_ms) VALUES (?, ?, ?, ?, ?)'),
      erasuresOf: p('SELECT by_hub FROM erasures WHERE record = ?'),
      jsonOf: p('SELECT json FROM records WHERE id = ?'),
      setJson: p('UPDATE records SET json = ? WHERE id = ?'),
      heldJson: p('SELECT json FROM held WHERE id = ?'),
      setHeldJson: p('UPDATE held SET json = ? WHERE id = ?'),
      forkJson: p('SELECT hub, seq, other, json FROM forks WHERE other = ?'),
      setForkJson: p('UPDATE forks SET json = ? WHERE hub = ? AND seq = ? AND other = ?'),
      sealedSince: p("SELECT ord, id, json FROM records WHERE ord > ? AND type IN ('need.posted', 'offer.posted') ORDER BY ord LIMIT ?"),
      checkpoint: p('SELECT ord, snapshot FROM checkpoint WHERE k = 1'),
      saveCheckpoint: p('INSERT OR REPLACE INTO checkpoint (k, ord, snapshot) VALUES (1, ?, ?)'),
    };
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.pragma(`user_version = ${m.version}`);
      })();
    }
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  transaction<T>(fn: () => T): T {
    // A nested transaction (a savepoint) starts with every earlier head written, so that rolling
    // it back drops only its own; outside a transaction nothing is pending.
    this.flushHubs();
    try {
      return this.db
        .transaction(() => {
          const out = fn();
          this.flushHubs();
          return out;
        })
        .immediate();
    } catch (e) {
      this.pendingHubs.clear();
      throw e;
    }
  }

  /**
   * Chain heads appended inside the open transaction and not yet written to
   * `hubs`: a batch of one hub's records writes its row once, at the end of
   * the transaction (or before anything reads the table), not once a record.
   */
  private readonly pendingHubs = new Map<string, Record<string, unknown>>();

  private flushHubs(): void {
    if (this.pendingHubs.size === 0) return;
    for (const row of this.pendingHubs.values()) this.st.upsertHub!.run(row);
    this.pendingHubs.clear();
  }

  chainView(hub: string): ChainView | undefined {
    this.flushHubs();
    const h = this.st.hub!.get(hub) as Row | undefined;
    if (!h) return undefined;
    const idAt = this.st.idAt!;
    return {
      keys: { signingKey: h.signing_key as string, encryptionKey: h.encryption_key as string, recoveryCommitment: h.recovery_commitment as string },
      head: { seq: h.head_seq as number, id: h.head_id as string, hlc: { ms: h.hlc_ms as number, c: h.hlc_c as number } },
      idAt: (seq) => (idAt.get(hub, seq) as { id: string } | undefined)?.id,
      keysAt: (seq) => {
        const row = this.st.keysBefore!.get(hub, seq) as { json: string } | undefined;
        if (!row) return undefined;
        const b = (JSON.parse(row.json) as SignedRecord).body as HubKeys;
        return { signingKey: b.signingKey, encryptionKey: b.encryptionKey, recoveryCommitment: b.recoveryCommitment };
      },
    };
  }

  signingKeysOf(hub: string): string[] {
    const out = new Set<string>();
    for (const row of this.st.keyRecords!.all(hub) as { json: string }[]) out.add(((JSON.parse(row.json) as SignedRecord).body as HubKeys).signingKey);
    return [...out];
  }

  hasRecord(id: string): boolean {
    return this.st.has!.get(id) !== undefined;
  }

  appendRecord(v: Verified, keys: HubKeys, meta: { source: string; recovery: boolean; now: number; json?: string }): number {
    const r = v.record;
    if (meta.recovery) this.st.supersede!.run(r.hub, r.seq);
    const info = this.st.insert!.run(...recordRow(v, meta));
    const head = { hub: r.hub, seq: r.seq, id: v.id, ms: r.hlc.ms, c: r.hlc.c, sk: keys.signingKey, ek: keys.encryptionKey, rc: keys.recoveryCommitment };
    if (this.db.inTransaction) this.pendingHubs.set(r.hub, head);
    else this.st.upsertHub!.run(head);
    if (r.type === 'hub.profile') {
      this.flushHubs();
      this.st.profile!.run(JSON.stringify(r.body), r.hub);
    }
    return Number(info.lastInsertRowid);
  }

  appendOffChain(v: Verified, meta: { source: string; now: number }): number {
    return Number(this.st.insertOffChain!.run(...recordRow(v, meta)).lastInsertRowid);
  }

  hasFork(hub: string): boolean {
    return this.st.hasFork!.get(hub) !== undefined;
  }

  recordById(id: string): StoredRecord | undefined {
    return this.st.byId!.get(id) as StoredRecord | undefined;
  }

  log(hub: string, after: number, limit: number): StoredRecord[] {
    return this.st.log!.all(hub, after, limit) as StoredRecord[];
  }

  logPage(hub: string, after: number, limit: number): { count: number; lastSeq: number | null; joined: Uint8Array } {
    const r = this.st.logPage!.get(hub, after, limit) as { n: number; last: number | null; joined: Buffer | null };
    return { count: r.n, lastSeq: r.last, joined: r.joined ?? new Uint8Array(0) };
  }

  feedPage(after: number, limit: number, f: FeedFilter, scan: number): { rows: FeedRow[]; through: number } {
    // Bounded by ord (the rowid, or records_type's second column): never more than `scan` rows looked at.
    const top = Math.min(after + scan, this.maxOrd());
    if (top <= after) return { rows: [], through: after };
    const where = ['ord > ?', 'ord <= ?'];
    const args: unknown[] = [after, top];
    if (f.region) {
      where.push('region LIKE ?');
      args.push(`${f.region}%`);
    }
    for (const [col, vals] of [
      ['type', f.types],
      ['urgency', f.urgency],
      ['grp', f.group],
    ] as const) {
      if (vals && vals.length > 0) {
        where.push(`${col} IN (${vals.map(() => '?').join(',')})`);
        args.push(...vals);
      }
    }
    args.push(limit);
    const rows = this.db
      .prepare(`SELECT ord, id, hub, seq, type, region, urgency, grp, json FROM records WHERE ${where.join(' AND ')} ORDER BY ord LIMIT ?`)
      .all(...args) as FeedRow[];
    return { rows, through: rows.length === limit ? (rows[rows.length - 1] as FeedRow).ord : top };
  }

  since(ord: number, limit: number): StoredRecord[] {
    return this.st.since!.all(ord, limit) as StoredRecord[];
  }

  outbound(ord: number, skip: string | readonly string[], limit: number): { rows: StoredRecord[]; through: number } {
    const rows = this.st.outbound!.all(ord, JSON.stringify(typeof skip === 'string' ? [skip] : skip), limit) as StoredRecord[];
    // Fewer than `limit`: every record up to the newest was looked at.
    const through = rows.length === limit ? (rows[rows.length - 1] as StoredRecord).ord : Math.max(ord, this.maxOrd());
    return { rows, through };
  }

  offChain(ord: number, limit: number): StoredRecord[] {
    return this.st.offChain!.all(ord, limit) as StoredRecord[];
  }

  offChainSummary(): { count: number; last: number } {
    return this.st.offChainSummary!.get() as { count: number; last: number };
  }

  maxOrd(): number {
    return (this.st.maxOrd!.get() as { m: number }).m;
  }

  heads(): Record<string, number> {
    this.flushHubs();
    const out: Record<string, number> = {};
    for (const r of this.st.heads!.all() as { hub: string; head_seq: number }[]) out[r.hub] = r.head_seq;
    return out;
  }

  hubProfiles(): { hub: string; headSeq: number; keys: HubKeys; profile: unknown }[] {
    this.flushHubs();
    return (this.st.hubs!.all() as Row[]).map((h) => ({
      hub: h.hub as string,
      headSeq: h.head_seq as number,
      keys: { signingKey: h.signing_key as string, encryptionKey: h.encryption_key as string, recoveryCommitment: h.recovery_commitment as string },
      profile: h.profile ? JSON.parse(h.profile as string) : null,
    }));
  }

  hold(row: HeldRow & { sender: string; link?: Omit<HeldLink, 'id' | 'hub' | 'seq'> }, now: number, limits: HeldLimits): HoldOutcome {
    const bytes = Buffer.byteLength(row.json);
    let room = this.heldRoom(row.sender, bytes, limits);
    // Out of room: records held longer than the TTL give way (an index on received_ms keeps this cheap when none do).
    if (room !== 'held' && limits.ttlMs > 0 && this.st.expireHeld!.run(now - limits.ttlMs).changes > 0) room = this.heldRoom(row.sender, bytes, limits);
    if (room === 'held') {
      const { link, ...rest } = row;
      this.st.hold!.run({ ...rest, now, bytes, chain: link ? JSON.stringify({ ...link.keys, ms: link.hlc.ms, c: link.hlc.c }) : null });
    }
    return room;
  }

  private heldRoom(sender: string, bytes: number, limits: HeldLimits): HoldOutcome {
    const mine = this.st.heldCountBy!.get(sender) as { n: number; b: number };
    if (mine.n >= limits.perSender) return 'sender';
    if (mine.b + bytes > limits.perSenderBytes) return 'senderBytes';
    const all = this.st.heldTotals!.get() as { n: number; b: number };
    if (all.n >= limits.max) return 'full';
    if (all.b + bytes > limits.maxBytes) return 'fullBytes';
    return 'held';
  }

  heldLink(id: string): HeldLink | undefined {
    const r = this.st.heldLink!.get(id) as { id: string; hub: string; seq: number; chain: string } | undefined;
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
    return this.st.hasHeld!.get(id) !== undefined;
  }

  heldSummary(): { sender: string; records: number; bytes: number; oldestMs: number }[] {
    return this.st.heldSummary!.all() as { sender: string; records: number; bytes: number; oldestMs: number }[];
  }

  purgeHeld(f: HeldFilter): { records: number; bytes: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.hub !== undefined) {
      where.push('hub = ?');
      args.push(f.hub);
    }
    if (f.sender !== undefined) {
      where.push('sender = ?');
      args.push(f.sender);
    }
    if (f.before !== undefined) {
      where.push('received_ms < ?');
      args.push(f.before);
    }
    const cond = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    return this.transaction(() => {
      const t = this.db.prepare(`SELECT COUNT(*) AS records, COALESCE(SUM(bytes), 0) AS bytes FROM held${cond}`).get(...args) as {
        records: number;
        bytes: number;
      };
      this.db.prepare(`DELETE FROM held${cond}`).run(...args);
      return t;
    });
  }

  heldFor(hub: string, seq: number): HeldRow[] {
    return this.st.heldFor!.all(hub, seq) as HeldRow[];
  }

  dropHeld(id: string): void {
    this.st.dropHeld!.run(id);
  }

  dropHeldOf(hub: string): number {
    return this.st.dropHeldOf!.run(hub).changes;
  }

  heldCount(): number {
    return (this.st.heldCount!.get() as { n: number }).n;
  }

  heldHubs(): { hub: string; seq: number }[] {
    return this.st.heldHubs!.all() as { hub: string; seq: number }[];
  }

  addFork(hub: string, seq: number, existing: string, other: Verified, now: number): void {
    this.st.addFork!.run(hub, seq, existing, other.id, JSON.stringify(other.record), now);
  }

  forks(): { hub: string; seq: number; existing: string; other: string }[] {
    return this.st.forks!.all() as { hub: string; seq: number; existing: string; other: string }[];
  }

  isBlocked(hub: string): boolean {
    return this.st.isBlocked!.get(hub) !== undefined;
  }

  block(hub: string, reason: string, now: number): void {
    this.st.block!.run(hub, reason, now);
  }

  unblock(hub: string): void {
    this.st.unblock!.run(hub);
  }

  blocked(): { hub: string; reason: string | null }[] {
    return this.st.blocked!.all() as { hub: string; reason: string | null }[];
  }

  peers(): PeerRow[] {
    return (this.st.peers!.all() as Row[]).map((r) => ({
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
    this.st.upsertPeer!.run({ url: p.url, role: p.role, hub: p.hub ?? null, push: p.push === false ? 0 : 1, pull: p.pull === false ? 0 : 1 });
  }

  removePeer(url: string): void {
    this.st.removePeer!.run(url);
  }

  updatePeer(url: string, patch: Partial<Pick<PeerRow, 'cursor' | 'failures' | 'nextAttemptMs' | 'parked' | 'lastError' | 'hub'>>): void {
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = PEER_COLUMNS[k];
      if (!col || v === undefined) continue;
      sets.push(`${col} = ?`);
      args.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    }
    if (sets.length === 0) return;
    // Called after every push to a peer: one prepared statement per shape of update, not one per call.
    const sql = `UPDATE peers SET ${sets.join(', ')} WHERE url = ?`;
    let stmt = this.peerUpdates.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.peerUpdates.set(sql, stmt);
    }
    // Soft state (spec/node.md §10.3): committed without waiting for an fsync of its own — a commit
    // blocks the event loop for as long as the disk takes, and this one runs after every push and pull.
    // Inside a transaction it commits with it (SQLite does not change the level there).
    if (this.db.inTransaction) {
      stmt.run(...args, url);
      return;
    }
    this.db.pragma('synchronous = NORMAL');
    try {
      stmt.run(...args, url);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  private readonly peerUpdates = new Map<string, Database.Statement>();

  restoreSealed(id: string, json: string, source: string): number | undefined {
    const row = this.st.jsonOf!.get(id) as { json: string } | undefined;
    if (!row || hasSealed(row.json)) return undefined;
    this.st.restoreSealed!.run(json, source, id);
    this.st.bumpSequence!.run();
    return this.maxOrd();
  }

  addErasure(record: string, byHub: string, request: string, reason: string, now: number): void {
    this.st.addErasure!.run(record, byHub, request, reason, now);
  }

  erasuresOf(record: string): string[] {
    return (this.st.erasuresOf!.all(record) as { by_hub: string }[]).map((r) => r.by_hub);
  }

  eraseSealed(id: string): boolean {
    let erased = false;
    const row = this.st.jsonOf!.get(id) as { json: string } | undefined;
    if (row && hasSealed(row.json)) {
      this.st.setJson!.run(withoutSealed(row.json), id);
      erased = true;
    }
    const held = this.st.heldJson!.get(id) as { json: string } | undefined;
    if (held && hasSealed(held.json)) {
      this.st.setHeldJson!.run(withoutSealed(held.json), id);
      erased = true;
    }
    for (const f of this.st.forkJson!.all(id) as { hub: string; seq: number; other: string; json: string }[]) {
      if (!hasSealed(f.json)) continue;
      this.st.setForkJson!.run(withoutSealed(f.json), f.hub, f.seq, f.other);
      erased = true;
    }
    return erased;
  }

  storedSealed(after: number, limit: number): { ord: number; id: string; record: SignedRecord }[] {
    const out: { ord: number; id: string; record: SignedRecord }[] = [];
    for (const r of this.st.sealedSince!.all(after, limit) as { ord: number; id: string; json: string }[]) {
      if (hasSealed(r.json)) out.push({ ord: r.ord, id: r.id, record: JSON.parse(r.json) as SignedRecord });
    }
    return out;
  }

  flushDeleted(tries = 20): void {
    // The WAL still holds the pages as they were before the erasure: copied back and truncated to zero bytes.
    // A reader on an older snapshot (the checkpoint worker) makes it busy: tried again shortly, off the request path.
    if (!this.db.open) return;
    const r = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (r[0]?.busy && tries > 0) setTimeout(() => this.flushDeleted(tries - 1), 250).unref();
  }

  /** The intake table's statements (spec/node.md §8.7), prepared on first use. */
  private intakeSt: Record<'totals' | 'insert' | 'byId' | 'byToken', Database.Statement> | undefined;
  private intakeStatements() {
    const p = (sql: string) => this.db.prepare(sql);
    this.intakeSt ??= {
      totals: p("SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM intake WHERE state IN ('pending', 'verified')"),
      insert: p(
        `INSERT INTO intake (id, token_hash, state, need, private, bytes, submitted_ms, verified_ms, decided_ms, record, reason)
         VALUES (@id, @tokenHash, @state, @need, @private, @bytes, @submittedMs, @verifiedMs, @decidedMs, @record, @reason)`,
      ),
      byId: p('SELECT * FROM intake WHERE id = ?'),
      byToken: p('SELECT * FROM intake WHERE token_hash = ?'),
    };
    return this.intakeSt;
  }

  addIntake(row: IntakeRow, maxRows: number, maxBytes: number): 'added' | 'rows' | 'bytes' {
    const st = this.intakeStatements();
    return this.db.transaction((): 'added' | 'rows' | 'bytes' => {
      const t = st.totals.get() as { n: number; b: number };
      if (t.n >= maxRows) return 'rows';
      if (t.b + row.bytes > maxBytes) return 'bytes';
      st.insert.run(row);
      return 'added';
    })();
  }

  intake(key: string, by: 'id' | 'token' = 'id'): IntakeRow | undefined {
    const st = this.intakeStatements();
    const r = (by === 'id' ? st.byId : st.byToken).get(key) as Row | undefined;
    return r ? intakeRowOf(r) : undefined;
  }

  intakeList(states: readonly IntakeRow['state'][], limit: number): IntakeRow[] {
    const rows = (
      states.length === 0
        ? this.db.prepare('SELECT * FROM intake ORDER BY submitted_ms DESC, id LIMIT ?').all(limit)
        : this.db
            .prepare('SELECT * FROM intake WHERE state IN (SELECT value FROM json_each(?)) ORDER BY submitted_ms DESC, id LIMIT ?')
            .all(JSON.stringify(states), limit)
    ) as Row[];
    return rows.map(intakeRowOf);
  }

  updateIntake(id: string, patch: Partial<Pick<IntakeRow, 'state' | 'need' | 'private' | 'verifiedMs' | 'decidedMs' | 'record' | 'reason'>>): void {
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = INTAKE_COLUMNS[k];
      if (!col || v === undefined) continue;
      sets.push(`${col} = ?`);
      args.push(v);
    }
    // A row without private fields counts only its public draft against the queue's bytes.
    if (patch.private === null) sets.push('bytes = length(CAST(need AS BLOB))');
    if (sets.length > 0) this.db.prepare(`UPDATE intake SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
  }

  checkpoint(): { ord: number; snapshot: string } | undefined {
    return this.st.checkpoint!.get() as { ord: number; snapshot: string } | undefined;
  }

  saveCheckpoint(ord: number, snapshot: string): void {
    this.st.saveCheckpoint!.run(ord, snapshot);
  }

  clearCheckpoint(): void {
    this.db.prepare('DELETE FROM checkpoint').run();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** The peer columns an update may set, by PeerRow member (one map for both stores). */
export const PEER_COLUMNS: Readonly<Record<string, string>> = {
  cursor: 'cursor',
  failures: 'failures',
  nextAttemptMs: 'next_attempt_ms',
  parked: 'parked',
  lastError: 'last_error',
  hub: 'hub',
};

/** The intake columns an update may set, by IntakeRow member (one map for both stores). */
export const INTAKE_COLUMNS: Readonly<Record<string, string>> = {
  state: 'state',
  need: 'need',
  private: 'private',
  verifiedMs: 'verified_ms',
  decidedMs: 'decided_ms',
  record: 'record',
  reason: 'reason',
};

/** An intake row as stored (either store) to the Store interface's shape. */
export function intakeRowOf(r: Record<string, unknown>): IntakeRow {
  return {
    id: r.id as string,
    tokenHash: r.token_hash as string,
    state: r.state as IntakeRow['state'],
    need: r.need as string,
    private: (r.private as string | null) ?? null,
    bytes: r.bytes as number,
    submittedMs: r.submitted_ms as number,
    verifiedMs: (r.verified_ms as number | null) ?? null,
    decidedMs: (r.decided_ms as number | null) ?? null,
    record: (r.record as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
  };
}
