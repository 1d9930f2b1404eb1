export { type AdmissionEdge, admissionInScope, admittedHubs, LEVEL_RANK, regionScope } from './admission.js';
export { BucketMap } from './buckets.js';
export { DUPLICATE_WINDOW_MS, Resolver, type ResolverSnapshot, type ResolverSnapshotV1, type StateMapName } from './resolver.js';
export type * from './types.js';
