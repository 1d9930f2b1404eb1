// The vector format moved to spec/tools/resolution/vectors.ts (shared by the generator and the tests); this
// re-export keeps packages/resolve/test/schema.test.ts, which imports it from here, working.
export type { ResolutionVector } from '../../../spec/tools/resolution/vectors.js';
