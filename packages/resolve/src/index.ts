export { type AdmissionEdge, admissionInScope, admittedHubs, LEVEL_RANK, regionScope } from './admission.js';
export { BucketMap } from './buckets.js';
export { DUPLICATE_WINDOW_MS } from './duplicates.js';
export { type FinishedSets, finishedObjects } from './finished.js';
export { MapObjectStore, type ObjectMap, type ObjectStore, type StoredObject } from './objects.js';
export { Resolver } from './resolver.js';
export type { ResolverSnapshot } from './snapshot.js';
export type * from './types.js';
export type { StateMapName } from './views.js';
