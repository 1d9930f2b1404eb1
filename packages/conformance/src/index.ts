export { type Answer, assertProblem, Client, EventStream, type SseEvent } from './client.js';
export { type CheckResult, Harness, type HarnessOptions, type Outcome, Skip } from './harness.js';
export { type ConformanceOptions, type ConformanceReport, runConformance } from './run.js';
export { DEFAULT_SPEC_DIR, statusTable } from './spec.js';
