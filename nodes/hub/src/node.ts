import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import {
  Author,
  assumeVerified,
  type BodyOf,
  createHub,
  encryptionKeyPairFromSeed,
  formatTimestamp,
  type HubLevel,
  type HubSeeds,
  type KeyPair,
  publicKeysOf,
  ready,
  recordId,
  ShuniuError,
  signingKeyPairFromSeed,
} from '@shuniu/protocol';
import type { AdmissionEdge, HubState } from '@shuniu/resolve';
import { Hono } from 'hono';
import { ensureTokenKeyFile, fileTokenKey, TokenAuth, tokenLimitsOf } from './auth.js';
import { type CheckpointRun, checkpointInWorker } from './checkpoint.js';
import { readCheckpoint, readCheckpointHeader, removeCheckpoint, writeCheckpoint, writeOpenCheckpoint } from './checkpoint-file.js';
import { CONFIG_FILE, type ConfigOverrides, DB_FILE, DEFAULTS, envOverrides, KEY_FILE, mergeConfig, type NodeConfig, readConfig } from './config.js';
import { Federation, type FederationEvents } from './federation.js';
import { DIR_MODE, FILE_MODE, keyFileText, RECOVERY_KEY_FILE, readKeyFile, recoveryKeyText, secureDataDir, writePrivateFile } from './files.js';
import { accessControl, principalOf, tokenPrincipal } from './http/access.js';
import { bodiesInFlight, drainUnread, limitBody, rateLimit, unstoredBytes } from './http/body.js';
import { LiveFeed } from './http/live-feed.js';
import { matchRoutes } from './http/match-routes.js';
import { clientKey, inceptionKey, peerAuth } from './http/peer-auth.js';
import { onError, problemResponse } from './http/problem.js';
import { bundleRoutes } from './http/routes/bundle.js';
import { consoleRoutes } from './http/routes/console.js';
import { discoveryRoutes } from './http/routes/discovery.js';
import { exportRoutes } from './http/routes/export.js';
import { feedRoutes } from './http/routes/feed.js';
import { INTAKE_DEFAULTS, intakeRoutes } from './http/routes/intake.js';
import { joinRoutes } from './http/routes/join.js';
import { openApiDocument } from './http/routes/openapi.js';
import { operatorRoutes } from './http/routes/operator.js';
import { recordRoutes } from './http/routes/records.js';
import { StateCache, stateRoutes } from './http/routes/state.js';
import { tokenRoutes } from './http/routes/tokens.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { sealedReaders as sealedReadersOf } from './http/sealed.js';
import { Ingestor } from './ingest.js';
import { JOIN_CODES_DEFAULT, JoinCodes } from './join.js';
import { MatchService, type MatchSource } from './match-service.js';
import { Privacy } from './privacy.js';
import { Publisher } from './publisher.js';
import { type Runtime, runtimeOf } from './runtime.js';
import { defaultStateFactory, letGoStateFactory, type StateEngine, type StateFactory, storedRecord } from './state.js';
import { SqliteObjectStore } from './store/finished.js';
import { type NodeStore, openStore } from './store/open.js';
import { PostgresStore } from './store/postgres.js';
import { SqliteStore } from './store/sqlite.js';
import { TokenRecords } from './tokens.js';
import { Trust } from './trust.js';
import { VerifyPool } from './verify-pool.js';
import { Webhooks } from './webhooks.js';

export interface OpenOptions {
  overrides?: ConfigOverrides;
  /** Federation progress and log lines. */
  events?: FederationEvents;
  /** Verification threads (default: one per core). */
  threads?: number;
  state?: StateFactory;
  log?: (msg: string) => void;
  /**
   * Transport, clock, timers and randomness (runtime.ts) for federation, ingest, the live feed,
   * peer signatures, tokens and the records this node signs: the real ones unless given (test/sim).
   */
  runtime?: Partial<Runtime>;
}

/**
 * A running hub node over one data directory (spec/node.md).
 *
 * @example
 * const node = await HubNode.open('/var/lib/shuniu')
 * const url = await node.listen()
 */
export class HubNode {
  readonly app: Hono;
  readonly federation: Federation;
  /** The live feed's shared reader and stream caps (spec/node.md §5.1); its counters are for tests and benchmarks. */
  readonly liveFeed: LiveFeed;
  /** The state routes' page cache (spec/node.md §6); its counters are for tests and benchmarks. */
  readonly stateCache: StateCache;
  /** Private fields: sealing, opening, erasure and retention (spec/node.md §8.5-8.6). */
  readonly privacy: Privacy | undefined;
  private retention: ReturnType<typeof setInterval> | undefined;
  private server: ServerType | undefined;
  /** The matching worker behind /v1/match/proposals (its `stats` count plans and cached pages). */
  matchService: MatchService | undefined;
  /** Outbound webhooks for operator events (spec/node.md §15): their delivery log is for the console and tests. */
  webhooks!: Webhooks;
  private url: string | undefined;
  private closingResolve!: () => void;
  private readonly closing = new Promise<void>((r) => {
    this.closingResolve = r;
  });

  private constructor(
    readonly dir: string,
    readonly config: NodeConfig,
    readonly hubId: string,
    readonly store: NodeStore,
    readonly ingestor: Ingestor,
    readonly publisher: Publisher,
    readonly auth: TokenAuth,
    readonly trust: Trust,
    private readonly pool: VerifyPool,
    readonly stateFactory: StateFactory,
    events: FederationEvents,
    private readonly log: (msg: string) => void,
    /** The record-signing secret key: every request to a peer is signed with it (spec/node.md §9.4). */
    secretKey: Uint8Array,
    /** The hub's encryption key pair: opens sealed parts addressed to it (spec/node.md §8.5). */
    encryption: KeyPair | undefined,
    readonly runtime: Runtime,
  ) {
    this.privacy = encryption ? new Privacy({ hubId, store, ingestor, publisher, encryption }) : undefined;
    this.federation = new Federation(
      store,
      ingestor,
      config.federation,
      { hubId, url: () => this.publicUrl(), secretKey },
      events,
      (h) => trust.isTrusted(h),
      runtime,
    );
    const l = config.limits;
    this.liveFeed = new LiveFeed(
      store,
      {
        streamsPerClient: l.streamsPerClient ?? 8,
        streamsTotal: l.streamsTotal ?? 1000,
        streamBufferBytes: l.streamBufferBytes ?? 4 * 1024 * 1024,
      },
      runtime.timers,
    );
    this.stateCache = new StateCache(l.stateCacheBytes ?? 64 * 1024 * 1024, l.stateSnapshotMs ?? 5000, {
      ...(l.stateReadsPerClient !== undefined ? { readsPerClient: l.stateReadsPerClient } : {}),
      ...(l.stateReadsTotal !== undefined ? { readsTotal: l.stateReadsTotal } : {}),
      bytesPerSecond: l.stateBytesPerSecond ?? 4 << 20,
      bytesTotalPerSecond: l.stateBytesTotalPerSecond ?? 16 << 20,
    });
    this.app = this.buildApp();
    ingestor.onCommit((max) => this.maybeCheckpoint(max));
    // The resolver's upkeep after commits, once they pause for 100 ms (and at least every second while
    // they do not), in work proportional to them: its views and state hash brought up to date (else the
    // first reader after a large ingest pays for all of it at once on the main thread: 60,000 needs,
    // tens of megabytes and over half a second answering nothing), and with letGoFinished its finished
    // objects leaving memory (spec/node.md §10.4). Not after every commit: a busy ingest would
    // re-derive the same groups and re-hash the same buckets again and again.
    ingestor.onCommit(() => {
      const now = performance.now();
      this.lastCommitMs = now;
      if (this.resolving !== undefined) return;
      this.resolving = now;
      const tick = () => {
        const t = performance.now();
        if (this.closed) return;
        if (t - (this.lastCommitMs ?? 0) < 100 && t - (this.resolving ?? t) < 1000) {
          setTimeout(tick, 100).unref();
          return;
        }
        this.resolving = undefined;
        if (this.config.letGoFinished) this.ingestor.engine.letGo?.();
        this.ingestor.engine.stateHash();
      };
      setTimeout(tick, 100).unref();
    });
    // Several processes on one PostgreSQL database: what the others commit reaches this one's resolver, live feed and push queues.
    if (store instanceof PostgresStore) store.onForeign((from, to) => this.applyForeign(store, from, to));
  }

  static async open(dir: string, opts: OpenOptions = {}): Promise<HubNode> {
    await ready();
    // The directory and every file in it private, whatever an older version or a copy left (spec/node.md §11).
    secureDataDir(dir);
    const config = mergeConfig(mergeConfig(readConfig(dir), envOverrides()), opts.overrides ?? {});
    const runtime = runtimeOf(opts.runtime);
    // The node needs its signing and encryption seeds only; the recovery seed lives offline (spec/keys.md §5).
    const keyFile = readKeyFile(dir);
    const signing = signingKeyPairFromSeed(keyFile.signing);
    const store = openStore(dir, config.store);
    secureDataDir(dir);
    const hubId = keyFile.hub;
    // Finished objects out of memory (spec/node.md §10.4): on SQLite with the reference resolver; a start reads the
    // open-state checkpoint written at shutdown (else replays), and removes it once read (the table changes from then on).
    const letGo = config.letGoFinished && store instanceof SqliteStore && opts.state === undefined;
    if (config.letGoFinished && !letGo) config.letGoFinished = false;
    if (letGo && store.checkpoint()) store.clearCheckpoint();
    const factory = opts.state ?? (letGo ? letGoStateFactory(new SqliteObjectStore((store as SqliteStore).db)) : defaultStateFactory);
    // One trust (spec/node.md §7): the admissions that count, minus the blocked hubs.
    // Called once the ingestor exists (trust.recompute below), always on its current engine.
    const trust: Trust = new Trust(config.roots, hubId, store, (): AdmissionEdge[] => ingestor.engine.admissionEdges());
    const pool = new VerifyPool({ ...(opts.threads === undefined ? {} : { threads: opts.threads }), verify: runtime.verify });
    const loadState = () => HubNode.loadState(dir, store, config.roots, factory);
    const ingestor: Ingestor = new Ingestor(
      store,
      pool,
      trust,
      loadState(),
      {
        maxSkewMs: config.limits.maxSkewMs,
        maxHeld: config.limits.maxHeld,
        ...(config.limits.maxHeldPerSource !== undefined ? { maxHeldPerSource: config.limits.maxHeldPerSource } : {}),
        ...(config.limits.maxHeldBytes !== undefined ? { maxHeldBytes: config.limits.maxHeldBytes } : {}),
        ...(config.limits.maxHeldBytesPerSource !== undefined ? { maxHeldBytesPerSource: config.limits.maxHeldBytesPerSource } : {}),
        heldTtlMs: config.limits.heldTtlMs,
        now: runtime.now,
      },
      loadState,
    );
    if (letGo) removeCheckpoint(dir);
    trust.recompute();
    const view = store.chainView(hubId);
    if (!view) throw new ShuniuError('E_NOT_FOUND', `the store in ${dir} does not hold this hub's inception`);
    const author = new Author({
      hub: hubId,
      secretKey: signing.secretKey,
      head: { seq: view.head.seq, id: view.head.id, hlc: view.head.hlc },
      wall: runtime.now,
    });
    // On PostgreSQL several processes may sign as this hub: one at a time, each from the stored head.
    const publisher = new Publisher(author, store, ingestor, store instanceof PostgresStore ? store : undefined);
    // Bearer tokens: their own key file (made here for data directories older than it), every token recorded (spec/node.md §8).
    ensureTokenKeyFile(dir);
    const auth = new TokenAuth(hubId, fileTokenKey(dir), { records: new TokenRecords(store.db), limits: tokenLimitsOf(config.tokens), now: runtime.now });
    const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    if (existsSync(join(dir, RECOVERY_KEY_FILE)))
      log(`warning: ${join(dir, RECOVERY_KEY_FILE)} is still on this server: move it offline (spec/node.md §11); the node does not need it`);
    if (keyFile.legacyRecoverySeed)
      log(
        `warning: ${join(dir, KEY_FILE)} holds recoverySeed: copy that member to a recovery key file kept offline, then remove it from this server's copy (spec/node.md §11)`,
      );
    return new HubNode(
      dir,
      config,
      hubId,
      store,
      ingestor,
      publisher,
      auth,
      trust,
      pool,
      factory,
      opts.events ?? {},
      log,
      signing.secretKey,
      encryptionKeyPairFromSeed(keyFile.encryption),
      runtime,
    );
  }

  /** State from the last checkpoint plus the records stored after it (spec/node.md §10.4). */
  private static loadState(dir: string, store: NodeStore, roots: string[], factory: StateFactory): StateEngine {
    // The checkpoint file (written off the main thread), else the row older versions wrote.
    const legacy = (): { ord: number; snapshot: unknown } | undefined => {
      const row = store.checkpoint();
      return row ? { ord: row.ord, snapshot: JSON.parse(row.snapshot) } : undefined;
    };
    let state: StateEngine;
    let after = 0;
    let cp: { ord: number; snapshot: unknown } | undefined;
    try {
      cp = readCheckpoint(dir, (ord) => store.since(ord - 1, 1).find((r) => r.ord === ord)?.id) ?? legacy();
      state = factory(roots, cp?.snapshot);
      after = cp?.ord ?? 0;
    } catch {
      // A snapshot this version cannot read is rebuilt from the records.
      state = factory(roots);
    }
    for (;;) {
      const rows = store.since(after, 5000);
      if (rows.length === 0) break;
      for (const r of rows) state.apply(storedRecord(r.json, r.id));
      after = (rows[rows.length - 1] as { ord: number }).ord;
    }
    return state;
  }

  /** Records `from < ord <= to` committed by another node process on the same database, applied here. */
  private applyForeign(store: PostgresStore, from: number, to: number): void {
    if (this.closed) return;
    try {
      for (let after = from; after < to; ) {
        const rows = store.since(after, 5000).filter((r) => r.ord <= to);
        if (rows.length === 0) break;
        this.ingestor.applyCommitted(rows, to);
        after = (rows[rows.length - 1] as { ord: number }).ord;
      }
    } catch (e) {
      this.log(`records committed by another process not applied yet: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /** The ord of the last checkpoint written (read once), and the checkpoint being written. */
  private checkpointOrd: number | undefined;
  private checkpointRun: CheckpointRun | undefined;
  private closed = false;
  /** When the resolver's upkeep after commits was scheduled (see the constructor), and the last commit. */
  private resolving: number | undefined;
  private lastCommitMs: number | undefined;

  /**
   * The resolver's snapshot holds the whole state, so checkpoints come after
   * max(checkpointEvery, size at the last checkpoint) new records: writing
   * them stays linear in the number of records overall. Never on the
   * request path: the commit that triggers one only starts its worker.
   */
  private maybeCheckpoint(max: number): void {
    // On PostgreSQL a start replays the records table (the checkpoint worker reads SQLite files only).
    if (this.config.checkpointEvery <= 0 || this.checkpointRun || this.closed || this.store instanceof PostgresStore || this.config.letGoFinished) return;
    this.checkpointOrd ??= readCheckpointHeader(this.dir)?.ord ?? this.store.checkpoint()?.ord ?? 0;
    const at = this.checkpointOrd;
    if (max - at < Math.max(this.config.checkpointEvery, at)) return;
    void this.checkpoint();
  }

  /**
   * Saves the resolver snapshot with the ingest order it covers, in the
   * checkpoint file (checkpoint-file.ts), so that a start reads it and
   * applies only the records after it (spec/node.md §10.4). A worker writes
   * it (checkpoint-worker.ts): it opens the database read-only, loads the
   * previous checkpoint, applies the records after it up to this ord and
   * writes the file; the main thread only starts it (issue 11 point 6:
   * written on the main thread it blocked the node 2.3-3.9 s at 100,000
   * records, ~25 s at 1,000,000). Above `checkpointMaxRecords` (default
   * 500,000; 0 = no cap) no snapshot is kept (one JSON text near V8's longest
   * string) and a start replays the records table. A checkpoint that fails
   * is logged; the previous one stays valid. With a state factory other
   * than the reference resolver's the snapshot is written here, as before.
   */
  checkpoint(): Promise<void> {
    // Letting finished objects go, a snapshot would load them all back: none is kept (docs/scale-memory.md step 4).
    if (this.config.letGoFinished) return Promise.resolve();
    if (this.checkpointRun) return this.checkpointRun.done.then(() => {});
    const max = this.store.maxOrd();
    const cap = this.config.checkpointMaxRecords;
    if (cap > 0 && max > cap) {
      removeCheckpoint(this.dir);
      if (this.store.checkpoint()) this.store.clearCheckpoint();
      this.checkpointOrd = 0;
      return Promise.resolve();
    }
    const id = this.store.since(max - 1, 1).find((r) => r.ord === max)?.id;
    if (id === undefined || max <= (this.checkpointOrd ?? 0)) return Promise.resolve();
    if (this.stateFactory !== defaultStateFactory) {
      try {
        writeCheckpoint(this.dir, { ord: max, id }, JSON.stringify(this.ingestor.engine.toJSON()));
        this.checkpointOrd = max;
      } catch (e) {
        this.log(`checkpoint at ord ${max} skipped: ${(e as Error)?.message ?? String(e)}`);
      }
      return Promise.resolve();
    }
    const run = checkpointInWorker({ dir: this.dir, dbPath: join(this.dir, DB_FILE), roots: [...this.config.roots], ord: max });
    this.checkpointRun = run;
    return run.done.then((r) => {
      if (this.checkpointRun === run) this.checkpointRun = undefined;
      if (!r.ok) {
        if (!this.closed) this.log(`checkpoint at ord ${max} skipped: ${r.message}`);
        return;
      }
      this.checkpointOrd = r.ord;
      // The row older versions kept is superseded by the file.
      if (!this.closed && this.store.checkpoint()) this.store.clearCheckpoint();
    });
  }

  publicUrl(): string {
    return this.config.publicUrl ?? this.url ?? `http://${this.config.host}:${this.config.port}`;
  }

  private buildApp(): Hono {
    const app = new Hono();
    const { store, ingestor, config } = this;
    app.onError(onError((m, e) => this.log(`error ${m}: ${(e as Error)?.stack ?? String(e)}`)));
    app.notFound((c) => problemResponse(c, new ShuniuError('E_NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));
    const addr = (c: Parameters<typeof getConnInfo>[0]) => {
      // A request handed to app.request (tests, the simulator) has no socket: answered without the throw.
      const env = c.env as { server?: { incoming?: unknown }; incoming?: unknown } | undefined;
      if (!(env?.server ?? env)?.incoming) return 'in-process';
      try {
        return getConnInfo(c).remote.address ?? 'unknown';
      } catch {
        return 'in-process';
      }
    };
    app.use('*', drainUnread(config.limits.bodyBytes));
    // Large bodies handled at once are bounded in bytes, before any is read (spec/node.md §7 Limits).
    app.use('*', bodiesInFlight({ budget: config.limits.bodyBytesInFlight ?? 16 << 20, max: config.limits.bodyBytes }));
    // Signed peer requests first (spec/node.md §9.4): limits and shares count per hub for them.
    app.use(
      '*',
      peerAuth({
        keyOf: (hub) =>
          store.chainView(hub)?.keys.signingKey ??
          inceptionKey(
            hub,
            store.heldFor(hub, 0).map((h) => JSON.parse(h.json)),
          ),
        maxBodyBytes: config.limits.bodyBytes,
        authorities: () => [new URL(this.publicUrl()).host.toLowerCase()],
        now: this.runtime.now,
        verify: this.runtime.verify,
      }),
    );
    app.use('/v1/*', rateLimit({ rate: config.limits.ratePerSecond, burst: config.limits.rateBurst, keyOf: (c) => clientKey(c, addr(c)) }));
    app.use('/v1/*', limitBody(config.limits.bodyBytes));
    // Who is asking (a verified peer stays one; else the bearer token), then the one access rule (spec/node.md §8.1).
    app.use('*', tokenPrincipal(this.auth));
    app.use('*', accessControl({ publicRead: config.publicRead, trusted: (h) => this.trust.isTrusted(h) }));
    // Pushed records the node does not store are bounded in bytes a second, per client and in all (spec/node.md §7).
    const lim = config.limits;
    app.post(
      '/v1/records',
      unstoredBytes({
        rate: lim.unstoredBytesPerSecond ?? 0,
        burst: lim.unstoredBytesBurst ?? 4 << 20,
        totalRate: lim.unstoredBytesTotalPerSecond ?? 0,
        totalBurst: lim.unstoredBytesTotalBurst ?? 16 << 20,
        keyOf: (c) => clientKey(c, addr(c)),
        exempt: (c) => {
          const p = principalOf(c);
          return p.kind === 'operator' || (p.kind === 'peer' && this.trust.isTrusted(p.hub));
        },
      }),
    );
    // Sealed parts for operators and trusted peers only; every other read strips them (spec/node.md §8.1).
    const sealedReaders = sealedReadersOf((h) => this.trust.isTrusted(h));
    app.route(
      '/',
      discoveryRoutes({
        hubId: this.hubId,
        keys: () => this.store.chainView(this.hubId)?.keys ?? { signingKey: '', encryptionKey: '' },
        profile: () => this.store.hubProfiles().find((h) => h.hub === this.hubId)?.profile ?? null,
        roots: () => [...config.roots],
        publicUrl: () => this.publicUrl(),
        tokenJwk: () => {
          try {
            return this.auth.publicJwk;
          } catch {
            return undefined;
          }
        },
        publicRead: config.publicRead,
      }),
    );
    app.route(
      '/',
      recordRoutes({
        store,
        ingestor,
        maxBatch: config.limits.batchRecords,
        // An authenticated peer is `hub:<id>`, anyone else `addr:<ip>`; the `shuniu-peer` header counts for nothing.
        sourceOf: (c) => clientKey(c, addr(c)),
        sealedReaders,
      }),
    );
    app.route('/', feedRoutes({ store, ingestor, closing: this.closing, sealedReaders, live: this.liveFeed, clientOf: (c) => clientKey(c, addr(c)) }));
    app.route('/', stateRoutes({ store, ingestor, trust: this.trust, cache: this.stateCache }));
    app.route(
      '/',
      operatorRoutes({
        publisher: this.publisher,
        store,
        hubId: this.hubId,
        onPeersChanged: () => this.federation.kickAll(),
        onBlocksChanged: () => this.ingestor.blocksChanged(),
        ...(this.privacy ? { privacy: this.privacy } : {}),
      }),
    );
    // Needs from groups that run no node: public intake form, verification queue, tracking (spec/node.md §8.7).
    app.route(
      '/',
      intakeRoutes({
        store,
        publisher: this.publisher,
        ...(this.privacy ? { privacy: this.privacy } : {}),
        need: (id) => ingestor.engine.need(id),
        clientOf: (c) => clientKey(c, addr(c)),
        publicUrl: () => this.publicUrl(),
        limits: {
          bodyBytes: lim.intakeBodyBytes ?? INTAKE_DEFAULTS.bodyBytes,
          perHour: lim.intakePerHour ?? INTAKE_DEFAULTS.perHour,
          burst: lim.intakeBurst ?? INTAKE_DEFAULTS.burst,
          pending: lim.intakePending ?? INTAKE_DEFAULTS.pending,
          pendingBytes: lim.intakePendingBytes ?? INTAKE_DEFAULTS.pendingBytes,
        },
      }),
    );
    // Join codes and admission requests (spec/node.md §7.1).
    app.route(
      '/',
      joinRoutes({
        codes: new JoinCodes(store.db, { hubId: this.hubId, max: config.limits.joinCodes ?? JOIN_CODES_DEFAULT }),
        publisher: this.publisher,
        store,
        hubId: this.hubId,
        standing: () => {
          const me = (ingestor.engine.collection('hubs') as { id: string; level?: HubLevel; region?: string }[] | undefined)?.find((h) => h.id === this.hubId);
          // Its admission's word once admitted (a root: its profile's); before that, its own config (the admission counts once this hub's does).
          return { root: config.roots.includes(this.hubId), level: me?.level ?? config.level, region: me?.region ?? config.region };
        },
        onPeersChanged: () => this.federation.kickAll(),
      }),
    );
    // Proposals are planned in a worker, once per state version, within limits.matchBudgetMs (spec/node.md §Matching proposals).
    this.matchService = new MatchService({
      // The engine behind the ingestor can be replaced (a reload): read it at each call.
      source: {
        clock: () => ingestor.engine.clock(),
        entries: ((name: 'needs' | 'offers' | 'conflicts') => ingestor.engine.entries(name)) as MatchSource['entries'],
      },
      version: () => ingestor.engine.stateHash(),
      budgetMs: config.limits.matchBudgetMs ?? 10_000,
      staleMs: config.limits.matchStaleMs ?? 5_000,
      heapMb: config.limits.matchHeapMb ?? 256,
    });
    app.route('/', matchRoutes({ service: this.matchService, hubs: () => (ingestor.engine.collection('hubs') ?? []) as HubState[] }));
    app.route('/', tokenRoutes({ records: new TokenRecords(store.db), kid: () => this.auth.kid }));
    // Offline bundles (spec/node.md §13).
    app.route('/', bundleRoutes({ store, ingestor, hubId: this.hubId }));
    // Exports for partners: HXL, EPCIS 2.0 (spec/node.md §14).
    app.route('/', exportRoutes({ store, ingestor, hubId: this.hubId }));
    // Outbound webhooks (spec/node.md §15).
    this.webhooks = new Webhooks({
      dir: this.dir,
      hubId: this.hubId,
      level: config.level,
      region: config.region,
      store,
      ingestor,
      match: () => this.matchService,
      log: (m) => this.log(m),
    });
    app.route('/', webhookRoutes({ webhooks: this.webhooks }));
    app.route('/', consoleRoutes());
    const openapi = openApiDocument(() => this.publicUrl());
    app.get('/v1/openapi.json', (c) => c.json(openapi() as object));
    // Counts for everyone; the trusted hubs for those who may read; peers, cursors and errors for operators (spec/node.md §8.1).
    app.get('/v1/status', (c) => {
      const p = principalOf(c);
      const who = p.kind;
      const reader = config.publicRead || who === 'operator' || who === 'subscriber' || (p.kind === 'peer' && this.trust.isTrusted(p.hub));
      return c.json({
        hub: this.hubId,
        records: store.maxOrd(),
        held: store.heldCount(),
        forks: store.forks().length,
        ...(reader ? { trusted: this.trust.list() } : {}),
        ...(who === 'operator'
          ? {
              peers: store.peers().map((p) => ({ url: p.url, role: p.role, cursor: p.cursor, failures: p.failures, parked: p.parked, lastError: p.lastError })),
              memory: this.memory(),
            }
          : {}),
      });
    });
    return app;
  }

  /** What the process holds, in MiB (spec/node.md §8.1, `GET /v1/status` for operators): what to watch on a small machine. */
  memory(): { rssMb: number; heapUsedMb: number; externalMb: number; matchWorkerHeapMb: number | null } {
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 2 ** 20);
    const plans = this.matchService?.stats;
    return {
      rssMb: mb(m.rss),
      heapUsedMb: mb(m.heapUsed),
      externalMb: mb(m.external),
      matchWorkerHeapMb: plans && plans.plans > 0 ? plans.lastPlanHeapMb : null,
    };
  }

  /** Serves on `port` (0 for any free port) and starts federation; resolves to the base URL. */
  async listen(port = this.config.port, host = this.config.host): Promise<string> {
    const info = await new Promise<AddressInfo>((resolve, reject) => {
      const server = serve({ fetch: this.app.fetch, port, hostname: host }, resolve);
      server.once('error', reject);
      this.server = server;
    });
    this.url = `http://${host}:${info.port}`;
    await this.start();
    return this.url;
  }

  /**
   * Starts the node's own work without serving HTTP: refreshes its profile's endpoint, starts
   * federation and the retention job. listen() calls it; a simulator (test/sim) that reaches
   * the node through `app.request` at its configured publicUrl calls it alone.
   */
  async start(): Promise<void> {
    await this.refreshProfile();
    this.federation.start();
    this.startRetention();
    this.webhooks.start();
  }

  /** Signs a new hub.profile when the URL peers reach us at changed (e.g. a new port). */
  private async refreshProfile(): Promise<void> {
    const current = this.store.hubProfiles().find((h) => h.hub === this.hubId)?.profile as BodyOf<'hub.profile'> | null;
    if (!current) return;
    const url = this.publicUrl();
    if (current.endpoints.length === 1 && current.endpoints[0] === url) return;
    await this.publisher.publish('hub.profile', { ...current, endpoints: [url] });
  }

  /**
   * The retention job (spec/node.md §8.6): every privacy.retentionEveryMs,
   * off the request path, erases sealed parts of needs closed more than
   * privacy.sealedRetentionDays ago.
   */
  private startRetention(): void {
    const { sealedRetentionDays: days, retentionEveryMs: every } = this.config.privacy;
    if (days <= 0 || every <= 0 || !this.privacy || this.retention) return;
    let running = false;
    this.retention = setInterval(() => {
      if (running) return;
      running = true;
      void this.runRetention()
        .catch((e: unknown) => this.log(`retention: ${(e as Error)?.message ?? String(e)}`))
        .finally(() => {
          running = false;
        });
    }, every);
    this.retention.unref();
  }

  /** One retention pass now; the ids erased. */
  async runRetention(now = Date.now()): Promise<string[]> {
    return this.privacy ? this.privacy.retain(this.config.privacy.sealedRetentionDays, now) : [];
  }

  async close(): Promise<void> {
    if (this.retention) clearInterval(this.retention);
    this.closingResolve();
    await this.webhooks.stop();
    await this.federation.stop();
    if (this.server) {
      const s = this.server;
      await new Promise<void>((r) => {
        s.close(() => r());
        (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    }
    // No snapshot written while closing (it grows with the data): one in progress is stopped, and the
    // next start replays the records after the last checkpoint (spec/node.md §10.4).
    this.closed = true;
    await this.checkpointRun?.cancel();
    await this.matchService?.close();
    await this.pool.close();
    // Letting finished objects go, the open state is written at shutdown (its size follows the open work), so that the next start need not replay.
    if (this.config.letGoFinished) {
      try {
        const engine = this.ingestor.engine;
        const max = this.store.maxOrd();
        writeOpenCheckpoint(
          this.dir,
          max,
          (ord) => this.store.since(ord - 1, 1).find((r) => r.ord === ord)?.id,
          () => engine.openSnapshot?.(),
        );
      } catch (e) {
        this.log(`open-state checkpoint not written (the next start replays): ${(e as Error)?.message ?? String(e)}`);
      }
    }
    this.store.close();
  }
}

export interface InitOptions {
  dir: string;
  name: string;
  level: HubLevel;
  region: string;
  /** Parent node URL: becomes a peer, its hub id the profile's parent, its roots ours. */
  parent?: string;
  /** Nodes to follow (pull from and push to) without being their child. */
  follow?: string[];
  roots?: string[];
  port?: number;
  host?: string;
  publicUrl?: string;
  now?: number;
  /** The hub's key seeds (default: random); a simulator passes seeded ones so that a run replays exactly. */
  seeds?: HubSeeds;
  /** How the parent and followed nodes are reached (default: fetch). */
  transport?: (url: string) => Promise<Response>;
}

/** Makes a data directory: key file (0600), config.json, database with hub.inception and hub.profile. */
export async function initDataDir(o: InitOptions): Promise<{ hubId: string; config: NodeConfig }> {
  await ready();
  if (existsSync(join(o.dir, KEY_FILE))) throw new ShuniuError('E_ARGUMENT', `${o.dir} already holds a hub (${KEY_FILE})`);
  if (existsSync(join(o.dir, RECOVERY_KEY_FILE)))
    throw new ShuniuError('E_ARGUMENT', `${o.dir} already holds a recovery key (${RECOVERY_KEY_FILE}): move it away first`);
  mkdirSync(o.dir, { recursive: true, mode: DIR_MODE });
  // An existing directory keeps its mode through mkdirSync: closed before anything secret is written to it.
  secureDataDir(o.dir);
  const now = o.now ?? Date.now();
  const hub = createHub({ created: formatTimestamp(Math.floor(now / 1000) * 1000), hlc: { ms: now, c: 0 }, ...(o.seeds ? { seeds: o.seeds } : {}) });
  // The node's key file holds no recovery seed: that goes to its own file, for the operator to move offline.
  writePrivateFile(join(o.dir, RECOVERY_KEY_FILE), recoveryKeyText(hub.id, hub.seeds.recovery, hub.keyFile.created), true);
  writePrivateFile(
    join(o.dir, KEY_FILE),
    keyFileText({ hub: hub.id, created: hub.keyFile.created, signing: hub.seeds.signing, encryption: hub.seeds.encryption }),
    true,
  );
  ensureTokenKeyFile(o.dir);

  let parentHub: string | undefined;
  const roots = new Set(o.roots ?? []);
  const upstream = [...(o.parent ? [o.parent] : []), ...(o.follow ?? [])];
  for (const url of upstream) {
    const res = await (o.transport ?? fetch)(`${url}/.well-known/shuniu`);
    if (!res.ok) throw new ShuniuError('E_NOT_FOUND', `${url}/.well-known/shuniu answered ${res.status}`);
    const wk = (await res.json()) as { hub: string; trust?: { roots?: string[] } };
    if (url === o.parent) parentHub = wk.hub;
    // Trust on first use: the upstream's roots become ours (spec/node.md §Trust).
    for (const r of wk.trust?.roots ?? []) roots.add(r);
  }
  if (roots.size === 0) roots.add(hub.id);

  const config: NodeConfig = {
    ...DEFAULTS,
    name: o.name,
    level: o.level,
    region: o.region,
    roots: [...roots],
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.publicUrl !== undefined ? { publicUrl: o.publicUrl } : {}),
  };
  writeFileSync(join(o.dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`, { mode: FILE_MODE });

  const store = new SqliteStore(join(o.dir, DB_FILE));
  try {
    const author = Author.fromNewHub(hub, () => now);
    const url = o.publicUrl ?? `http://${config.host}:${config.port}`;
    const profile = author.sign('hub.profile', {
      name: { zh: o.name },
      level: o.level,
      region: o.region,
      ...(parentHub ? { parent: parentHub } : {}),
      endpoints: [url],
    });
    const keys = publicKeysOf(hub.keys);
    store.transaction(() => {
      store.appendRecord(assumeVerified(hub.inception, recordId(hub.inception)), keys, { source: 'local', recovery: false, now });
      store.appendRecord(assumeVerified(profile.record, profile.id), keys, { source: 'local', recovery: false, now });
      if (o.parent) store.upsertPeer({ url: o.parent, role: 'parent', hub: parentHub ?? null });
      for (const f of o.follow ?? []) store.upsertPeer({ url: f, role: 'follow' });
    });
  } finally {
    store.close();
  }
  secureDataDir(o.dir);
  return { hubId: hub.id, config };
}
