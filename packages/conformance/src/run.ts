import { Client } from './client.js';
import { type CheckResult, Harness } from './harness.js';
import { DEFAULT_SPEC_DIR } from './spec.js';
import { runSuite } from './suite.js';

export interface ConformanceOptions {
  /** The node's base URL, e.g. http://127.0.0.1:7420 */
  url: string;
  /** An operator bearer token of that node (admissions, sealed parts, the holding area). */
  operatorToken?: string;
  /** spec/ directory to read vectors and tables from (default: this repository's). */
  specDir?: string;
  /** Receives TAP lines. */
  write?: (line: string) => void;
  /** Known failures of the node under test: check id (`group/name`) → reason (reported as TODO). */
  knownFailures?: Record<string, string>;
  /** Run only the checks whose id contains one of these strings. */
  only?: string[];
}

export interface ConformanceReport {
  results: CheckResult[];
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  summary: string;
  junit: string;
  requests: number;
}

/** Runs every check against the node at `url`; never throws for a failing check. */
export async function runConformance(opts: ConformanceOptions): Promise<ConformanceReport> {
  const h = new Harness({
    ...(opts.write ? { write: opts.write } : {}),
    ...(opts.knownFailures ? { knownFailures: opts.knownFailures } : {}),
    ...(opts.only ? { only: opts.only } : {}),
  });
  const client = new Client(opts.url.endsWith('/') ? opts.url : `${opts.url}/`, opts.operatorToken);
  try {
    await runSuite({ client, h, specDir: opts.specDir ?? DEFAULT_SPEC_DIR });
  } catch (e) {
    // A bug of the suite, or a node that stopped answering: one failure, not a crash.
    h.begin('suite');
    await h.check('the suite ran to its end', () => {
      throw e;
    });
  }
  const summary = h.finish();
  return { results: h.results, ...h.counts(), summary, junit: h.junit(), requests: client.requests };
}
