import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HubLevel, ShuniuError } from '@shuniu/protocol';

/** Everything a node reads at start (spec/node.md §Configuration). */
export interface NodeConfig {
  name: string;
  level: HubLevel;
  region: string;
  host: string;
  port: number;
  /** URL peers reach this node at; defaults to http://host:port. */
  publicUrl?: string;
  /**
   * Where records are kept (spec/node.md §Storage): "sqlite" (the default, DATA/hub.db) or a
   * PostgreSQL URL (postgres://user@host:port/db), which several node processes may share.
   */
  store?: string;
  /** Hub ids whose admissions this node trusts. */
  roots: string[];
  /** Whether feed and state reads need a subscriber token. */
  publicRead: boolean;
  limits: {
    bodyBytes: number;
    /** Bytes of request bodies over 64 KiB handled at once; a large one past it is answered 503 E_BUSY before it is read (spec/node.md §7 Limits); default 16 MiB, 0 = off. */
    bodyBytesInFlight?: number;
    batchRecords: number;
    ratePerSecond: number;
    rateBurst: number;
    /** Bytes a second (and burst) of pushed records the node does not store (held, blocked, rejected), per client and for all clients (spec/node.md §7 Limits; 0 = off). */
    unstoredBytesPerSecond?: number;
    unstoredBytesBurst?: number;
    unstoredBytesTotalPerSecond?: number;
    unstoredBytesTotalBurst?: number;
    maxHeld: number;
    /** Records one sender (a push's remote address, a pull's peer URL) may hold; default maxHeld / 10. */
    maxHeldPerSource?: number;
    /** Bytes of stored text the whole holding area may hold (spec/node.md §3.1); default 256 MiB. */
    maxHeldBytes?: number;
    /** Bytes one sender's held records may take; default maxHeldBytes / 10. */
    maxHeldBytesPerSource?: number;
    /** A held record older than this gives way when the area or its sender's share is full (spec/node.md §3.1); 0 = never. */
    heldTtlMs: number;
    maxSkewMs: number;
    /** Longest a matching plan may take in its worker before it is stopped and the request answered 503 (spec/node.md §Matching proposals). */
    matchBudgetMs?: number;
    /** A plan younger than this is served even if the state has moved on since (its own version as ETag); 0 = always the current version (spec/node.md §6.1). */
    matchStaleMs?: number;
    /** Most old-generation heap of the matching worker, MiB: a plan that needs more is answered as over budget (spec/node.md §6.1). */
    matchHeapMb?: number;
    /** Live feed streams one client (`hub:<id>` or `addr:<ip>`) may hold open (spec/node.md §5.1). */
    streamsPerClient?: number;
    /** Live feed streams open in total. */
    streamsTotal?: number;
    /** Bytes of events queued for one live stream; a stream further behind is closed. */
    streamBufferBytes?: number;
    /** Bytes of state pages kept, per state version, in the state routes' cache (spec/node.md §6). */
    stateCacheBytes?: number;
    /** Longest a state snapshot is served before the state version is checked again (spec/node.md §6); 0: every request. */
    stateSnapshotMs?: number;
    /** State responses (/v1/state/{collection}) one client (`clientKey`) may have in flight (spec/node.md §6, §11); default 2. */
    stateReadsPerClient?: number;
    /** State responses in flight in total; default 16. */
    stateReadsTotal?: number;
    /** Bytes a second of state answers to one reader that is not named (spec/node.md §6); 0: not paced. */
    stateBytesPerSecond?: number;
    /** Bytes a second of state answers to all readers that are not named, together. */
    stateBytesTotalPerSecond?: number;
    /** Join codes open or pending at once (spec/node.md §7.1); default 100. */
    joinCodes?: number;
    /** Public intake form (spec/node.md §8.7): largest body, bytes; default 16384. */
    intakeBodyBytes?: number;
    /** Submissions one client may make an hour, and in a burst; defaults 30 and 10 (0 = no per-client limit). */
    intakePerHour?: number;
    intakeBurst?: number;
    /** Undecided (pending or verified) submissions kept at once, in rows and in bytes; defaults 1000 and 4194304. */
    intakePending?: number;
    intakePendingBytes?: number;
  };
  federation: {
    pushBatch: number;
    pushParallel: number;
    pullIntervalMs: number;
    pullPage: number;
    /** Deadline of one whole exchange with a peer: request, headers and body (spec/node.md §9). */
    requestTimeoutMs: number;
    /** Largest answer read from a peer; a longer one is cut while it is read (spec/node.md §9). */
    maxAnswerBytes: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    parkAfter: number;
    parkMs: number;
  };
  /** Longest lifetime of a bearer token, per scope (spec/node.md §8). */
  tokens: {
    maxTtlOperatorSeconds: number;
    maxTtlSubscriberSeconds: number;
  };
  /** Sealed parts (spec/node.md §8.6). */
  privacy: {
    /** Sealed parts of needs closed more than this many days ago are erased; 0 = kept. */
    sealedRetentionDays: number;
    /** How often the retention job runs (milliseconds, off the request path). */
    retentionEveryMs: number;
  };
  checkpointEvery: number;
  /** Above this many records no resolver snapshot is written (see HubNode.checkpoint); 0: no cap. */
  checkpointMaxRecords: number;
  /**
   * Finished objects (spec/resolution.md §11) leave the resolver's memory for the store's `finished`
   * table once commits pause, and come back when a record or a read needs them (spec/node.md §10.4).
   * SQLite only; no checkpoints are written while it is on (a start replays). Default off until measured.
   */
  letGoFinished: boolean;
}

export const DEFAULTS: Omit<NodeConfig, 'name' | 'level' | 'region' | 'roots'> = {
  host: '127.0.0.1',
  port: 7420,
  publicRead: true,
  limits: {
    bodyBytes: 8 * 1024 * 1024,
    bodyBytesInFlight: 16 * 1024 * 1024,
    batchRecords: 2000,
    ratePerSecond: 200,
    rateBurst: 400,
    unstoredBytesPerSecond: 1 << 20,
    unstoredBytesBurst: 4 << 20,
    unstoredBytesTotalPerSecond: 4 << 20,
    unstoredBytesTotalBurst: 16 << 20,
    maxHeld: 100_000,
    maxHeldBytes: 256 * 1024 * 1024,
    heldTtlMs: 7 * 24 * 3600 * 1000,
    maxSkewMs: 10 * 60 * 1000,
    matchBudgetMs: 10_000,
    matchStaleMs: 5_000,
    matchHeapMb: 256,
    streamsPerClient: 8,
    streamsTotal: 1000,
    streamBufferBytes: 4 * 1024 * 1024,
    stateCacheBytes: 64 * 1024 * 1024,
    stateSnapshotMs: 5000,
    stateReadsPerClient: 8,
    stateReadsTotal: 32,
    stateBytesPerSecond: 4 << 20,
    stateBytesTotalPerSecond: 16 << 20,
  },
  federation: {
    pushBatch: 500,
    pushParallel: 4,
    pullIntervalMs: 30_000,
    pullPage: 1000,
    requestTimeoutMs: 10_000,
    maxAnswerBytes: 32 * 1024 * 1024,
    backoffBaseMs: 500,
    backoffMaxMs: 60_000,
    parkAfter: 8,
    parkMs: 5 * 60_000,
  },
  tokens: {
    maxTtlOperatorSeconds: 30 * 86400,
    maxTtlSubscriberSeconds: 365 * 86400,
  },
  privacy: {
    sealedRetentionDays: 90,
    retentionEveryMs: 3600_000,
  },
  checkpointEvery: 1000,
  checkpointMaxRecords: 500_000,
  letGoFinished: false,
};

export const CONFIG_FILE = 'config.json';
export const KEY_FILE = 'hub.key.json';
export const DB_FILE = 'hub.db';

export type ConfigOverrides = Partial<Omit<NodeConfig, 'limits' | 'federation' | 'tokens' | 'privacy'>> & {
  privacy?: Partial<NodeConfig['privacy']>;
  limits?: Partial<NodeConfig['limits']>;
  federation?: Partial<NodeConfig['federation']>;
  tokens?: Partial<NodeConfig['tokens']>;
};

/** SHUNIU_* environment variables that override the file (flags override both). */
export function envOverrides(env: NodeJS.ProcessEnv = process.env): ConfigOverrides {
  const o: ConfigOverrides = {};
  const num = (k: string) => {
    const v = env[k];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new ShuniuError('E_ARGUMENT', `${k} must be a non-negative integer`);
    return n;
  };
  if (env.SHUNIU_HOST) o.host = env.SHUNIU_HOST;
  const port = num('SHUNIU_PORT');
  if (port !== undefined) o.port = port;
  if (env.SHUNIU_PUBLIC_URL) o.publicUrl = env.SHUNIU_PUBLIC_URL;
  if (env.SHUNIU_STORE) o.store = env.SHUNIU_STORE;
  if (env.SHUNIU_PUBLIC_READ) o.publicRead = env.SHUNIU_PUBLIC_READ !== 'false' && env.SHUNIU_PUBLIC_READ !== '0';
  if (env.SHUNIU_LET_GO_FINISHED) o.letGoFinished = env.SHUNIU_LET_GO_FINISHED !== 'false' && env.SHUNIU_LET_GO_FINISHED !== '0';
  const pull = num('SHUNIU_PULL_INTERVAL_MS');
  if (pull !== undefined) o.federation = { pullIntervalMs: pull };
  const rate = num('SHUNIU_RATE_PER_SECOND');
  const body = num('SHUNIU_BODY_BYTES');
  if (rate !== undefined || body !== undefined)
    o.limits = { ...(rate !== undefined ? { ratePerSecond: rate } : {}), ...(body !== undefined ? { bodyBytes: body } : {}) };
  return o;
}

export function mergeConfig(base: NodeConfig, o: ConfigOverrides): NodeConfig {
  return {
    ...base,
    ...Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'limits' && k !== 'federation' && k !== 'tokens' && k !== 'privacy')),
    limits: { ...base.limits, ...o.limits },
    federation: { ...base.federation, ...o.federation },
    tokens: { ...base.tokens, ...o.tokens },
    privacy: { ...base.privacy, ...o.privacy },
  };
}

export function readConfig(dir: string): NodeConfig {
  let raw: string;
  try {
    raw = readFileSync(join(dir, CONFIG_FILE), 'utf8');
  } catch (cause) {
    throw new ShuniuError('E_NOT_FOUND', `no ${CONFIG_FILE} in ${dir}: run \`shuniu init\` first`, { cause });
  }
  const file = JSON.parse(raw) as ConfigOverrides & Pick<NodeConfig, 'name' | 'level' | 'region' | 'roots'>;
  return mergeConfig({ ...DEFAULTS, name: file.name, level: file.level, region: file.region, roots: file.roots ?? [] }, file);
}
