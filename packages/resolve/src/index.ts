export { BucketMap } from './buckets.js';
export { DUPLICATE_WINDOW_MS, Resolver, type ResolverSnapshot } from './resolver.js';
export type * from './types.js';
