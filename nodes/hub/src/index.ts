/** @shuniu/hub: the reference hub node (spec/node.md). */
export { type Scope, TOKEN_KEY_FILE, TokenAuth, type TokenLimits } from './auth.js';
export { type ConfigOverrides, DEFAULTS, type NodeConfig, readConfig } from './config.js';
export { Federation, type FederationEvents } from './federation.js';
export { readKeyFile } from './files.js';
export { STATUS_OF } from './http/problem.js';
export { type Ack, Ingestor } from './ingest.js';
export { type JoinRequestBody, type JoinRequestFields, signJoinRequest } from './join.js';
export { HubNode, type InitOptions, initDataDir, type OpenOptions } from './node.js';
export { Publisher } from './publisher.js';
export { defaultStateFactory, ResolverState, type StateEngine, type StateFactory } from './state.js';
export { SqliteStore } from './store/sqlite.js';
export type { FeedFilter, HeldRow, PeerRow, Store, StoredRecord } from './store/types.js';
export { Trust } from './trust.js';
export { VerifyPool } from './verify-pool.js';
