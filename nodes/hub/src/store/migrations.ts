/**
 * Numbered schema migrations (spec/node.md §Storage). Each runs once, in
 * order, inside a transaction; `PRAGMA user_version` records the last one
 * applied. Never edit a shipped migration: add the next number.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: '001-init',
    sql: `
CREATE TABLE records (
  ord INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  hub TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  region TEXT,
  urgency TEXT,
  grp TEXT,
  source TEXT NOT NULL,
  superseded INTEGER NOT NULL DEFAULT 0,
  received_ms INTEGER NOT NULL,
  json TEXT NOT NULL
);
CREATE UNIQUE INDEX records_chain ON records(hub, seq) WHERE superseded = 0;
CREATE INDEX records_type ON records(type, ord);
CREATE TABLE hubs (
  hub TEXT PRIMARY KEY,
  head_seq INTEGER NOT NULL,
  head_id TEXT NOT NULL,
  hlc_ms INTEGER NOT NULL,
  hlc_c INTEGER NOT NULL,
  signing_key TEXT NOT NULL,
  encryption_key TEXT NOT NULL,
  recovery_commitment TEXT NOT NULL,
  profile TEXT
);
CREATE TABLE admissions (
  child TEXT NOT NULL,
  by_hub TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (child, record)
);
CREATE TABLE held (
  id TEXT PRIMARY KEY,
  hub TEXT NOT NULL,
  seq INTEGER NOT NULL,
  json TEXT NOT NULL,
  source TEXT NOT NULL,
  received_ms INTEGER NOT NULL
);
CREATE INDEX held_chain ON held(hub, seq);
CREATE TABLE forks (
  hub TEXT NOT NULL,
  seq INTEGER NOT NULL,
  existing TEXT NOT NULL,
  other TEXT NOT NULL,
  json TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (hub, seq, other)
);
CREATE TABLE peers (
  url TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  hub TEXT,
  push INTEGER NOT NULL DEFAULT 1,
  pull INTEGER NOT NULL DEFAULT 1,
  cursor INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  parked INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  last_pull_ms INTEGER
);
CREATE TABLE blocked (hub TEXT PRIMARY KEY, reason TEXT, since_ms INTEGER NOT NULL);
CREATE TABLE checkpoint (k INTEGER PRIMARY KEY CHECK (k = 1), ord INTEGER NOT NULL, snapshot TEXT NOT NULL);
`,
  },
  {
    version: 2,
    name: '002-held-sender',
    // Who sent each held record (the remote address of a push, the peer URL
    // of a pull), for the per-sender share of the holding area
    // (spec/node.md §3.1). Rows held before this migration count for nobody.
    sql: `
ALTER TABLE held ADD COLUMN sender TEXT NOT NULL DEFAULT '';
CREATE INDEX held_sender ON held(sender);
`,
  },
  {
    version: 3,
    name: '003-drop-records-type',
    // Every record paid for this index on insert, and no query needs it: the
    // feed walks `ord` from a cursor and filters the type on the way, which
    // is how live subscribers read it (spec/node.md §10.1).
    sql: `
DROP INDEX IF EXISTS records_type;
`,
  },
  {
    version: 4,
    name: '004-held-received',
    // Held records older than limits.heldTtlMs give way when the holding area
    // or a sender's share is full (spec/node.md §3.1): found by this index.
    sql: `
CREATE INDEX held_received ON held(received_ms);
`,
  },
  {
    version: 5,
    name: '005-tokens',
    // Every bearer token issued (spec/node.md §8): a token verifies only while
    // its row exists and revoked_ms is NULL. The token's text is never stored.
    sql: `
CREATE TABLE tokens (
  jti TEXT PRIMARY KEY,
  scope TEXT NOT NULL,
  sub TEXT NOT NULL,
  iat INTEGER NOT NULL,
  exp INTEGER NOT NULL,
  revoked_ms INTEGER,
  note TEXT,
  kid TEXT NOT NULL DEFAULT ''
);
`,
  },
  {
    version: 6,
    name: '006-erasures',
    // Erasures of sealed parts (spec/node.md §8.6). by_hub '' = this node's operator or its
    // retention job (always in force); otherwise the author of a sealed.erased record (`request`),
    // in force when that hub is the target's author or one of its sealed part's recipients
    // (checked when the target, with its sealed part, is here). A target erased here never
    // gets its sealed part back, whenever a copy with one arrives.
    sql: `
CREATE TABLE erasures (
  record TEXT NOT NULL,
  by_hub TEXT NOT NULL,
  request TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (record, by_hub)
);
`,
  },
  {
    version: 7,
    name: '007-held-bytes',
    // The holding area is bounded in bytes as well as records (spec/node.md §3.1): each row's
    // stored text in UTF-8 bytes, summed per sender from the (sender, bytes) index alone.
    // `chain`: what a record verified along its hub's held chain leaves in force (keys and hlc,
    // JSON), so a stranger's next record is checked against it; NULL for a record held
    // unverified. Held inceptions were all verified (an inception never waits for a
    // predecessor), so theirs is filled in here.
    sql: `
ALTER TABLE held ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE held ADD COLUMN chain TEXT;
UPDATE held SET bytes = length(CAST(json AS BLOB));
UPDATE held SET chain = json_object(
  'signingKey', json_extract(json, '$.body.signingKey'),
  'encryptionKey', json_extract(json, '$.body.encryptionKey'),
  'recoveryCommitment', json_extract(json, '$.body.recoveryCommitment'),
  'ms', json_extract(json, '$.hlc.ms'),
  'c', json_extract(json, '$.hlc.c'))
WHERE seq = 0 AND json_extract(json, '$.type') = 'hub.inception';
DROP INDEX IF EXISTS held_sender;
CREATE INDEX held_sender ON held(sender, bytes);
`,
  },
  {
    version: 8,
    name: '008-join-codes',
    // Join codes and the admission requests they carry (spec/node.md §7.1): one row per code,
    // single-use. The code's text is never stored, only its SHA-256 (code_hash). request_*
    // columns are filled when a child's signed request arrives with the code; state is
    // open | pending | admitted | refused | cancelled.
    sql: `
CREATE TABLE join_codes (
  id TEXT PRIMARY KEY,
  code_hash TEXT NOT NULL UNIQUE,
  level TEXT,
  region TEXT,
  note TEXT,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'open',
  request TEXT,
  requested_ms INTEGER,
  decided_ms INTEGER,
  admission TEXT,
  reason TEXT
);
CREATE INDEX join_codes_state ON join_codes(state, expires_ms);
`,
  },
  {
    version: 9,
    name: '009-held-sender-received',
    // The operator's view of the holding area (GET /v1/held: records, bytes and oldest per
    // sender) read from the index alone: a row's received_ms lies after its text, which a table
    // read would walk through (hundreds of KB of overflow pages per held record).
    sql: `
DROP INDEX IF EXISTS held_sender;
CREATE INDEX held_sender ON held(sender, bytes, received_ms);
`,
  },
  {
    version: 10,
    name: '010-intake',
    // Needs submitted through the public intake form by groups that run no node (spec/node.md §8.7):
    // one row per submission. `need` is the draft body (public once published), `private` the
    // contact and address (JSON), set to NULL once the submission is published (then sealed in the
    // signed need) or rejected. The tracking token's text is never stored, only its SHA-256
    // (token_hash). state is pending | verified | published | rejected; `bytes` (of need and
    // private) bounds the pending queue, found by the (state, bytes) index alone.
    sql: `
CREATE TABLE intake (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL DEFAULT 'pending',
  need TEXT NOT NULL,
  private TEXT,
  bytes INTEGER NOT NULL,
  submitted_ms INTEGER NOT NULL,
  verified_ms INTEGER,
  decided_ms INTEGER,
  record TEXT,
  reason TEXT
);
CREATE INDEX intake_state ON intake(state, bytes);
`,
  },
  {
    version: 11,
    name: '011-offchain',
    // The records stored beside the chains (superseded = 1), which a pull fetches by ingest
    // order (GET /v1/offchain, spec/node.md §9.3), and their count in GET /v1/heads, from this
    // partial index alone: they are few (forks and recoveries), the records many.
    sql: `
CREATE INDEX records_offchain ON records(ord) WHERE superseded = 1;
`,
  },
  {
    version: 12,
    name: '012-finished',
    // The resolver's finished objects out of memory (config letGoFinished, spec/node.md §10.4;
    // spec/resolution.md §11): one row per node that left memory, its encoding (node), and for an
    // object of the state its map, view (JCS) and leaf digest. Emptied at each start, which replays.
    sql: `
CREATE TABLE finished (
  id TEXT PRIMARY KEY,
  map TEXT,
  view TEXT,
  leaf TEXT,
  node TEXT NOT NULL
);
`,
  },
];
