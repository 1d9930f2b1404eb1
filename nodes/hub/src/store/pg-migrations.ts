/**
 * Numbered schema migrations of the PostgreSQL store (spec/node.md §Storage):
 * the same tables as the SQLite store's migrations 1-9, in their final form,
 * plus `leases` (which node process works a peer's push queue). Each runs
 * once, in order, in a transaction under an advisory lock, so two processes
 * starting together migrate once; `shuniu_schema` records the last one
 * applied. Never edit a shipped migration: add the next number.
 */
export const PG_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: '001-init',
    sql: `
CREATE TABLE records (
  ord BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  hub TEXT NOT NULL,
  seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  region TEXT,
  urgency TEXT,
  grp TEXT,
  source TEXT NOT NULL,
  superseded INTEGER NOT NULL DEFAULT 0,
  received_ms BIGINT NOT NULL,
  json TEXT NOT NULL
);
CREATE UNIQUE INDEX records_chain ON records(hub, seq) WHERE superseded = 0;
CREATE TABLE hubs (
  hub TEXT PRIMARY KEY,
  head_seq BIGINT NOT NULL,
  head_id TEXT NOT NULL,
  hlc_ms BIGINT NOT NULL,
  hlc_c BIGINT NOT NULL,
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
  seq BIGINT NOT NULL,
  json TEXT NOT NULL,
  source TEXT NOT NULL,
  received_ms BIGINT NOT NULL,
  sender TEXT NOT NULL DEFAULT '',
  bytes BIGINT NOT NULL DEFAULT 0,
  chain TEXT
);
CREATE INDEX held_chain ON held(hub, seq);
CREATE INDEX held_received ON held(received_ms);
CREATE INDEX held_sender ON held(sender, bytes, received_ms);
CREATE TABLE forks (
  hub TEXT NOT NULL,
  seq BIGINT NOT NULL,
  existing TEXT NOT NULL,
  other TEXT NOT NULL,
  json TEXT NOT NULL,
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (hub, seq, other)
);
CREATE TABLE peers (
  url TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  hub TEXT,
  push INTEGER NOT NULL DEFAULT 1,
  pull INTEGER NOT NULL DEFAULT 1,
  cursor BIGINT NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL DEFAULT 0,
  parked INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  last_pull_ms BIGINT
);
CREATE TABLE blocked (hub TEXT PRIMARY KEY, reason TEXT, since_ms BIGINT NOT NULL);
CREATE TABLE checkpoint (k INTEGER PRIMARY KEY CHECK (k = 1), ord BIGINT NOT NULL, snapshot TEXT NOT NULL);
CREATE TABLE tokens (
  jti TEXT PRIMARY KEY,
  scope TEXT NOT NULL,
  sub TEXT NOT NULL,
  iat BIGINT NOT NULL,
  exp BIGINT NOT NULL,
  revoked_ms BIGINT,
  note TEXT,
  kid TEXT NOT NULL DEFAULT ''
);
CREATE TABLE erasures (
  record TEXT NOT NULL,
  by_hub TEXT NOT NULL,
  request TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  at_ms BIGINT NOT NULL,
  PRIMARY KEY (record, by_hub)
);
CREATE TABLE join_codes (
  id TEXT PRIMARY KEY,
  code_hash TEXT NOT NULL UNIQUE,
  level TEXT,
  region TEXT,
  note TEXT,
  created_ms BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'open',
  request TEXT,
  requested_ms BIGINT,
  decided_ms BIGINT,
  admission TEXT,
  reason TEXT
);
CREATE INDEX join_codes_state ON join_codes(state, expires_ms);
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_ms BIGINT NOT NULL
);
`,
  },
  {
    version: 2,
    name: '002-intake',
    // The public intake form's submissions (SQLite migration 10, spec/node.md §8.7).
    sql: `
CREATE TABLE intake (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL DEFAULT 'pending',
  need TEXT NOT NULL,
  private TEXT,
  bytes BIGINT NOT NULL,
  submitted_ms BIGINT NOT NULL,
  verified_ms BIGINT,
  decided_ms BIGINT,
  record TEXT,
  reason TEXT
);
CREATE INDEX intake_state ON intake(state, bytes);
`,
  },
  {
    version: 3,
    name: '003-offchain',
    // The records stored beside the chains, by ingest order (SQLite migration 11, spec/node.md §9.3).
    sql: `
CREATE INDEX records_offchain ON records(ord) WHERE superseded = 1;
`,
  },
  {
    version: 4,
    name: '004-ord-given',
    // Ords are given by the process that stores the rows, under the write lock (the next after the
    // highest stored), so a batch's rows go in one INSERT. No default: a row stored without its ord
    // (a process of an older version) fails instead of taking a number out of order.
    sql: `
ALTER TABLE records ALTER COLUMN ord DROP DEFAULT;
DROP SEQUENCE IF EXISTS records_ord_seq;
`,
  },
];
