/**
 * The suite's own runner: named checks in groups, run in order, reported as
 * TAP 14 while they run, JUnit XML at the end, and one summary line.
 */

export type Outcome = 'pass' | 'fail' | 'skip' | 'todo';

export interface CheckResult {
  group: string;
  name: string;
  outcome: Outcome;
  /** Why it failed, was skipped, or is a known failure. */
  message?: string;
  ms: number;
}

/** Thrown inside a check to skip it (e.g. no operator token). */
export class Skip extends Error {}

export interface HarnessOptions {
  /** Receives TAP lines (without newline). */
  write?: (line: string) => void;
  /**
   * Known failures of the node under test: check id (`group/name`) → reason.
   * Such a check that fails is reported `not ok … # TODO reason` and does
   * not count as failed; one that passes is reported as passing.
   */
  knownFailures?: Record<string, string>;
  /** Run only the checks whose id contains one of these strings (and the setup groups discovery and admission). */
  only?: string[];
}

const SETUP = ['discovery', 'admission'];

export class Harness {
  readonly results: CheckResult[] = [];
  private readonly write: (line: string) => void;
  private readonly known: Record<string, string>;
  private readonly only: string[] | undefined;
  group = '';
  /** The longest one check may take. */
  checkTimeoutMs = 60_000;

  constructor(opts: HarnessOptions = {}) {
    this.write = opts.write ?? (() => {});
    this.known = opts.knownFailures ?? {};
    this.only = opts.only?.length ? opts.only : undefined;
    this.write('TAP version 14');
  }

  /** Starts a group of checks (a TAP comment). */
  begin(group: string): void {
    this.group = group;
    this.write(`# ${group}`);
  }

  selected(name: string): boolean {
    const id = `${this.group}/${name}`;
    // Discovery and admission set up what every other check uses: they always run.
    return !this.only || SETUP.includes(this.group) || this.only.some((o) => id.includes(o));
  }

  /** Runs one check; returns whether it passed. */
  async check(name: string, fn: () => Promise<void> | void): Promise<boolean> {
    if (!this.selected(name)) return false;
    const id = `${this.group}/${name}`;
    const t0 = performance.now();
    let outcome: Outcome = 'pass';
    let message: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A node that never answers fails the check, not the whole run.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${this.checkTimeoutMs / 1000} s`)), this.checkTimeoutMs);
      });
      await Promise.race([Promise.resolve().then(fn), timeout]);
    } catch (e) {
      if (e instanceof Skip) {
        outcome = 'skip';
        message = e.message;
      } else {
        outcome = 'fail';
        message = e instanceof Error ? e.message : String(e);
      }
    }
    clearTimeout(timer);
    if (outcome === 'fail' && this.known[id] !== undefined) outcome = 'todo';
    const r: CheckResult = { group: this.group, name, outcome, ms: Math.round(performance.now() - t0), ...(message !== undefined ? { message } : {}) };
    this.results.push(r);
    this.report(r);
    return outcome === 'pass';
  }

  /** Records a check that cannot run. */
  skip(name: string, reason: string): void {
    if (!this.selected(name)) return;
    const r: CheckResult = { group: this.group, name, outcome: 'skip', message: reason, ms: 0 };
    this.results.push(r);
    this.report(r);
  }

  private report(r: CheckResult): void {
    const n = this.results.length;
    const title = `${r.group}: ${r.name}`.replace(/#/g, '\\#');
    const id = `${r.group}/${r.name}`;
    if (r.outcome === 'pass') this.write(`ok ${n} - ${title}`);
    else if (r.outcome === 'skip') this.write(`ok ${n} - ${title} # SKIP ${oneLine(r.message ?? '')}`);
    else if (r.outcome === 'todo') {
      this.write(`not ok ${n} - ${title} # TODO ${oneLine(this.known[id] ?? '')}`);
      this.yaml(r.message ?? '');
    } else {
      this.write(`not ok ${n} - ${title}`);
      this.yaml(r.message ?? '');
    }
  }

  private yaml(message: string): void {
    this.write('  ---');
    this.write('  message: |-');
    for (const l of message.split('\n')) this.write(`    ${l}`);
    this.write('  ...');
  }

  counts(): { passed: number; failed: number; skipped: number; todo: number } {
    const c = { passed: 0, failed: 0, skipped: 0, todo: 0 };
    for (const r of this.results) {
      if (r.outcome === 'pass') c.passed++;
      else if (r.outcome === 'fail') c.failed++;
      else if (r.outcome === 'skip') c.skipped++;
      else c.todo++;
    }
    return c;
  }

  /** Ends the TAP stream: the plan, then the summary line. Known failures count as skipped. */
  finish(): string {
    const c = this.counts();
    this.write(`1..${this.results.length}`);
    if (c.todo) this.write(`# ${c.todo} known failure(s) reported as TODO, counted as skipped`);
    const summary = `conformance: ${c.passed} passed, ${c.failed} failed, ${c.skipped + c.todo} skipped`;
    this.write(summary);
    return summary;
  }

  /** JUnit XML (one testsuite per group). */
  junit(): string {
    const groups = new Map<string, CheckResult[]>();
    for (const r of this.results) {
      const g = groups.get(r.group) ?? [];
      g.push(r);
      groups.set(r.group, g);
    }
    const c = this.counts();
    const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
    out.push(`<testsuites name="shuniu-conformance" tests="${this.results.length}" failures="${c.failed}" skipped="${c.skipped + c.todo}">`);
    for (const [group, rs] of groups) {
      const failures = rs.filter((r) => r.outcome === 'fail').length;
      const skipped = rs.filter((r) => r.outcome === 'skip' || r.outcome === 'todo').length;
      const time = rs.reduce((s, r) => s + r.ms, 0) / 1000;
      out.push(`  <testsuite name="${xml(group)}" tests="${rs.length}" failures="${failures}" skipped="${skipped}" time="${time.toFixed(3)}">`);
      for (const r of rs) {
        const open = `    <testcase classname="${xml(group)}" name="${xml(r.name)}" time="${(r.ms / 1000).toFixed(3)}"`;
        if (r.outcome === 'pass') out.push(`${open}/>`);
        else if (r.outcome === 'fail') out.push(`${open}><failure message="${xml(oneLine(r.message ?? ''))}">${xml(r.message ?? '')}</failure></testcase>`);
        else if (r.outcome === 'skip') out.push(`${open}><skipped message="${xml(oneLine(r.message ?? ''))}"/></testcase>`);
        else {
          const why = `known failure: ${this.known[`${r.group}/${r.name}`] ?? ''}`;
          out.push(`${open}><skipped message="${xml(oneLine(why))}">${xml(r.message ?? '')}</skipped></testcase>`);
        }
      }
      out.push('  </testsuite>');
    }
    out.push('</testsuites>');
    return `${out.join('\n')}\n`;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function xml(s: string): string {
  return (
    s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // XML 1.0 has no form for most control characters.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')
  );
}
